// SCGI end to end: curl and Node clients → the real gatehouse → uWSGI's SCGI socket (python3
// plugin) with a WSGI app, and nginx 1.22 beside it on the same socket for the parameter comparison.
import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { h2PostUnknownLength, timedGet } from '../helpers/cgi-clients.js';
import { selfSignedCert, startNginx, startUwsgi } from '../helpers/cgi-peers.js';
import { curl } from '../helpers/curl.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import type { Peer } from '../helpers/process.js';

const APP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/wsgi/app.py');

type Environ = Record<string, string>;

describe('SCGI (uWSGI --scgi-socket, integration)', function () {
  this.timeout(60_000);
  let dir: string;
  let uwsgi: Peer;
  let scgiPort: number;
  let gh: Gatehouse;

  before(async () => {
    dir = tempDir('gh-scgi-');
    scgiPort = await freePort();
    uwsgi = await startUwsgi(APP, ['--scgi-socket', `127.0.0.1:${scgiPort}`], scgiPort);
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      // Bodies of 1 and 2 MB below, over the default 1m.
      maxBody: 0,
      sites: [{ hosts: ['a.test'], routes: [{ location: '/', proxy: `scgi://127.0.0.1:${scgiPort}`, root: '/srv/app' }] }],
    }));
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
    it(`gives the app nginx's scgi_params, CONTENT_LENGTH and SCGI=1, over ${protocol}`, async () => {
      const env = json(await get('/s/env?x=1', [flag, '-H', 'Proxy: http://evil.test:8080']));
      expect(env).to.include({
        CONTENT_LENGTH: '0',
        SCGI: '1',
        REQUEST_METHOD: 'GET',
        REQUEST_URI: '/s/env?x=1',
        QUERY_STRING: 'x=1',
        CONTENT_TYPE: '',
        DOCUMENT_URI: '/s/env',
        DOCUMENT_ROOT: '/srv/app',
        SERVER_PROTOCOL: protocol,
        REQUEST_SCHEME: 'https',
        HTTPS: 'on',
        REMOTE_ADDR: '127.0.0.1',
        SERVER_PORT: String(gh.httpsPort),
        SERVER_NAME: 'a.test',
        HTTP_HOST: `a.test:${gh.httpsPort}`,
      });
      expect(env).not.to.have.property('HTTP_PROXY');
    });
  }

  it('an absolute-form target: REQUEST_URI in origin-form, HTTP_HOST the authority it was routed by, not the Host header', async () => {
    const target = `https://a.test:${gh.httpsPort}/s/env?x=1`;
    const env = json(await get('/s/env?x=1', ['--http1.1', '--request-target', target, '-H', 'Host: b.test']));
    expect(env).to.include({ REQUEST_URI: '/s/env?x=1', QUERY_STRING: 'x=1', SERVER_NAME: 'a.test', HTTP_HOST: `a.test:${gh.httpsPort}` });
  });

  it('streams bodies both ways: 1 MB up with a length, 2 MB chunked, and an HTTP/2 body of unknown length', async () => {
    for (const flags of [['--http1.1'], ['--http1.1', '-H', 'Transfer-Encoding: chunked']]) {
      const data = crypto.randomBytes(flags.length > 1 ? 2_000_000 : 1_000_000);
      const file = path.join(dir, 'body');
      fs.writeFileSync(file, data);
      const b = json(await get('/s/body', [...flags, '--data-binary', `@${file}`]));
      expect(b).to.deep.equal({ length: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex'), contentLength: String(data.length) });
    }
    const data = crypto.randomBytes(200_000);
    const b = JSON.parse(await h2PostUnknownLength(gh, 'a.test', '/s/body', data)) as unknown;
    expect(b).to.deep.equal({ length: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex'), contentLength: String(data.length) });
  });

  it('reads the CGI-style head uWSGI sends over SCGI (Status:, repeated Set-Cookie)', async () => {
    const r = await get('/s/created');
    expect(r.status).to.equal(201);
    expect(r.headers['set-cookie']).to.deep.equal(['a=1', 'b=2']);
    expect(r.body.toString()).to.equal('made\n');
  });

  it('streams the response as it comes', async () => {
    const chunks = await timedGet(gh, 'a.test', '/s/stream');
    expect(chunks.map((c) => c.data).join('').split('\n').filter(Boolean)).to.have.length(3);
    expect(chunks[chunks.length - 1]!.at - chunks[0]!.at).to.be.greaterThan(450);
  });

  describe('compared with nginx on the same SCGI socket', () => {
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
          location / { include scgi_params; scgi_pass 127.0.0.1:${scgiPort}; }
        }`,
        nginxPort,
      );
    });

    after(async () => {
      await nginx?.stop('SIGQUIT');
    });

    const DIFFERENT = ['SERVER_PORT', 'REMOTE_PORT', 'uwsgi.node', 'uwsgi.version'];
    const strip = (s: Environ): Environ => Object.fromEntries(Object.entries(s).filter(([k]) => !DIFFERENT.includes(k)));
    const requests: Array<[string, string, string[]]> = [
      ['a GET over HTTP/1.1', '/s/env?x=1&y=%2F', ['--http1.1', '-H', 'Cookie: a=1; b=2']],
      ['a GET over HTTP/2', '/s/a%20b/env?x=1', ['--http2']],
      ['a chunked POST', '/s/env', ['--http1.1', '-H', 'Transfer-Encoding: chunked', '-d', 'a=1&b=2']],
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
