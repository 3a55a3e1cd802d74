// How a FastCGI route reads its config: fastcgi_index from `index`, the tryFiles script check, and
// $fastcgi_script_name.
import { expect } from 'chai';
import type { RouteConfig } from '../../../src/config/types.js';
import { parseLocation } from '../../../src/config/location-spec.js';
import { compileCgiRoute, scriptFilename, scriptName } from '../../../src/handler/cgi-request.js';
import type { RequestContext } from '../../../src/request/context.js';

const route = (over: Partial<RouteConfig> = {}): RouteConfig => ({ location: '~ \\.php(/|$)', proxy: 'fastcgi://127.0.0.1:9000', root: '/var/www', index: ['index.html'], ...over });

describe('compileCgiRoute', () => {
  it('uses index.php as fastcgi_index when the route sets no index, else the first one', () => {
    expect(compileCgiRoute('fastcgi', route(), undefined).index).to.equal('index.php');
    expect(compileCgiRoute('fastcgi', route({ index: ['app.php', 'index.php'] }), undefined).index).to.equal('app.php');
    expect(compileCgiRoute('uwsgi', route(), undefined).index).to.equal(undefined);
  });

  it('checks the script for tryFiles [$uri, =404] and [$fastcgi_script_name, =404] only', () => {
    expect(compileCgiRoute('fastcgi', route({ tryFiles: ['$uri', '=404'] }), undefined).missingScriptStatus).to.equal(404);
    expect(compileCgiRoute('fastcgi', route({ tryFiles: ['$fastcgi_script_name', '=403'] }), undefined).missingScriptStatus).to.equal(403);
    expect(compileCgiRoute('fastcgi', route(), undefined).missingScriptStatus).to.equal(undefined);
    expect(compileCgiRoute('fastcgi', route({ tryFiles: ['$uri', '/index.php'] }), undefined).missingScriptStatus).to.equal(undefined);
    expect(compileCgiRoute('uwsgi', route({ tryFiles: ['$uri', '=404'] }), undefined).missingScriptStatus).to.equal(undefined);
  });
});

describe('scriptName ($fastcgi_script_name)', () => {
  const r = compileCgiRoute('fastcgi', route(), undefined);
  const cases: Array<[string, string]> = [
    ['/index.php', '/index.php'],
    ['/index.php/foo/bar', '/index.php'],
    ['/a.php/b.php/c', '/a.php'],
    ['/sub/', '/sub/index.php'],
    ['/x.php.txt', '/x.php.txt'],
    ['/x.phpfoo/bar', '/x.phpfoo/bar'],
  ];
  for (const [uri, want] of cases) {
    it(`${uri} → ${want}`, () => expect(scriptName(uri, r)).to.equal(want));
  }
});

describe('scriptFilename under an alias (nginx $request_filename)', () => {
  const aliased = (location: string, alias: string) =>
    compileCgiRoute('fastcgi', route({ root: undefined, alias: { path: alias, location: parseLocation(location) } }), undefined);
  /** The one field scriptFilename reads of a request without a regex alias: its URI. */
  const request = (p: string) => ({ path: p }) as unknown as RequestContext;

  it('puts the alias in place of the location name, PATH_INFO split off', () => {
    const r = aliased('/app/', '/srv/app/');
    expect(scriptFilename(request('/app/who.php'), r)).to.equal('/srv/app/who.php');
    expect(scriptFilename(request('/app/sub/x.php/extra/path'), r)).to.equal('/srv/app/sub/x.php');
    expect(scriptFilename(request('/app/'), r)).to.equal('/srv/app/index.php');
  });

  it('refuses the off-by-slash climb that nginx would send to php-fpm', () => {
    const r = aliased('/php', '/srv/app/');
    expect(scriptFilename(request('/php/who.php'), r)).to.equal('/srv/app//who.php');
    expect(scriptFilename(request('/php../outside.php'), r)).to.equal(undefined);
    expect(scriptFilename(request('/php..'), r)).to.equal(undefined);
  });

  it('without an alias it is root + script name, as before', () => {
    expect(scriptFilename(request('/a/b.php'), compileCgiRoute('fastcgi', route(), undefined))).to.equal('/var/www/a/b.php');
  });
});
