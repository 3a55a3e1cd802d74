// issue 17, error pages and response headers, against nginx 1.22 on the same requests: error_page
// in every form (URI, =CODE, =, @name, URL, with variables), for the statuses gatehouse makes
// itself (static 404, a location nobody configured, 405, dead and slow upstreams) and for upstream
// statuses with interceptErrors; recursive error pages; the built-in pages; add_header with and
// without always; expires; proxy_redirect; proxy_hide_header / proxy_pass_header.
import { expect } from 'chai';
import { expectSame, startDifferential, withoutServerLine, type Answer, type Differential, type PairRequest } from '../helpers/differential.js';
import { freePort } from '../helpers/ports.js';

/** nginx's pages end with a line naming nginx and its version; gatehouse's name nothing. */

/** nginx makes a rewritten relative Location absolute with its own host and port (absolute_redirect); gatehouse keeps it relative. */
const locationPath = (a: Answer, nginxPort: number): string | undefined => a.headers.location?.replace(new RegExp(`^http://c\\.test:${nginxPort}(?=/)`), '');

const page = (title: string) => `<p>${title}</p>\n`;

describe('differential error pages and response headers: nginx 1.22 and gatehouse (integration)', function () {
  this.timeout(120_000);
  let pair: Differential;
  let dead: number;

  before(async () => {
    dead = await freePort();
    pair = await startDifferential({
      files: {
        'www/404.html': page('custom 404'),
        'www/50x.html': page('custom 50x'),
        'www/405.html': page('custom 405'),
        'www/ok.html': page('ok page'),
        'www/index.html': page('home'),
        'www/addh/a.txt': 'a\n',
        'www/exp/e1h/f.txt': 'f\n',
        'www/exp/epoch/f.txt': 'f\n',
        'www/exp/max/f.txt': 'f\n',
        'www/exp/neg/f.txt': 'f\n',
        'www/exp/zero/f.txt': 'f\n',
        'www/exp/mod/f.txt': 'f\n',
        'www/exp/off/f.txt': 'f\n',
        'www/plain/dir/x.txt': 'x\n',
        'www/plain/f.txt': 'f\n',
      },
      nginx: ({ port, backend, dir }) => `
      server {
        listen 127.0.0.1:${port}; server_name a.test;
        root ${dir}/www;
        error_page 404 /404.html;
        error_page 500 502 503 504 /50x.html;
        error_page 405 /405.html;
        add_header X-Site s always;
        add_header X-Ok ok;
        location / { }
        location /ret404/ { return 404; }
        location /ret403/ { error_page 403 =200 /ok.html; return 403; }
        location /small/ { client_max_body_size 1k; proxy_pass ${backend}; error_page 413 /404.html; }
        location /eq200/ { error_page 404 =200 /ok.html; }
        location /eq/ { error_page 404 = /ok.html; }
        location /eq410/ { error_page 404 =410 /404.html; }
        location /named/ { error_page 404 @fallback; }
        location /named-eq/ { error_page 404 = @fallback; }
        location /named-418/ { error_page 404 =418 @fallback; }
        location @fallback { proxy_pass ${backend}; }
        location /url/ { error_page 404 http://example.test/missing; }
        location /url301/ { error_page 404 =301 http://example.test/moved; }
        location /url-var/ { error_page 404 https://$host/m?u=$uri; }
        location /argsv/ { error_page 404 /pagep/x?from=$uri; }
        location /pagep/ { proxy_pass ${backend}; }
        location /dead/ { proxy_pass http://127.0.0.1:${dead}; }
        location /slow/ { proxy_pass ${backend}/; proxy_read_timeout 1s; }
        location /status/ { proxy_pass ${backend}; }
        location /icpt/ {
          proxy_pass ${backend}/status/; proxy_intercept_errors on;
          error_page 404 /404.html; error_page 418 =200 /ok.html; error_page 401 /404.html;
        }
        location /rec/ { error_page 404 /missing-page.html; }
        location /loop/ { try_files $uri /loop/again; }
        location /eloop/ { error_page 404 /loop/x; }
        location /rec2/ { error_page 404 /status-page/503; }
        location /status-page/ { proxy_pass ${backend}/status/; proxy_intercept_errors on; error_page 503 /50x.html; }
      }
      server {
        listen 127.0.0.1:${port}; server_name b.test;
        root ${dir}/www;
        error_page 404 /404.html;
        location = /404.html { }
        location /api/ { proxy_pass ${backend}; }
      }
      server {
        listen 127.0.0.1:${port}; server_name c.test;
        root ${dir}/www;
        location / { }
        location /dead/ { proxy_pass http://127.0.0.1:${dead}; }
        location /slow/ { proxy_pass ${backend}/; proxy_read_timeout 1s; }
        location /addh/ { add_header X-A a; add_header X-B b always; add_header X-Uri $uri; add_header X-Empty $http_x_none; }
        location /addp/ { proxy_pass ${backend}/; add_header X-A a; add_header X-B b always; }
        location /exp/e1h/ { expires 1h; }
        location /exp/epoch/ { expires epoch; }
        location /exp/max/ { expires max; }
        location /exp/neg/ { expires -1; }
        location /exp/zero/ { expires 0; }
        location /exp/mod/ { expires modified 1h; }
        location /exp/off/ { expires off; }
        location /expp/ { proxy_pass ${backend}/; expires 2h; }
        location /redir/ { proxy_pass ${backend}/; }
        location /redir2/ { proxy_pass ${backend}; }
        location /redir3/ { proxy_pass ${backend}/app/; }
        location /redir-off/ { proxy_pass ${backend}/; proxy_redirect off; }
        location /redir-x/ { proxy_pass ${backend}/; proxy_redirect http://other.test/ /o/; proxy_redirect ~^http://re\\.test/(.*)$ /re/$1; }
        location /hide/ { proxy_pass ${backend}/; proxy_hide_header X-Powered-By; proxy_pass_header Server; }
        location /show/ { proxy_pass ${backend}/; }
      }`,
      gatehouse: ({ backend, dir }) => {
        const root = `${dir}/www`;
        return {
          sites: [
            {
              hosts: 'a.test',
              tls: 'off',
              errorPages: { 404: '/404.html', '500 502 503 504': '/50x.html', 405: '/405.html' },
              headers: { response: { add: { 'X-Site': { value: 's', always: true }, 'X-Ok': 'ok' } } },
              routes: [
                { location: '/', root },
                { location: '/ret404/', return: 404 },
                { location: '/ret403/', return: 403, errorPages: { 403: '=200 /ok.html' } },
                { location: '/small/', proxy: backend, maxBody: '1k', errorPages: { 413: '/404.html' } },
                { location: '/eq200/', root, errorPages: { 404: '=200 /ok.html' } },
                { location: '/eq/', root, errorPages: { 404: '= /ok.html' } },
                { location: '/eq410/', root, errorPages: { 404: '=410 /404.html' } },
                { location: '/named/', root, errorPages: { 404: '@fallback' } },
                { location: '/named-eq/', root, errorPages: { 404: '= @fallback' } },
                { location: '/named-418/', root, errorPages: { 404: '=418 @fallback' } },
                { location: '@fallback', proxy: backend },
                { location: '/url/', root, errorPages: { 404: 'http://example.test/missing' } },
                { location: '/url301/', root, errorPages: { 404: '=301 http://example.test/moved' } },
                { location: '/url-var/', root, errorPages: { 404: 'https://$host/m?u=$uri' } },
                { location: '/argsv/', root, errorPages: { 404: '/pagep/x?from=$uri' } },
                { location: '/pagep/', proxy: backend },
                { location: '/dead/', proxy: `http://127.0.0.1:${dead}` },
                { location: '/slow/', proxy: `${backend}/`, timeout: '1s' },
                { location: '/status/', proxy: backend },
                {
                  location: '/icpt/',
                  proxy: `${backend}/status/`,
                  interceptErrors: true,
                  errorPages: { 404: '/404.html', 418: '=200 /ok.html', 401: '/404.html' },
                },
                { location: '/rec/', root, errorPages: { 404: '/missing-page.html' } },
                { location: '/loop/', root, tryFiles: ['$uri', '/loop/again'] },
                { location: '/eloop/', root, errorPages: { 404: '/loop/x' } },
                { location: '/rec2/', root, errorPages: { 404: '/status-page/503' } },
                { location: '/status-page/', proxy: `${backend}/status/`, interceptErrors: true, errorPages: { 503: '/50x.html' } },
              ],
            },
            {
              hosts: 'b.test',
              tls: 'off',
              errorPages: { 404: '/404.html' },
              routes: [
                { location: '= /404.html', root },
                { location: '/api/', proxy: backend },
              ],
            },
            {
              hosts: 'c.test',
              tls: 'off',
              routes: [
                { location: '/', root },
                { location: '/dead/', proxy: `http://127.0.0.1:${dead}` },
                { location: '/slow/', proxy: `${backend}/`, timeout: '1s' },
                {
                  location: '/addh/',
                  root,
                  headers: { response: { add: { 'X-A': 'a', 'X-B': { value: 'b', always: true }, 'X-Uri': '$uri', 'X-Empty': '$http_x_none' } } },
                },
                { location: '/addp/', proxy: `${backend}/`, headers: { response: { add: { 'X-A': 'a', 'X-B': { value: 'b', always: true } } } } },
                { location: '/exp/e1h/', root, expires: '1h' },
                { location: '/exp/epoch/', root, expires: 'epoch' },
                { location: '/exp/max/', root, expires: 'max' },
                { location: '/exp/neg/', root, expires: -1 },
                { location: '/exp/zero/', root, expires: 0 },
                { location: '/exp/mod/', root, expires: 'modified 1h' },
                { location: '/exp/off/', root, expires: 'off' },
                { location: '/expp/', proxy: `${backend}/`, expires: '2h' },
                { location: '/redir/', proxy: `${backend}/` },
                { location: '/redir2/', proxy: backend },
                { location: '/redir3/', proxy: `${backend}/app/` },
                { location: '/redir-off/', proxy: `${backend}/`, proxyRedirect: 'off' },
                {
                  location: '/redir-x/',
                  proxy: `${backend}/`,
                  proxyRedirect: [
                    { from: 'http://other.test/', to: '/o/' },
                    { from: '~^http://re\\.test/(.*)$', to: '/re/$1' },
                  ],
                },
                { location: '/hide/', proxy: `${backend}/`, proxyHideHeaders: ['X-Powered-By'], proxyPassHeaders: ['Server'] },
                { location: '/show/', proxy: `${backend}/` },
              ],
            },
          ],
        };
      },
    });
  });
  after(async () => pair?.close());

  const both = (req: PairRequest) => pair.both(req);
  const at = (host: string, path: string, extra: Omit<PairRequest, 'path'> = {}): PairRequest => ({
    ...extra,
    path,
    headers: { host, ...extra.headers },
  });
  /** `/respond` on the echo backend: any status with any fields. */
  const respond = (prefix: string, status: number, fields: Record<string, string>): string =>
    `${prefix}respond?status=${status}${Object.entries(fields)
      .map(([k, v]) => `&h=${encodeURIComponent(`${k}:${v}`)}`)
      .join('')}`;

  describe('error pages for statuses gatehouse makes itself', () => {
    it('a static 404 gets the site page, with the error status; HEAD gets the head only', async () => {
      for (const path of ['/nope', '/deep/er/nope.txt']) {
        const { nginx, gatehouse } = await both(at('a.test', path));
        expect(nginx.body).to.equal(page('custom 404'));
        expectSame(nginx, gatehouse, { headers: ['content-length', 'etag', 'last-modified', 'accept-ranges'], body: true });
      }
      const { nginx, gatehouse } = await both(at('a.test', '/nope', { method: 'HEAD' }));
      expectSame(nginx, gatehouse, { headers: ['content-length'], body: true });
      // The page's own validators and a Range do not turn the 404 into a 304 or a 206.
      const etag = nginx.headers.etag ?? '';
      const conditionals: Array<Record<string, string>> = [{ 'if-none-match': etag }, { range: 'bytes=0-3' }];
      for (const headers of conditionals) {
        const r = await both(at('a.test', '/nope', { headers }));
        expectSame(r.nginx, r.gatehouse, { headers: ['content-length', 'content-range'], body: true });
      }
    });

    it('a request no location takes gets the site page', async () => {
      const { nginx, gatehouse } = await both(at('b.test', '/nowhere'));
      expect(nginx.status).to.equal(404);
      expectSame(nginx, gatehouse, { headers: ['content-length'], body: true });
    });

    it('a POST is turned into a GET for the page; other methods as well', async () => {
      for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
        const path = method === 'POST' ? '/nope' : '/a.txt';
        const { nginx, gatehouse } = await both(at('a.test', path, { method, body: 'x=1' }));
        expectSame(nginx, gatehouse, { body: true });
      }
    });

    it('a dead upstream (502) and a slow one (504) get the 50x page, also for a POST', async () => {
      for (const req of [at('a.test', '/dead/x'), at('a.test', '/dead/x', { method: 'POST', body: 'hello' }), at('a.test', '/slow/hang-head')]) {
        const { nginx, gatehouse } = await both(req);
        expect(nginx.body).to.equal(page('custom 50x'));
        expectSame(nginx, gatehouse, { body: true });
      }
    });

    it('=CODE answers the page with CODE; = with the page’s own status', async () => {
      for (const path of ['/eq200/nope', '/eq/nope', '/eq410/nope']) {
        const { nginx, gatehouse } = await both(at('a.test', path));
        expectSame(nginx, gatehouse, { headers: ['content-length', 'last-modified', 'accept-ranges'], body: true });
      }
    });

    it('@name runs the named location with the URI and method unchanged', async () => {
      for (const path of ['/named/x?q=1', '/named-eq/y', '/named-418/z']) {
        const { nginx, gatehouse } = await both(at('a.test', path));
        expectSame(nginx, gatehouse, { backend: ['url', 'method'] });
      }
      const { nginx, gatehouse } = await both(at('a.test', '/named/p', { method: 'POST', body: 'abc' }));
      expectSame(nginx, gatehouse, { backend: ['url', 'method'] });
    });

    it('a URL page is a 302, or the =CODE redirect; variables are expanded', async () => {
      for (const path of ['/url/x', '/url301/y', '/url-var/z?k=v']) {
        const { nginx, gatehouse } = await both(at('a.test', path));
        expectSame(nginx, gatehouse, { headers: ['location', 'content-type'], body: withoutServerLine });
      }
    });

    it('a page URI with variables and args: the page request gets those args', async () => {
      const { nginx, gatehouse } = await both(at('a.test', '/argsv/zzz'));
      expectSame(nginx, gatehouse, { backend: ['url', 'method'] });
    });
  });

  describe('statuses from return and maxBody', () => {
    it('return 404 and return 403 get the pages, the site’s add_header on them as nginx adds it', async () => {
      for (const path of ['/ret404/x', '/ret403/x', '/nope', '/ok.html']) {
        const { nginx, gatehouse } = await both(at('a.test', path));
        expectSame(nginx, gatehouse, { headers: ['x-site', 'x-ok', 'content-length'], body: true });
      }
    });

    it('a body over maxBody (413) gets the page, and the connection still closes', async () => {
      const { nginx, gatehouse } = await both(at('a.test', '/small/x', { method: 'POST', body: 'x'.repeat(2048) }));
      expect(nginx.status).to.equal(413);
      expectSame(nginx, gatehouse, { headers: ['connection'], body: true });
    });
  });

  describe('interceptErrors', () => {
    it('on: an upstream status with a page gets the page; without one the upstream answer passes', async () => {
      for (const path of ['/icpt/404', '/icpt/418', '/icpt/500', '/icpt/200', '/icpt/401']) {
        const { nginx, gatehouse } = await both(at('a.test', path));
        expectSame(nginx, gatehouse, { headers: ['content-length'], body: true });
      }
      const { nginx, gatehouse } = await both(at('a.test', '/icpt/404', { method: 'POST', body: 'x' }));
      expectSame(nginx, gatehouse, { body: true });
    });

    it('off: the upstream 404 and 502 pass as they are, though the site has pages for them', async () => {
      for (const path of ['/status/404', '/status/502']) {
        const { nginx, gatehouse } = await both(at('a.test', path));
        expect(nginx.body).to.match(/^status \d+/);
        expectSame(nginx, gatehouse, { body: true });
      }
    });
  });

  describe('recursive error pages (off)', () => {
    it('a page that is itself missing is answered with the built-in 404', async () => {
      const { nginx, gatehouse } = await both(at('a.test', '/rec/x'));
      expectSame(nginx, gatehouse, { headers: ['content-type'], body: withoutServerLine });
    });

    it('an intercepted error while serving a page is answered with the built-in page', async () => {
      const { nginx, gatehouse } = await both(at('a.test', '/rec2/x'));
      expect(nginx.status).to.equal(503);
      expectSame(nginx, gatehouse, { headers: ['content-type'], body: withoutServerLine });
    });
  });

  describe('the 10 internal redirects of a request', () => {
    it('a redirect cycle is a 500 with the built-in page, the site’s 500 page notwithstanding, also when an error page starts it', async () => {
      for (const path of ['/loop/x', '/eloop/x']) {
        const { nginx, gatehouse } = await both(at('a.test', path));
        expect(nginx.status).to.equal(500);
        expectSame(nginx, gatehouse, { headers: ['content-type'], body: withoutServerLine });
      }
    });
  });

  describe('built-in pages', () => {
    it('404, 403, 405, 502 and 504 look like nginx’s, without the server line', async () => {
      const reqs = [
        at('c.test', '/nope'),
        at('c.test', '/plain/dir/'),
        at('c.test', '/plain/f.txt', { method: 'DELETE' }),
        at('c.test', '/dead/'),
        at('c.test', '/slow/hang-head'),
        at('c.test', '/plain/f.txt', { method: 'POST', body: 'x' }),
      ];
      for (const req of reqs) {
        const { nginx, gatehouse } = await both(req);
        expect(nginx.status).to.be.at.least(400);
        expectSame(nginx, gatehouse, { headers: ['content-type'], body: withoutServerLine });
      }
    });
  });

  describe('headers.response.add (add_header)', () => {
    it('on a 200 both, on a 404 only the `always` one; variables; an empty value adds nothing', async () => {
      for (const path of ['/addh/a.txt', '/addh/missing']) {
        const { nginx, gatehouse } = await both(at('c.test', path));
        expectSame(nginx, gatehouse, { headers: ['x-a', 'x-b', 'x-uri', 'x-empty'] });
      }
    });

    it('on proxied 302, 500 and 200 answers, next to the upstream’s own fields', async () => {
      for (const path of [respond('/addp/', 302, { Location: '/else' }), '/addp/status/500', respond('/addp/', 200, { 'X-A': 'up' })]) {
        const { nginx, gatehouse } = await both(at('c.test', path));
        expectSame(nginx, gatehouse, { headers: ['x-a', 'x-b', 'location'] });
      }
    });
  });

  describe('expires', () => {
    const close = (a: string | undefined, b: string | undefined): boolean =>
      a !== undefined && b !== undefined && Math.abs(Date.parse(a) - Date.parse(b)) <= 2000;

    it('epoch, max, a negative time and off are exact', async () => {
      for (const path of ['/exp/epoch/f.txt', '/exp/max/f.txt', '/exp/off/f.txt', '/exp/neg/f.txt']) {
        const { nginx, gatehouse } = await both(at('c.test', path));
        expectSame(nginx, gatehouse, { headers: path.includes('neg') ? ['cache-control'] : ['cache-control', 'expires'] });
      }
    });

    it('a duration, 0 and `modified`: max-age as nginx, Expires within a second or two', async () => {
      for (const path of ['/exp/e1h/f.txt', '/exp/zero/f.txt', '/exp/neg/f.txt', '/exp/mod/f.txt', respond('/expp/', 200, { 'Cache-Control': 'private', Expires: 'x' })]) {
        const { nginx, gatehouse } = await both(at('c.test', path));
        const age = (a: Answer) => Number(/max-age=(\d+)/.exec(a.headers['cache-control'] ?? '')?.[1] ?? -1);
        expect(Math.abs(age(nginx) - age(gatehouse)), `${path} max-age`).to.be.at.most(2);
        expect(gatehouse.headers['cache-control']?.replace(/\d+/, 'N')).to.equal(nginx.headers['cache-control']?.replace(/\d+/, 'N'));
        expect(close(nginx.headers.expires, gatehouse.headers.expires), `${path} expires ${nginx.headers.expires} / ${gatehouse.headers.expires}`).to.equal(true);
      }
    });

    it('not on a 404', async () => {
      const { nginx, gatehouse } = await both(at('c.test', '/exp/e1h/missing'));
      expectSame(nginx, gatehouse, { headers: ['cache-control', 'expires'] });
    });
  });

  describe('proxyRedirect', () => {
    const sameRedirect = (nginx: Answer, gatehouse: Answer) => {
      expect(gatehouse.status).to.equal(nginx.status);
      expect(locationPath(gatehouse, pair.nginxPort), 'location').to.equal(locationPath(nginx, pair.nginxPort));
      expect(gatehouse.headers.refresh, 'refresh').to.equal(nginx.headers.refresh);
    };

    it('default: the proxy URL becomes the location, in Location and Refresh', async () => {
      const b = pair.backend.url;
      const cases = [
        respond('/redir/', 302, { Location: `${b}/x/y?z=1` }),
        respond('/redir/', 301, { Location: 'http://elsewhere.test/x' }),
        respond('/redir/', 302, { Location: '/relative' }),
        respond('/redir/', 200, { Refresh: `5; url=${b}/r` }),
        respond('/redir2/', 302, { Location: `${b}/two` }),
        respond('/redir3/', 302, { Location: `${b}/app/three` }),
        respond('/redir3/', 302, { Location: `${b}/notapp` }),
      ];
      for (const path of cases) {
        const { nginx, gatehouse } = await both(at('c.test', path));
        sameRedirect(nginx, gatehouse);
      }
    });

    it('off, and explicit prefix and regex rules', async () => {
      const b = pair.backend.url;
      const cases = [
        respond('/redir-off/', 302, { Location: `${b}/x` }),
        respond('/redir-x/', 302, { Location: 'http://other.test/p' }),
        respond('/redir-x/', 302, { Location: 'http://re.test/a/b' }),
        respond('/redir-x/', 302, { Location: `${b}/x` }),
      ];
      for (const path of cases) {
        const { nginx, gatehouse } = await both(at('c.test', path));
        sameRedirect(nginx, gatehouse);
      }
    });
  });

  describe('proxyHideHeaders / proxyPassHeaders', () => {
    it('nginx’s hidden set by default; hide adds, pass lets one through', async () => {
      const fields = { 'X-Powered-By': 'php', Server: 'up', 'X-Pad': 'pad', 'X-Accel-Expires': '10', 'X-Kept': 'yes' };
      for (const prefix of ['/show/', '/hide/']) {
        const { nginx, gatehouse } = await both(at('c.test', respond(prefix, 200, fields)));
        expectSame(nginx, gatehouse, { headers: ['x-powered-by', 'x-pad', 'x-accel-expires', 'x-kept'] });
        // nginx puts its own Server where it hid the upstream's; gatehouse sends none.
        expect(gatehouse.headers.server === 'up', `${prefix} server`).to.equal(nginx.headers.server === 'up');
      }
    });
  });

  describe('hostile input (gatehouse only: nginx would send the line break)', () => {
    it('a URL page built from a $uri holding CR LF is not sent; the error gets the built-in page', async () => {
      const r = await pair.one('gatehouse', at('a.test', '/url-var/a%0d%0aSet-Cookie:%20x=1'));
      expect(r.status).to.equal(404);
      expect(r.headers).to.not.have.property('set-cookie');
      expect(r.headers).to.not.have.property('location');
      expect(r.body).to.include('<title>404 Not Found</title>');
    });

    it('an added header whose variable holds CR LF is left out, the rest of the answer is whole', async () => {
      const r = await pair.one('gatehouse', at('c.test', '/addh/a%0d%0aSet-Cookie:%20x=1'));
      expect(r.status).to.equal(404);
      expect(r.headers).to.not.have.property('set-cookie');
      expect(r.headers).to.not.have.property('x-uri');
      expect(r.headers['x-b']).to.equal('b');
    });
  });

  after(() => {
    console.log(`      nginx-errors: ${pair?.pairs ?? 0} request pairs (all differential files of this run)`);
  });
});

