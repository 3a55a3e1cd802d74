// Nested routes, matched as ngx_http_core_find_location does: the longest prefix's nested routes
// are searched first (static, then its regexes), then the regexes of each level above.
import { expect } from 'chai';
import type { RouteConfig } from '../../../src/config/types.js';
import type { CompiledSite } from '../../../src/router/types.js';
import { compileRoutes, route } from './fixture.js';

function pick(s: CompiledSite, path: string): string | undefined {
  return s.matchLocation(path)?.route.config.location;
}

function files(location: string, routes?: RouteConfig[]): RouteConfig {
  return route({ location, root: '/srv/www', ...(routes ? { routes } : {}) });
}

describe('router: nested locations', () => {
  const s = compileRoutes([
    files('/app/', [
      files('~ \\.php$'),
      files('/app/admin/', [files('~ \\.js$')]),
      files('^~ /app/raw/'),
      files('= /app/exact'),
      route({ location: '/app/api/', proxy: 'http://127.0.0.1:9000' }),
    ]),
    files('~ ^/u/(\\w+)/', [files('~ \\.txt$'), files('~ ^/u/\\w+/(\\w+)\\.md$')]),
    files('~ \\.php$'),
    files('~ \\.(js|css)$'),
    files('^~ /static/', [files('~ \\.map$')]),
    files('/'),
  ]);
  const cases: Array<[string, string, string]> = [
    ['/app/x.php', '~ \\.php$', "a nested regex is tried before the site's regexes"],
    ['/app/x.css', '~ \\.(js|css)$', "no nested regex matches: the site's regexes are tried"],
    ['/app/x.txt', '/app/', 'no regex at all: the deepest prefix'],
    ['/app/admin/a.js', '~ \\.js$', 'the innermost regexes first'],
    ['/app/admin/a.txt', '/app/admin/', 'the deepest prefix when no regex matches'],
    ['/static/a.map', '~ \\.map$', 'a ^~ prefix still searches its own nested routes'],
    ['/static/a.js', '^~ /static/', 'a ^~ prefix stops the regexes of its level'],
    ['/app/exact', '= /app/exact', 'a nested exact location ends the search'],
    ['/other.php', '~ \\.php$', 'top-level regex'],
    ['/u/bob/a.md', '~ ^/u/\\w+/(\\w+)\\.md$', "a regex's nested regexes are searched"],
  ];
  for (const [path, expected, why] of cases) {
    it(`${path} → ${expected} (${why})`, () => expect(pick(s, path)).to.equal(expected));
  }

  it('nested regexes win over the same regex written at the site level, which is a different route', () => {
    const nested = s.matchLocation('/app/x.php')?.route;
    const top = s.matchLocation('/other.php')?.route;
    expect(nested?.parent?.config.location).to.equal('/app/');
    expect(top?.parent).to.equal(undefined);
  });

  it('a nested ^~ stops only the regexes of its own level (nginx reads noregex per level)', () => {
    // /app/raw/ is ^~ inside /app/: the nested `~ \.php$` of /app/ is skipped, the site's is not.
    const m = s.matchLocation('/app/raw/x.php')?.route;
    expect(m?.config.location).to.equal('~ \\.php$');
    expect(m?.parent).to.equal(undefined);
    expect(pick(s, '/app/raw/x.txt')).to.equal('^~ /app/raw/');
  });

  it('drops the captures of an outer regex when a nested regex without groups matches (as nginx 1.22 does)', () => {
    const m = s.matchLocation('/u/bob/a.txt');
    expect(m?.route.config.location).to.equal('~ \\.txt$');
    expect(m?.captures).to.equal(undefined);
  });

  it('takes the captures of the nested regex when it has groups', () => {
    expect(s.matchLocation('/u/bob/readme.md')?.captures).to.deep.equal(['readme']);
  });

  it('applies auto_redirect inside a parent (proxied /app/api/ asked for as /app/api)', () => {
    const m = s.matchLocation('/app/api');
    expect(m?.autoRedirect).to.equal(true);
    expect(m?.route.config.location).to.equal('/app/api/');
  });

  it('lists every route, parents before their nested routes, each with its own index', () => {
    const names = s.routes.map((r) => r.config.location);
    expect(names.indexOf('/app/')).to.be.lessThan(names.indexOf('/app/admin/'));
    expect(names.indexOf('/app/admin/')).to.be.lessThan(names.indexOf('~ \\.js$'));
    expect(s.routes.map((r) => r.index)).to.deep.equal(s.routes.map((_, i) => i));
  });
});
