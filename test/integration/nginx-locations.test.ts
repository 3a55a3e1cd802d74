// Differential tests of issue 17's "nest" part against nginx 1.22: server-level root/index/
// client_max_body_size/add_header/proxy_set_header inherited and replaced, nested locations
// searched in nginx's order, alias (prefix, regex with captures, with try_files and index, the
// off-by-slash where gatehouse differs on purpose), internal locations, and $document_root /
// $request_filename under alias.
import fs from 'node:fs';
import { expect } from 'chai';
import { startPhpFpm } from '../helpers/cgi-peers.js';
import { differentialPairs, expectSame, startDifferential, type Differential } from '../helpers/differential.js';
import { tempDir } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import type { Peer } from '../helpers/process.js';

describe('differential: server defaults, nested locations, alias, internal (nginx 1.22, integration)', function () {
  this.timeout(60_000);
  let pair: Differential;

  before(async () => {
    pair = await startDifferential({
      files: {
        'www/home.html': 'www home\n',
        'www/index.html': 'www index\n',
        'www/a.txt': 'www a\n',
        'www/sub/index.html': 'www sub index\n',
        'www/internal/i.txt': 'internal i\n',
        'ownroot/own/own.html': 'own own\n',
        'ownroot/own/index.html': 'own index\n',
        'pics/cat.txt': 'cat\n',
        'pics/index.html': 'pics index\n',
        'files/f.txt': 'f\n',
        'secret.txt': 'SECRET\n',
        'home/bob/www/page.txt': 'bob page\n',
        'home/bob/www/index.html': 'bob index\n',
        'home/bob/www/sub/index.html': 'bob sub\n',
        'app/a.txt': 'app a\n',
        'app/b.html': 'app b\n',
      },
      nginx: ({ port, backend, dir }) => `
      server {
        listen 127.0.0.1:${port}; server_name a.test;
        root ${dir}/www;
        index home.html index.html;
        client_max_body_size 10;
        add_header X-Site site;
        proxy_set_header X-Site-Req s;
        location / { }
        location /own/ { root ${dir}/ownroot; index own.html; }
        location /api/ { proxy_pass ${backend}; }
        location /api2/ { proxy_pass ${backend}; add_header X-Route r; proxy_set_header X-Route-Req r; }
        location /api3/ { proxy_pass ${backend}; proxy_set_header X-Route-Req r; }
        location /big/ { proxy_pass ${backend}; client_max_body_size 100; }
        location /small/ { proxy_pass ${backend}; }
      }
      server {
        listen 127.0.0.1:${port}; server_name b.test;
        location /app/ {
          return 200 "app";
          location ~ \\.php$ { return 200 "app-php"; }
          location /app/admin/ {
            return 200 "admin";
            location ~ \\.js$ { return 200 "admin-js"; }
          }
          location ^~ /app/raw/ { return 200 "raw"; }
          location = /app/exact { return 200 "exact"; }
        }
        location ~ ^/u/(\\w+)/ {
          return 200 "u-$1";
          location ~ \\.txt$ { return 200 "u-txt-$1"; }
        }
        location ~ \\.php$ { return 200 "top-php"; }
        location ~ \\.(js|css)$ { return 200 "top-jscss"; }
        location ^~ /static/ {
          return 200 "static";
          location ~ \\.map$ { return 200 "static-map"; }
        }
        location / { return 200 "root"; }
      }
      server {
        listen 127.0.0.1:${port}; server_name c.test;
        root ${dir}/www;
        location /img/ { alias ${dir}/pics/; }
        location /files { alias ${dir}/files/; }
        location ~ ^/u/(\\w+)/(.*)$ { alias ${dir}/home/$1/www/$2; }
        location /tf/ { alias ${dir}/pics/; try_files $uri $uri/ =404; }
        location /app/ {
          alias ${dir}/app/;
          location ~ \\.txt$ { }
        }
        location /internal/ { internal; }
        location /try/ { try_files $uri /internal/i.txt; }
        location = /fav.ico { alias ${dir}/pics/cat.txt; }
        location /vars/ { alias ${dir}/pics/; proxy_pass ${backend}; proxy_set_header X-Files "$document_root|$request_filename"; }
        location ~ ^/rv/(\\w+)$ { alias ${dir}/home/$1/www/; proxy_pass ${backend}; proxy_set_header X-Files "$document_root|$request_filename"; }
        location /rootvars/ { proxy_pass ${backend}; proxy_set_header X-Files "$document_root|$request_filename"; }
        location ~ ^/t/(\\w+)(/.*)?$ { alias ${dir}/home/$1/www; try_files $2 =404; }
        location ~ ^/tv/(\\w+)(/.*)?$ {
          alias ${dir}/home/$1/www; try_files $2 =404;
          proxy_pass ${backend}; proxy_set_header X-Files "$document_root|$request_filename";
        }
      }
      server {
        listen 127.0.0.1:${port}; server_name d.test;
        root ${dir}/www;
        location /api/ { proxy_pass ${backend}; }
      }`,
      gatehouse: ({ backend, dir }) => ({
        sites: [
          {
            hosts: 'a.test',
            tls: 'off',
            root: `${dir}/www`,
            index: ['home.html', 'index.html'],
            maxBody: 10,
            headers: { request: { set: { 'X-Site-Req': 's' } }, response: { set: { 'X-Site': 'site' } } },
            routes: [
              { location: '/' },
              { location: '/own/', root: `${dir}/ownroot`, index: 'own.html' },
              { location: '/api/', proxy: backend },
              { location: '/api2/', proxy: backend, headers: { request: { set: { 'X-Route-Req': 'r' } }, response: { set: { 'X-Route': 'r' } } } },
              { location: '/api3/', proxy: backend, headers: { request: { set: { 'X-Route-Req': 'r' } } } },
              { location: '/big/', proxy: backend, maxBody: 100 },
              { location: '/small/', proxy: backend },
            ],
          },
          {
            hosts: 'b.test',
            tls: 'off',
            routes: [
              {
                location: '/app/',
                return: '200 app',
                routes: [
                  { location: '~ \\.php$', return: '200 app-php' },
                  { location: '/app/admin/', return: '200 admin', routes: [{ location: '~ \\.js$', return: '200 admin-js' }] },
                  { location: '^~ /app/raw/', return: '200 raw' },
                  { location: '= /app/exact', return: '200 exact' },
                ],
              },
              { location: '~ ^/u/(\\w+)/', return: '200 u-$1', routes: [{ location: '~ \\.txt$', return: '200 u-txt-$1' }] },
              { location: '~ \\.php$', return: '200 top-php' },
              { location: '~ \\.(js|css)$', return: '200 top-jscss' },
              { location: '^~ /static/', return: '200 static', routes: [{ location: '~ \\.map$', return: '200 static-map' }] },
              { location: '/', return: '200 root' },
            ],
          },
          {
            hosts: 'c.test',
            tls: 'off',
            root: `${dir}/www`,
            routes: [
              { location: '/img/', alias: `${dir}/pics/` },
              { location: '/files', alias: `${dir}/files/` },
              { location: '~ ^/u/(\\w+)/(.*)$', alias: `${dir}/home/$1/www/$2` },
              { location: '/tf/', alias: `${dir}/pics/`, tryFiles: ['$uri', '$uri/', '=404'] },
              { location: '/app/', alias: `${dir}/app/`, routes: [{ location: '~ \\.txt$' }] },
              { location: '/internal/', internal: true },
              { location: '/try/', tryFiles: ['$uri', '/internal/i.txt'] },
              { location: '= /fav.ico', alias: `${dir}/pics/cat.txt` },
              { location: '/vars/', alias: `${dir}/pics/`, proxy: backend, headers: { request: { set: { 'X-Files': '$document_root|$request_filename' } } } },
              { location: '~ ^/rv/(\\w+)$', alias: `${dir}/home/$1/www/`, proxy: backend, headers: { request: { set: { 'X-Files': '$document_root|$request_filename' } } } },
              { location: '/rootvars/', proxy: backend, headers: { request: { set: { 'X-Files': '$document_root|$request_filename' } } } },
              { location: '~ ^/t/(\\w+)(/.*)?$', alias: `${dir}/home/$1/www`, tryFiles: ['$2', '=404'] },
              {
                location: '~ ^/tv/(\\w+)(/.*)?$', alias: `${dir}/home/$1/www`, tryFiles: ['$2', '=404'],
                proxy: backend, headers: { request: { set: { 'X-Files': '$document_root|$request_filename' } } },
              },
            ],
          },
          // A site with a root and no "/" route: what no route matches is served from the root.
          { hosts: 'd.test', tls: 'off', root: `${dir}/www`, routes: [{ location: '/api/', proxy: backend }] },
        ],
      }),
    });
  });
  after(async () => pair?.close());

  const get = (host: string, path: string) => pair.both({ path, headers: { host } });

  describe('server-level defaults (a.test)', () => {
    it('root and index written on the server serve a location that has neither', async () => {
      for (const path of ['/', '/a.txt', '/sub/', '/index.html']) {
        const { nginx, gatehouse } = await get('a.test', path);
        expect(nginx.status, path).to.equal(200);
        expectSame(nginx, gatehouse, { body: true });
      }
    });

    it('a location with its own root and index uses them', async () => {
      for (const path of ['/own/', '/own/index.html', '/own/missing']) {
        const { nginx, gatehouse } = await get('a.test', path);
        expectSame(nginx, gatehouse, { body: (b) => (nginx.status === 200 ? b : '') });
      }
    });

    it('a directory without the slash is redirected, a missing file is 404', async () => {
      for (const path of ['/sub', '/nope.txt']) {
        const { nginx, gatehouse } = await get('a.test', path);
        expectSame(nginx, gatehouse);
      }
    });

    it('add_header and proxy_set_header of the server reach a location that has none', async () => {
      const { nginx, gatehouse } = await get('a.test', '/api/x');
      expect(nginx.headers['x-site']).to.equal('site');
      expect(nginx.backend?.headers).to.have.property('x-site-req', 's');
      expectSame(nginx, gatehouse, { headers: ['x-site', 'x-route'], backend: ['url', 'headers.x-site-req', 'headers.x-route-req'] });
    });

    it("a location's own add_header and proxy_set_header REPLACE the server's lists (nothing merged)", async () => {
      const { nginx, gatehouse } = await get('a.test', '/api2/x');
      expect(nginx.headers['x-site']).to.equal(undefined);
      expect(nginx.backend?.headers).to.not.have.property('x-site-req');
      expectSame(nginx, gatehouse, { headers: ['x-site', 'x-route'], backend: ['url', 'headers.x-site-req', 'headers.x-route-req'] });
    });

    it('each list is replaced on its own: a proxy_set_header in the location keeps the server add_header', async () => {
      const { nginx, gatehouse } = await get('a.test', '/api3/x');
      expect(nginx.headers['x-site']).to.equal('site');
      expect(nginx.backend?.headers).to.not.have.property('x-site-req');
      expectSame(nginx, gatehouse, { headers: ['x-site', 'x-route'], backend: ['url', 'headers.x-site-req', 'headers.x-route-req'] });
    });

    it('client_max_body_size of the server applies to a location, which may raise it', async () => {
      const cases: Array<[string, string, number]> = [
        ['/small/', 'x'.repeat(20), 413],
        ['/small/', 'x'.repeat(5), 200],
        ['/big/', 'x'.repeat(20), 200],
      ];
      for (const [path, body, status] of cases) {
        const { nginx, gatehouse } = await pair.both({ method: 'POST', path, body, headers: { host: 'a.test' } });
        expect(nginx.status, `${path} ${body.length}`).to.equal(status);
        expectSame(nginx, gatehouse);
      }
    });
  });

  describe('nested locations (b.test)', () => {
    const cases: Array<[string, string]> = [
      ['/app/x.php', 'app-php'],
      ['/app/x.css', 'top-jscss'],
      ['/app/x.txt', 'app'],
      ['/app/admin/a.js', 'admin-js'],
      ['/app/admin/a.php', 'app-php'],
      ['/app/admin/a.txt', 'admin'],
      ['/app/raw/x.php', 'top-php'],
      ['/app/raw/x.txt', 'raw'],
      ['/app/exact', 'exact'],
      ['/other.php', 'top-php'],
      // The nested regex has no groups: $1 is empty in nginx, the outer regex's capture is not kept.
      ['/u/bob/a.txt', 'u-txt-'],
      ['/u/bob/x', 'u-bob'],
      ['/static/a.map', 'static-map'],
      ['/static/a.js', 'static'],
      ['/x.css', 'top-jscss'],
    ];
    for (const [path, expected] of cases) {
      it(`${path} → ${expected}`, async () => {
        const { nginx, gatehouse } = await get('b.test', path);
        expect(nginx.body, 'nginx').to.equal(expected);
        expectSame(nginx, gatehouse, { body: true });
      });
    }
  });

  describe('alias and internal (c.test)', () => {
    it('prefix alias: the location part of the URI is replaced by the folder, index included', async () => {
      for (const path of ['/img/cat.txt', '/img/', '/img/none.txt', '/files/f.txt', '/fav.ico']) {
        const { nginx, gatehouse } = await get('c.test', path);
        expectSame(nginx, gatehouse, { body: (b) => (nginx.status === 200 ? b : '') });
      }
    });

    it('regex alias with captures, its index (internal redirect) and its directory redirect', async () => {
      for (const path of ['/u/bob/page.txt', '/u/bob/', '/u/bob/sub', '/u/bob/sub/', '/u/alice/page.txt']) {
        const { nginx, gatehouse } = await get('c.test', path);
        expectSame(nginx, gatehouse, { body: (b) => (nginx.status === 200 ? b : '') });
      }
    });

    it('alias with try_files: $uri and $uri/ are looked up under the alias', async () => {
      for (const path of ['/tf/cat.txt', '/tf/', '/tf/nope']) {
        const { nginx, gatehouse } = await get('c.test', path);
        expectSame(nginx, gatehouse, { body: (b) => (nginx.status === 200 ? b : '') });
      }
    });

    it('regex alias with try_files: the tried item is put after the alias (nginx add_uri_to_alias)', async () => {
      for (const path of ['/t/bob/page.txt', '/t/bob/nope.txt', '/t/alice/page.txt']) {
        const { nginx, gatehouse } = await get('c.test', path);
        expectSame(nginx, gatehouse, { body: (b) => (nginx.status === 200 ? b : '') });
      }
    });

    it('regex alias + try_files before a proxy: $request_filename is alias + the found URI', async () => {
      const hit = await get('c.test', '/tv/bob/page.txt');
      expect(hit.nginx.backend?.headers).to.have.property('x-files', `${pair.dir}/home/bob/www|${pair.dir}/home/bob/www/page.txt`);
      expectSame(hit.nginx, hit.gatehouse, { backend: ['url', 'headers.x-files'] });
      const miss = await get('c.test', '/tv/bob/nope.txt');
      expectSame(miss.nginx, miss.gatehouse, { backend: ['url'] });
    });

    it('a nested location inherits the alias of its parent, with the parent prefix replaced', async () => {
      for (const path of ['/app/a.txt', '/app/b.html']) {
        const { nginx, gatehouse } = await get('c.test', path);
        expect(nginx.status, path).to.equal(200);
        expectSame(nginx, gatehouse, { body: true });
      }
    });

    it('internal: 404 from outside, served through a try_files fallback', async () => {
      const outside = await get('c.test', '/internal/i.txt');
      expect(outside.nginx.status).to.equal(404);
      expectSame(outside.nginx, outside.gatehouse);
      const fallback = await get('c.test', '/try/nothing');
      expect(fallback.nginx.body).to.equal('internal i\n');
      expectSame(fallback.nginx, fallback.gatehouse, { body: true });
    });

    it('$document_root and $request_filename under root, prefix alias and regex alias', async () => {
      for (const path of ['/rootvars/a/b', '/vars/x/y', '/rv/bob']) {
        const { nginx, gatehouse } = await get('c.test', path);
        expect(nginx.backend, path).to.not.equal(undefined);
        expectSame(nginx, gatehouse, { backend: ['headers.x-files'] });
      }
    });

    it('off-by-slash: nginx serves /files../secret.txt from above the alias; gatehouse answers 404 on purpose', async () => {
      const { nginx, gatehouse } = await get('c.test', '/files../secret.txt');
      // nginx pastes "/srv/files/" and "../secret.txt" and opens the file above the alias.
      expect(nginx.status).to.equal(200);
      expect(nginx.body).to.equal('SECRET\n');
      // gatehouse keeps every name inside the alias folder (handler/static-alias.ts) and `check` warns.
      expect(gatehouse.status).to.equal(404);
      expect(gatehouse.body).to.not.include('SECRET');
    });
  });

  describe('a server with a root and no "/" location (d.test)', () => {
    it('serves from the server root what no location matches', async () => {
      for (const path of ['/a.txt', '/', '/nope.txt', '/api/x']) {
        const { nginx, gatehouse } = await get('d.test', path);
        expectSame(nginx, gatehouse, { body: (b) => (nginx.status === 200 && !nginx.backend ? b : ''), backend: ['url'] });
      }
    });
  });

});