describe('differential error pages written only on a nested route (integration)', function () {
  this.timeout(60_000);
  let pair: Differential;

  before(async () => {
    pair = await startDifferential({
      files: { 'www/n/a.txt': 'a\n', 'www/missing.html': page('nested page') },
      nginx: ({ port, dir }) => `server {
        listen 127.0.0.1:${port}; server_name a.test; root ${dir}/www;
        location /n/ { location ~ \\.txt$ { error_page 404 /missing.html; add_header X-Nested yes; } }
      }`,
      gatehouse: ({ dir }) => ({
        sites: [{ hosts: 'a.test', tls: 'off', root: `${dir}/www`, routes: [
          { location: '/n/', routes: [{ location: '~ \\.txt$', errorPages: { 404: '/missing.html' }, headers: { response: { add: { 'X-Nested': 'yes' } } } }] },
        ] }],
      }),
    });
  });
  after(async () => pair?.close());

  it('the nested route’s page and header apply though neither the site nor its parent writes any', async () => {
    for (const path of ['/n/a.txt', '/n/b.txt', '/n/c.html']) {
      const { nginx, gatehouse } = await pair.both({ path });
      expectSame(nginx, gatehouse, { headers: ['x-nested'], body: (b) => withoutServerLine(b) });
    }
  });
});
