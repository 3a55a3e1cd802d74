// uwsgi end to end: curl and Node clients → the real gatehouse → a real uWSGI (python3 plugin) with
// a WSGI app, and nginx 1.22 beside it on the same uWSGI for the parameter comparison.
import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selfSignedCert, startNginx, startUwsgi } from '../helpers/cgi-peers.js';
import { h2PostUnknownLength, timedGet } from '../helpers/cgi-clients.js';
import { curl } from '../helpers/curl.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import type { Peer } from '../helpers/process.js';

const APP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/wsgi/app.py');

type Environ = Record<string, string>;

describe('uwsgi (uWSGI, integration)', function () {
  this.timeout(60_000);
  let dir: string;
  let tmp: string;
  let uwsgi: Peer;
  let uwsgiPort: number;
  let gh: Gatehouse;

  before(async () => {
    dir = tempDir('gh-uwsgi-');
    tmp = path.join(dir, 'tmp');
    fs.mkdirSync(tmp);
    uwsgiPort = await freePort();
    const deadPort = await freePort();
    uwsgi = await startUwsgi(APP, ['--socket', `127.0.0.1:${uwsgiPort}`], uwsgiPort);
    gh = await startGatehouse(
      () => ({
        log: { access: 'off' },
        // Bodies of up to 20 MB below, over the default 1m (nginx's client_max_body_size).
        maxBody: 0,
        sites: [
          {
            hosts: ['a.test'],
            routes: [
              { location: '/', proxy: `uwsgi://127.0.0.1:${uwsgiPort}`, root: '/srv/app' },
              { location: '/noroot/', proxy: `uwsgi://127.0.0.1:${uwsgiPort}` },
              { location: '/dead/', proxy: `uwsgi://127.0.0.1:${deadPort}` },
            ],
          },
        ],
      }),
      { env: { TMPDIR: tmp } },
    );
  });

  after(async () => {
    await gh?.stop();
    await uwsgi?.stop('SIGTERM');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (p: string, extra: string[] = []) => curl([...extra, ...gh.curlArgs('a.test', p)]);
  const json = <T = Environ>(r: { status: number; body: Buffer }): T => {
    expect(r.status, r.body.toString()).to.equal(200);
    return JSON.parse(r.body.toString()) as T;
  };

  for (const [flag, protocol] of [
    ['--http1.1', 'HTTP/1.1'],
    ['--http2', 'HTTP/2.0'],
  ] as const) {
    it(`gives the app the environ of nginx's uwsgi_params over ${protocol}`, async () => {
      const env = json(await get('/py/env?x=1&y=%2F', [flag, '-H', 'X-Custom: yes', '-H', 'Proxy: http://evil.test:8080']));
      expect(env).to.include({
        QUERY_STRING: 'x=1&y=%2F',
        REQUEST_METHOD: 'GET',
        CONTENT_TYPE: '',
        CONTENT_LENGTH: '',
        REQUEST_URI: '/py/env?x=1&y=%2F',
        PATH_INFO: '/py/env',
        DOCUMENT_ROOT: '/srv/app',
        SERVER_PROTOCOL: protocol,
        REQUEST_SCHEME: 'https',
        HTTPS: 'on',
        REMOTE_ADDR: '127.0.0.1',
        SERVER_PORT: String(gh.httpsPort),
        SERVER_NAME: 'a.test',
        HTTP_HOST: `a.test:${gh.httpsPort}`,
        HTTP_X_CUSTOM: 'yes',
        'wsgi.url_scheme': 'https',
      });
      expect(Number(env.REMOTE_PORT)).to.be.greaterThan(0);
      expect(env).not.to.have.property('HTTP_PROXY');
    });
  }

  it('an absolute-form target: REQUEST_URI in origin-form, HTTP_HOST the authority it was routed by, not the Host header', async () => {
    const target = `https://a.test:${gh.httpsPort}/py/env?x=1`;
    const env = json(await get('/py/env?x=1', ['--http1.1', '--request-target', target, '-H', 'Host: b.test']));
    expect(env).to.include({ REQUEST_URI: '/py/env?x=1', QUERY_STRING: 'x=1', SERVER_NAME: 'a.test', HTTP_HOST: `a.test:${gh.httpsPort}` });
  });

  it('sends no DOCUMENT_ROOT without a root', async () => {
    const env = json(await get('/noroot/env'));
    expect(env.PATH_INFO).to.equal('/noroot/env');
    expect(env).not.to.have.property('DOCUMENT_ROOT');
  });

  describe('bodies', () => {
    const payload = (n: number) => {
      const file = path.join(dir, `body-${n}`);
      if (!fs.existsSync(file)) fs.writeFileSync(file, crypto.randomBytes(n));
      return { file, sha256: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') };
    };
    const cases: Array<[string, number, string[]]> = [
      ['0 B', 0, ['--http1.1']],
      ['1 MB', 1_000_000, ['--http1.1']],
      ['20 MB over HTTP/2', 20_000_000, ['--http2']],
      ['5 MB chunked, which uWSGI gets with its CONTENT_LENGTH', 5_000_000, ['--http1.1', '-H', 'Transfer-Encoding: chunked']],
    ];
    for (const [name, size, flags] of cases) {
      it(`reach wsgi.input whole: ${name}`, async () => {
        const { file, sha256 } = payload(size);
        const b = json<{ length: number; sha256: string; contentLength: string }>(
          await get('/py/body', [...flags, '-H', 'Content-Type: application/octet-stream', '--data-binary', `@${file}`]),
        );
        expect(b).to.deep.equal({ length: size, sha256, contentLength: String(size) });
      });
    }

    it('sends CONTENT_LENGTH for an HTTP/2 body sent without content-length', async () => {
      const data = crypto.randomBytes(300_000);
      const b = JSON.parse(await h2PostUnknownLength(gh, 'a.test', '/py/body', data)) as Record<string, unknown>;
      expect(b).to.deep.equal({ length: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex'), contentLength: String(data.length) });
      expect(fs.readdirSync(tmp)).to.deep.equal([]);
    });
  });

  it('passes the status and repeated Set-Cookie headers', async () => {
    const r = await get('/py/created');
    expect(r.status).to.equal(201);
    expect(r.headers['set-cookie']).to.deep.equal(['a=1', 'b=2']);
    expect(r.body.toString()).to.equal('made\n');
  });

  it("streams a generator's chunks as they come", async () => {
    const chunks = await timedGet(gh, 'a.test', '/py/stream');
    expect(chunks.map((c) => c.data).join('').split('\n').filter(Boolean)).to.have.length(3);
    expect(chunks[chunks.length - 1]!.at - chunks[0]!.at).to.be.greaterThan(450);
  });

  it('answers 502 when nothing listens, and keeps serving', async () => {
    const r = await get('/dead/env');
    expect(r.status).to.equal(502);
    expect((await get('/py/env')).status).to.equal(200);
  });

  describe('compared with nginx on the same uWSGI', () => {
    let nginx: Peer;
    let nginxPort: number;

    before(async () => {
      nginxPort = await freePort();
      const { cert, key } = selfSignedCert(dir);
      nginx = await startNginx(
        dir,
        `server {
          listen 127.0.0.1:${nginxPort} ssl http2;
          server_name a.test;
          ssl_certificate ${cert};
          ssl_certificate_key ${key};
          root /srv/app;
          location / { include uwsgi_params; uwsgi_pass 127.0.0.1:${uwsgiPort}; }
        }`,
        nginxPort,
      );
    });

    after(async () => {
      await nginx?.stop('SIGQUIT');
    });

    // Debian's uwsgi_params sends HTTP_HOST as $host (no port); both are asked for https://a.test/,
    // so the Host carries no port and the two agree. The rest differs by nature.
    const DIFFERENT = ['SERVER_PORT', 'REMOTE_PORT', 'uwsgi.node', 'uwsgi.version'];
    const strip = (s: Environ): Environ => Object.fromEntries(Object.entries(s).filter(([k]) => !DIFFERENT.includes(k)));
    const requests: Array<[string, string, string[]]> = [
      ['a GET over HTTP/1.1', '/py/env?x=1&y=%2F', ['--http1.1', '-H', 'Cookie: a=1; b=2', '-H', 'X-Custom: yes']],
      ['a GET over HTTP/2', '/py/a%20b/env?x=1', ['--http2', '-H', 'Accept-Language: en']],
      ['a form POST', '/py/env', ['--http1.1', '-d', 'a=1&b=2']],
      ['a chunked POST', '/py/env', ['--http1.1', '-H', 'Transfer-Encoding: chunked', '-d', 'a=1&b=2']],
    ];
    for (const [name, p, args] of requests) {
      it(`gives the app the same environ as nginx: ${name}`, async () => {
        const via = (port: number, tls: string[]) => curl([...tls, '--connect-to', `a.test:443:127.0.0.1:${port}`, ...args, `https://a.test${p}`]);
        const [g, n] = await Promise.all([via(gh.httpsPort, ['--cacert', gh.caFile]), via(nginxPort, ['-k'])]);
        expect(strip(json(g))).to.deep.equal(strip(json(n)));
      });
    }
  });
});