describe('differential: PHP under an alias, in a nested location (nginx 1.22 + php-fpm, integration)', function () {
  this.timeout(60_000);
  let pair: Differential;
  let fpm: Peer;
  let fpmDir: string;

  before(async () => {
    fpmDir = tempDir('gh-nest-fpm-');
    const fpmPort = await freePort();
    fpm = await startPhpFpm(fpmDir, [{ name: 'www', listen: `127.0.0.1:${fpmPort}` }]);
    pair = await startDifferential({
      files: {
        'app/who.php': '<?php echo $_SERVER["SCRIPT_FILENAME"], "|", $_SERVER["DOCUMENT_ROOT"], "|", __FILE__, "\\n";',
        'app/readme.txt': 'app readme\n',
        'outside.php': '<?php echo "OUTSIDE\\n";',
      },
      // nginx's fastcgi.conf would send $document_root$fastcgi_script_name, the classic alias
      // mistake (/srv/app/ + /app/who.php); the documented fix is $request_filename, which is what
      // gatehouse sends under an alias.
      nginx: ({ port, dir }) => `server {
        listen 127.0.0.1:${port}; server_name a.test;
        location /app/ {
          alias ${dir}/app/;
          location ~ \\.php$ {
            try_files $uri =404;
            include fastcgi.conf;
            fastcgi_param SCRIPT_FILENAME $request_filename;
            fastcgi_pass 127.0.0.1:${fpmPort};
          }
        }
        location /php {
          alias ${dir}/app/;
          location ~ \\.php$ {
            include fastcgi.conf;
            fastcgi_param SCRIPT_FILENAME $request_filename;
            fastcgi_pass 127.0.0.1:${fpmPort};
          }
        }
      }`,
      gatehouse: ({ dir }) => ({
        sites: [{ hosts: 'a.test', tls: 'off', routes: [
          { location: '/app/', alias: `${dir}/app/`, routes: [{ location: '~ \\.php$', proxy: `fastcgi://127.0.0.1:${fpmPort}`, tryFiles: ['$uri', '=404'] }] },
          { location: '/php', alias: `${dir}/app/`, routes: [{ location: '~ \\.php$', proxy: `fastcgi://127.0.0.1:${fpmPort}` }] },
        ] }],
      }),
    });
  });
  after(async () => {
    // Printed for the count of request pairs (each pair.both is one; 63 in this file).
    console.log(`      differential request pairs so far in this run: ${differentialPairs()}`);
    await pair?.close();
    await fpm?.stop();
    fs.rmSync(fpmDir, { recursive: true, force: true });
  });

  it('SCRIPT_FILENAME and DOCUMENT_ROOT are the alias ones, the script runs', async () => {
    const { nginx, gatehouse } = await pair.both({ path: '/app/who.php' });
    expect(nginx.status).to.equal(200);
    expect(nginx.body).to.equal(`${pair.dir}/app/who.php|${pair.dir}/app/|${pair.dir}/app/who.php\n`);
    expectSame(nginx, gatehouse, { body: true });
  });

  it('a missing script is 404 before php-fpm, a static file beside it is served from the alias', async () => {
    for (const path of ['/app/none.php', '/app/readme.txt']) {
      const { nginx, gatehouse } = await pair.both({ path });
      expectSame(nginx, gatehouse, { body: (b) => (nginx.status === 200 ? b : '') });
    }
  });

  it('off-by-slash under PHP: nginx hands php-fpm a script name above the alias; gatehouse answers 404 without asking', async () => {
    const log = `${pair.dir}/nginx/error.log`;
    const before = fs.readFileSync(log, 'utf8').length;
    const { nginx, gatehouse } = await pair.both({ path: '/php../outside.php' });
    // nginx pastes alias + "../outside.php" into SCRIPT_FILENAME and sends it; php-fpm 8.2 happens
    // to refuse the name ("Primary script unknown"), other FastCGI applications need not.
    expect(nginx.status).to.equal(404);
    expect(fs.readFileSync(log, 'utf8').slice(before)).to.include('Primary script unknown');
    expect(gatehouse.status).to.equal(404);
    expect(gatehouse.body).to.not.include('OUTSIDE');
    // The same route runs a script inside the alias.
    const inside = await pair.both({ path: '/php/who.php' });
    expectSame(inside.nginx, inside.gatehouse, { body: true });
  });
});
