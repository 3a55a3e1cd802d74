// A route's own `params` and `splitPathInfo` (nginx fastcgi_param / uwsgi_param,
// fastcgi_split_path_info), compared with nginx 1.22 configured the nginx way on the same php-fpm
// pool and the same uWSGI: what the backend sees must be the same.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selfSignedCert, startNginx, startPhpFpm, startUwsgi } from '../helpers/cgi-peers.js';
import { curl } from '../helpers/curl.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import type { Peer } from '../helpers/process.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

type Seen = Record<string, string | number>;

describe('params and splitPathInfo, compared with nginx (php-fpm, uWSGI, integration)', function () {
  this.timeout(60_000);
  let dir: string;
  let www: string;
  let fpm: Peer;
  let uwsgi: Peer;
  let nginx: Peer;
  let nginxPort: number;
  let gh: Gatehouse;

  before(async () => {
    dir = tempDir('gh-cgi-params-');
    www = path.join(dir, 'www');
    fs.cpSync(path.join(FIXTURES, 'php'), www, { recursive: true });
    const [fpmPort, uwsgiPort] = [await freePort(), await freePort()];
    nginxPort = await freePort();
    [fpm, uwsgi] = await Promise.all([
      startPhpFpm(dir, [{ name: 'tcp', listen: `127.0.0.1:${fpmPort}` }]),
      startUwsgi(path.join(FIXTURES, 'wsgi/app.py'), ['--socket', `127.0.0.1:${uwsgiPort}`], uwsgiPort),
    ]);
    const fcgi = `fastcgi://127.0.0.1:${fpmPort}`;
    const script = `${www}/server.php`;
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      sites: [
        {
          hosts: ['a.test'],
          routes: [
            {
              location: '~ ^/p/.+\\.php(/|$)',
              proxy: fcgi,
              root: www,
              params: {
                APP_ENV: 'prod $host',
                PATHS: '$document_root|$fastcgi_script_name|$fastcgi_path_info|$uri|$args|$request_method',
                // A stock one replaced: the script run is server.php whatever the URI names.
                SCRIPT_FILENAME: script,
                REDIRECT_STATUS: '201',
                HTTP_HOST: 'override.$scheme',
                HTTP_X_SECRET: '',
                MAYBE: { value: '$http_x_maybe', ifNotEmpty: true },
                ALWAYS: '$http_x_maybe',
              },
            },
            {
              location: '^~ /split/',
              proxy: fcgi,
              root: www,
              splitPathInfo: '^(/split/.+\\.php)(/.+)$',
              params: { SCRIPT_FILENAME: script },
            },
          ],
        },
        {
          hosts: ['b.test'],
          params: { SITE_PARAM: 'from $server_name', HTTP_X_SECRET: '' },
          routes: [{ location: '~ \\.php$', proxy: fcgi, root: www, splitPathInfo: false }],
        },
        {
          // Debian's snippets/fastcgi-php.conf: a found script becomes $uri (DOCUMENT_URI).
          hosts: ['t.test'],
          routes: [
            {
              location: '~ \\.php(/|$)',
              proxy: fcgi,
              root: www,
              tryFiles: ['$fastcgi_script_name', '=404'],
              params: { PATHS: '$fastcgi_script_name|$fastcgi_path_info|$uri|$document_uri' },
            },
          ],
        },
        {
          hosts: ['w.test'],
          routes: [
            {
              location: '/',
              proxy: `uwsgi://127.0.0.1:${uwsgiPort}`,
              root: '/srv/app',
              params: {
                PATH_INFO: '/fixed$uri',
                APP_ENV: 'uwsgi $request_method $args',
                HTTP_HOST: '$host:1',
                MAYBE: { value: '$http_x_maybe', ifNotEmpty: true },
              },
            },
          ],
        },
      ],
    }));
    const { cert, key } = selfSignedCert(dir);
    const tls = `listen 127.0.0.1:${nginxPort} ssl http2; ssl_certificate ${cert}; ssl_certificate_key ${key};`;
    nginx = await startNginx(
      dir,
      `server {
        ${tls}
        server_name a.test;
        root ${www};
        location ~ ^/p/.+\\.php(/|$) {
          fastcgi_split_path_info ^(.+?\\.php)(/.*)$;
          fastcgi_param PATH_INFO $fastcgi_path_info;
          include fastcgi.conf;
          fastcgi_param APP_ENV "prod $host";
          fastcgi_param PATHS "$document_root|$fastcgi_script_name|$fastcgi_path_info|$uri|$args|$request_method";
          fastcgi_param SCRIPT_FILENAME ${script};
          fastcgi_param REDIRECT_STATUS 201;
          fastcgi_param HTTP_HOST override.$scheme;
          fastcgi_param HTTP_X_SECRET "";
          fastcgi_param MAYBE $http_x_maybe if_not_empty;
          fastcgi_param ALWAYS $http_x_maybe;
          fastcgi_pass 127.0.0.1:${fpmPort};
        }
        location ^~ /split/ {
          fastcgi_split_path_info ^(/split/.+\\.php)(/.+)$;
          fastcgi_param PATH_INFO $fastcgi_path_info;
          fastcgi_index index.php;
          include fastcgi.conf;
          fastcgi_param SCRIPT_FILENAME ${script};
          fastcgi_pass 127.0.0.1:${fpmPort};
        }
      }
      server {
        ${tls}
        server_name b.test;
        root ${www};
        include fastcgi.conf;
        fastcgi_param SITE_PARAM "from $server_name";
        fastcgi_param HTTP_X_SECRET "";
        location ~ \\.php$ { fastcgi_pass 127.0.0.1:${fpmPort}; }
      }
      server {
        ${tls}
        server_name t.test;
        root ${www};
        location ~ \\.php(/|$) {
          fastcgi_split_path_info ^(.+?\\.php)(/.*)$;
          set $path_info $fastcgi_path_info;
          try_files $fastcgi_script_name =404;
          fastcgi_param PATH_INFO $path_info;
          include fastcgi.conf;
          fastcgi_param PATHS "$fastcgi_script_name|$fastcgi_path_info|$uri|$document_uri";
          fastcgi_pass 127.0.0.1:${fpmPort};
        }
      }
      server {
        ${tls}
        server_name w.test;
        root /srv/app;
        location / {
          include uwsgi_params;
          uwsgi_param PATH_INFO /fixed$uri;
          uwsgi_param APP_ENV "uwsgi $request_method $args";
          uwsgi_param HTTP_HOST $host:1;
          uwsgi_param MAYBE $http_x_maybe if_not_empty;
          uwsgi_pass 127.0.0.1:${uwsgiPort};
        }
      }`,
      nginxPort,
    );
  });

  after(async () => {
    await Promise.all([gh?.stop(), nginx?.stop('SIGQUIT')]);
    await Promise.all([fpm?.stop(), uwsgi?.stop('SIGTERM')]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  // What differs by nature: the server's software and port, the client's port, the time, uWSGI's node.
  const DIFFERENT = ['SERVER_SOFTWARE', 'SERVER_PORT', 'REMOTE_PORT', 'REQUEST_TIME', 'REQUEST_TIME_FLOAT', 'uwsgi.node', 'uwsgi.version'];
  const strip = (s: Seen): Seen => Object.fromEntries(Object.entries(s).filter(([k]) => !DIFFERENT.includes(k)));
  const json = (r: { status: number; body: Buffer }): Seen => {
    expect(r.status, r.body.toString()).to.equal(200);
    return JSON.parse(r.body.toString()) as Seen;
  };
  const both = async (host: string, p: string, args: string[]): Promise<[Seen, Seen]> => {
    const via = (port: number, tls: string[]) => curl([...tls, '--connect-to', `${host}:443:127.0.0.1:${port}`, ...args, `https://${host}${p}`]);
    const [g, n] = await Promise.all([via(gh.httpsPort, ['--cacert', gh.caFile]), via(nginxPort, ['-k'])]);
    return [strip(json(g)), strip(json(n))];
  };

  describe('FastCGI (php-fpm)', () => {
    it('custom params with variables, SCRIPT_FILENAME and REDIRECT_STATUS replaced, HTTP_HOST and HTTP_X_SECRET hiding the headers', async () => {
      const [g, n] = await both('a.test', '/p/any.php/x/y?q=1', ['--http1.1', '-H', 'X-Secret: s3cret', '-H', 'X-Maybe: here', '-H', 'X-Other: kept']);
      expect(g).to.deep.equal(n);
      expect(g).to.include({
        APP_ENV: 'prod a.test',
        PATHS: `${www}|/p/any.php|/x/y|/p/any.php/x/y|q=1|GET`,
        SCRIPT_FILENAME: `${www}/server.php`,
        SCRIPT_NAME: '/p/any.php',
        REDIRECT_STATUS: '201',
        HTTP_HOST: 'override.https',
        MAYBE: 'here',
        ALWAYS: 'here',
        HTTP_X_OTHER: 'kept',
      });
      expect(g).not.to.have.property('HTTP_X_SECRET');
    });

    it('if_not_empty: an empty value is not sent, one without it is sent empty; over HTTP/2 :authority is hidden too', async () => {
      const [g, n] = await both('a.test', '/p/any.php', ['--http2']);
      expect(g).to.deep.equal(n);
      expect(g).not.to.have.property('MAYBE');
      expect(g).to.include({ ALWAYS: '', HTTP_HOST: 'override.https', PATH_INFO: '' });
    });

    for (const [name, p, script, info] of [
      ['greedy: the last ".php" ends the script name', '/split/a.php/b.php/c', '/split/a.php/b.php', '/c'],
      ['no match (nothing after the slash): the whole URI, with the index, is the script name', '/split/a.php/', '/split/a.php/index.php', ''],
    ] as const) {
      it(`a custom splitPathInfo regex: ${name}`, async () => {
        const [g, n] = await both('a.test', p, ['--http1.1']);
        expect(g).to.deep.equal(n);
        expect(g).to.include({ SCRIPT_NAME: script, PATH_INFO: info, SCRIPT_FILENAME: `${www}/server.php` });
      });
    }

    it("a site's params reach a route that writes none; splitPathInfo: false sends no PATH_INFO", async () => {
      const [g, n] = await both('b.test', '/server.php?x=1', ['--http1.1', '-H', 'X-Secret: s3cret']);
      expect(g).to.deep.equal(n);
      expect(g).to.include({ SITE_PARAM: 'from b.test', SCRIPT_NAME: '/server.php', QUERY_STRING: 'x=1' });
      expect(g).not.to.have.property('PATH_INFO');
      expect(g).not.to.have.property('HTTP_X_SECRET');
    });
  });

  describe('FastCGI: tryFiles [$fastcgi_script_name, =404] (php-fpm)', () => {
    it('the found script becomes $uri and DOCUMENT_URI; PATH_INFO is split from the path as it came', async () => {
      const [g, n] = await both('t.test', '/server.php/a/b?x=1', ['--http1.1']);
      expect(g).to.deep.equal(n);
      expect(g).to.include({
        SCRIPT_NAME: '/server.php',
        DOCUMENT_URI: '/server.php',
        PATH_INFO: '/a/b',
        PATHS: '/server.php||/server.php|/server.php',
        REQUEST_URI: '/server.php/a/b?x=1',
        SCRIPT_FILENAME: `${www}/server.php`,
      });
    });
  });

  describe('uwsgi (uWSGI)', () => {
    for (const [name, args] of [
      ['over HTTP/1.1, with X-Maybe', ['--http1.1', '-H', 'X-Maybe: yes']],
      ['over HTTP/2, without X-Maybe', ['--http2']],
    ] as const) {
      it(`custom params, PATH_INFO replaced, HTTP_HOST hiding the header: ${name}`, async () => {
        const [g, n] = await both('w.test', '/py/env?a=b', [...args]);
        expect(g).to.deep.equal(n);
        expect(g).to.include({ PATH_INFO: '/fixed/py/env', APP_ENV: 'uwsgi GET a=b', HTTP_HOST: 'w.test:1' });
        if (args.length > 1) expect(g).to.include({ MAYBE: 'yes' });
        else expect(g).not.to.have.property('MAYBE');
      });
    }
  });
});
