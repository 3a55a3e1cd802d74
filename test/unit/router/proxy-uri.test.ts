import { expect } from 'chai';
import type { VarSource } from '../../../src/http/vars-types.js';
import { normalizeRequestTarget } from '../../../src/http/normalize.js';
import { upstreamPath } from '../../../src/router/proxy-uri.js';
import type { RouteInput } from './fixture.js';
import { compileRoutes } from './fixture.js';

/** What gatehouse sends upstream for `rawTarget` on a site with `routes`, as dispatch computes it. */
function sent(routes: RouteInput[], rawTarget: string, vars?: Partial<VarSource>, upstreams: string[] = []): string {
  const site = compileRoutes(routes, upstreams);
  const target = normalizeRequestTarget(rawTarget);
  if (!target) throw new Error(`${rawTarget} does not normalise`);
  const match = site.matchLocation(target.path);
  if (!match) throw new Error(`${rawTarget} matches no location`);
  return upstreamPath(match.route, match, { rawTarget, ...target }, vars as VarSource | undefined);
}

const single = (location: string, proxy: string) => [{ location, proxy }];

describe('router: upstream request-target (nginx proxy_pass URI semantics)', () => {
  describe('with a URI part, the location prefix is replaced', () => {
    it('/name/ + http://127.0.0.1/remote/ : /name/x → /remote/x', () => {
      expect(sent(single('/name/', 'http://127.0.0.1/remote/'), '/name/x')).to.equal('/remote/x');
    });
    it('/name/ + http://127.0.0.1/ : /name/x → /x', () => {
      expect(sent(single('/name/', 'http://127.0.0.1/'), '/name/x')).to.equal('/x');
    });
    it('/name + http://127.0.0.1/remote : /name/x → /remote/x and /namex → /remotex', () => {
      const routes = single('/name', 'http://127.0.0.1/remote');
      expect(sent(routes, '/name/x')).to.equal('/remote/x');
      expect(sent(routes, '/namex')).to.equal('/remotex');
    });
    it('^~ locations behave as plain prefixes', () => {
      expect(sent(single('^~ /static/', 'http://127.0.0.1/assets/'), '/static/a.css')).to.equal('/assets/a.css');
    });
    it('an exact location is replaced whole, args kept', () => {
      expect(sent(single('= /old', 'http://127.0.0.1/new'), '/old?a=1')).to.equal('/new?a=1');
    });
    it('works for a named upstream with a URI part', () => {
      expect(sent(single('/api/', 'http://app/v2/'), '/api/users', undefined, ['app'])).to.equal('/v2/users');
    });
    it('sends the normalised path: dots resolved and slashes merged', () => {
      expect(sent(single('/', 'http://h:1/'), '/a//b/./c/../d')).to.equal('/a/b/d');
    });
    it('appends the args exactly as sent, and no "?" when there are none', () => {
      expect(sent(single('/name/', 'http://h/r/'), '/name/x?a=%20b&c')).to.equal('/r/x?a=%20b&c');
      expect(sent(single('/name/', 'http://h/r/'), '/name/x?')).to.equal('/r/x');
    });
  });

  describe('re-escaping the decoded path (ngx_escape_uri, NGX_ESCAPE_URI)', () => {
    const routes = single('/', 'http://h:1/');
    it('/a%20b//c?q=1 → /a%20b/c?q=1', () => {
      expect(sent(routes, '/a%20b//c?q=1')).to.equal('/a%20b/c?q=1');
    });
    it('escapes what RFC 3986 forbids plus # % ?, and nothing else', () => {
      expect(sent(routes, '/%22%3C%3E%5C%5E%60%7B%7C%7D%23%3F%25%7F%09')).to.equal(
        '/%22%3C%3E%5C%5E%60%7B%7C%7D%23%3F%25%7F%09',
      );
      expect(sent(routes, "/%41%2F%3B%2B%3D%40%24%26%27%28%29%2A%2C%3A%5B%5D%7E")).to.equal("/A/;+=@$&'()*,:[]~");
    });
    it('sends non-ASCII as UTF-8 %XX, and undecodable bytes as they came', () => {
      expect(sent(routes, '/caf%c3%a9')).to.equal('/caf%C3%A9');
      expect(sent(routes, '/caf%E9/%FF')).to.equal('/caf%E9/%FF');
      expect(sent(routes, '/caf\u00c3\u00a9')).to.equal('/caf%C3%A9');
    });
    it('copies a path without escapes as is, like nginx when r->quoted_uri is off', () => {
      expect(sent(routes, '/a|b{c}"d')).to.equal('/a|b{c}"d');
      expect(sent(routes, '/a|b?%20')).to.equal('/a|b?%20');
    });
    it('rebuilds from the path, always escaped, after an internal redirect', () => {
      const site = compileRoutes(single('/', 'http://h:1'));
      const match = site.matchLocation('/index.html');
      if (!match) throw new Error('no match');
      const req = { rawTarget: '/a%20b', path: '/index.html', args: 'x=1', internal: true };
      expect(upstreamPath(match.route, match, req)).to.equal('/index.html?x=1');
      expect(upstreamPath(match.route, match, { ...req, path: '/a|b' })).to.equal('/a%7Cb?x=1');
    });
  });

  describe('without a URI part, the target goes as the client sent it', () => {
    const routes = single('/', 'http://h:1');
    it('/a%20b//c?q=1 → /a%20b//c?q=1', () => {
      expect(sent(routes, '/a%20b//c?q=1')).to.equal('/a%20b//c?q=1');
    });
    it('keeps dot segments and escapes unresolved', () => {
      expect(sent(routes, '/x/../%2e/y?z')).to.equal('/x/../%2e/y?z');
    });
    it('an absolute-form target loses scheme and authority only', () => {
      expect(sent(routes, 'http://example.com/a//b?q')).to.equal('/a//b?q');
      expect(sent(routes, 'http://example.com?q')).to.equal('/?q');
    });
    it('applies to regex and named-upstream locations alike', () => {
      expect(sent(single('~ \\.php$', 'fastcgi://127.0.0.1:9000'), '/a//b.php?x')).to.equal('/a//b.php?x');
      expect(sent(single('/api/', 'app'), '/api//x', undefined, ['app'])).to.equal('/api//x');
    });
  });

  describe('a URI part with variables is the whole URI', () => {
    const routes = [{ location: '~ ^/u/(\\d+)/(.*)$', proxy: 'http://h/users/$1/$2' }];
    it('substitutes the captures and does not append the args (nginx)', () => {
      expect(sent(routes, '/u/42/posts?page=2', {})).to.equal('/users/42/posts');
    });
    it('takes other variables from the request', () => {
      const r = [{ location: '/p/', proxy: 'http://h/q$uri$is_args$args' }];
      expect(sent(r, '/p/x?y=1', { uri: '/p/x', args: 'y=1' })).to.equal('/q/p/x?y=1');
    });
    it('escapes only what cannot go on a request line', () => {
      expect(sent(routes, '/u/1/a%20b%3Fc', {})).to.equal('/users/1/a%20b?c');
    });
    it('needs the request variables', () => {
      expect(() => sent(routes, '/u/1/x')).to.throw(/variables/);
    });
  });
});
