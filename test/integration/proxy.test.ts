// The proxy core end to end: curl (HTTP/1.1 and HTTP/2), nghttp and Node's http2 client through
// the real gatehouse process to a real HTTP backend on loopback.
import { expect } from 'chai';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import WebSocket from 'ws';
import { curl } from '../helpers/curl.js';
import { patternSha256, startEchoBackend, type EchoBackend, type SeenRequest } from '../helpers/echo-backend.js';
import { startGatehouse, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort, loopbackLookup } from '../helpers/ports.js';
import { errorBody } from '../../src/http/error-body.js';

describe('proxy core (integration)', function () {
  this.timeout(60_000);
  let backend: EchoBackend;
  let gh: Gatehouse;
  let deadPort: number;

  before(async () => {
    backend = await startEchoBackend();
    deadPort = await freePort();
    const b = backend.url;
    gh = await startGatehouse(() => ({
      trustedProxies: ['127.0.0.2'],
      log: { access: 'off' },
      // A 50 MB upload below; /limited/ has its own limit.
      maxBody: 0,
      sites: [
        {
          hosts: ['a.test'],
          default: true,
          routes: [
            { location: '= /', return: '200 A' },
            { location: '/', return: '200 B' },
            { location: '/documents/', return: '200 C' },
            { location: '^~ /images/', return: '200 D' },
            { location: '~* \\.(gif|jpg|jpeg)$', return: '200 E' },
          ],
        },
        {
          hosts: ['p.test'],
          hsts: '365d',
          routes: [
            { location: '/nouri/', proxy: b },
            { location: '/withuri/', proxy: `${b}/remote/` },
            { location: '/strip/', proxy: `${b}/` },
            { location: '/limited/', proxy: b, maxBody: '1k' },
            { location: '/slow/', proxy: b, timeout: '1s' },
            { location: '/dead/', proxy: `http://127.0.0.1:${deadPort}` },
            {
              location: '/',
              proxy: b,
              headers: {
                request: { set: { 'X-Custom': '$host-$scheme' }, remove: ['X-Drop'] },
                response: { set: { 'X-Resp': 'yes' } },
              },
            },
          ],
        },
        { hosts: ['*.wild.test'], routes: [{ location: '/', return: '200 wild' }] },
        { hosts: ['plain.test'], tls: 'off', routes: [{ location: '/', return: '200 plain' }] },
      ],
    }));
  });

  after(async () => {
    await gh?.stop();
    await backend?.close();
  });

  const lastSeen = (): SeenRequest => {
    const r = backend.seen[backend.seen.length - 1];
    if (!r) throw new Error('backend saw no request');
    return r;
  };
  const get = (name: string, p: string, extra: string[] = []) => curl([...extra, ...gh.curlArgs(name, p)]);

  describe('nginx location order (the nginx docs example)', () => {
    const table: Array<[string, string]> = [
      ['/', 'A'],
      ['/index.html', 'B'],
      ['/documents/document.html', 'C'],
      ['/images/1.gif', 'D'],
      ['/documents/1.jpg', 'E'],
    ];
    for (const proto of ['--http1.1', '--http2']) {
      for (const [p, want] of table) {
        it(`${p} → ${want} over ${proto}`, async () => {
          const r = await get('a.test', p, [proto]);
          expect(r.status).to.equal(200);
          expect(r.body.toString()).to.equal(want);
          expect(r.httpVersion).to.equal(proto === '--http2' ? '2' : '1.1');
        });
      }
    }
  });

  describe('proxy_pass URI semantics', () => {
    it('without a URI part passes the request URI as the client sent it', async () => {
      const r = await get('p.test', '/nouri/a%20b//c?x=1&y=%2F', ['--path-as-is']);
      expect(r.status).to.equal(200);
      expect(lastSeen().url).to.equal('/nouri/a%20b//c?x=1&y=%2F');
    });
    it('with a URI part replaces the matched prefix', async () => {
      await get('p.test', '/withuri/x/y?q=1');
      expect(lastSeen().url).to.equal('/remote/x/y?q=1');
      await get('p.test', '/strip/deep/file.txt');
      expect(lastSeen().url).to.equal('/deep/file.txt');
    });
    it('answers 301 to the slash-terminated location for a proxied prefix without its slash', async () => {
      const r = await get('p.test', '/withuri?k=v');
      expect(r.status).to.equal(301);
      expect(r.headers.location?.[0]).to.match(/\/withuri\/\?k=v$/);
    });
  });

  describe('headers', () => {
    it('sends Host as the client sent it and the default X-Forwarded-* headers', async () => {
      const r = await get('p.test', '/h');
      expect(r.status).to.equal(200);
      const seen = JSON.parse(r.body.toString()) as SeenRequest;
      expect(seen.headers.host).to.equal(`p.test:${gh.httpsPort}`);
      expect(seen.headers['x-forwarded-for']).to.equal('127.0.0.1');
      expect(seen.headers['x-forwarded-proto']).to.equal('https');
      expect(seen.headers['x-forwarded-host']).to.equal(`p.test:${gh.httpsPort}`);
      expect(seen.headers['x-forwarded-port']).to.equal(String(gh.httpsPort));
      expect(seen.headers['x-real-ip']).to.equal('127.0.0.1');
    });
    it('drops X-Forwarded-* from an untrusted client instead of appending to them', async () => {
      await get('p.test', '/spoof', ['-H', 'X-Forwarded-For: 6.6.6.6', '-H', 'X-Real-IP: 6.6.6.6', '-H', 'X-Forwarded-Proto: http']);
      const seen = lastSeen();
      expect(seen.headers['x-forwarded-for']).to.equal('127.0.0.1');
      expect(seen.headers['x-real-ip']).to.equal('127.0.0.1');
      expect(seen.headers['x-forwarded-proto']).to.equal('https');
    });
    it('appends to X-Forwarded-For from a trusted proxy and takes the client address from it', async () => {
      await get('p.test', '/trusted', ['--interface', '127.0.0.2', '-H', 'X-Forwarded-For: 203.0.113.9']);
      const seen = lastSeen();
      expect(seen.headers['x-forwarded-for']).to.equal('203.0.113.9, 127.0.0.2');
      expect(seen.headers['x-real-ip']).to.equal('203.0.113.9');
    });
    it('removes hop-by-hop headers in both directions', async () => {
      const r = await get('p.test', '/hop', ['--http1.1', '-H', 'Connection: x-foo', '-H', 'X-Foo: secret', '-H', 'Keep-Alive: 5', '-H', 'Proxy-Authorization: x']);
      const seen = lastSeen();
      expect(seen.headers['x-foo']).to.equal(undefined);
      expect(seen.headers['keep-alive']).to.equal(undefined);
      expect(seen.headers['proxy-authorization']).to.equal(undefined);
      expect(r.headers['x-secret-hop']).to.equal(undefined);
      expect(r.headers['proxy-authenticate']).to.equal(undefined);
      // gatehouse's own `Keep-Alive: timeout=60` may be there; the backend's `timeout=5` must not.
      expect(r.headers['keep-alive'] ?? []).to.not.include('timeout=5');
      expect(r.headers['x-kept']).to.deep.equal(['yes']);
    });
    it('applies configured request and response header operations with variables, and HSTS', async () => {
      const r = await get('p.test', '/conf', ['-H', 'X-Drop: 1']);
      const seen = lastSeen();
      expect(seen.headers['x-custom']).to.equal('p.test-https');
      expect(seen.headers['x-drop']).to.equal(undefined);
      expect(r.headers['x-resp']).to.deep.equal(['yes']);
      expect(r.headers['strict-transport-security']).to.deep.equal(['max-age=31536000']);
    });
    it('joins HTTP/2 cookies and maps :authority to Host for an HTTP/1.1 upstream', async () => {
      const ca = fs.readFileSync(gh.caFile);
      const session = http2.connect(`https://p.test:${gh.httpsPort}`, { ca, lookup: loopbackLookup });
      try {
        const body = await new Promise<string>((resolve, reject) => {
          const req = session.request({ ':path': '/cookies', cookie: ['a=1', 'b=2'], te: 'trailers' });
          let data = '';
          req.setEncoding('utf8');
          req.on('data', (c: string) => (data += c));
          req.on('end', () => resolve(data));
          req.on('error', reject);
          req.end();
        });
        const seen = JSON.parse(body) as SeenRequest;
        expect(seen.headers.cookie).to.equal('a=1; b=2');
        expect(seen.headers.host).to.equal(`p.test:${gh.httpsPort}`);
        expect(seen.headers.te).to.equal(undefined);
      } finally {
        session.close();
      }
    });
  });

  describe('bodies', () => {
    const size = 50 * 1024 * 1024;
    let upload: string;
    before(() => {
      upload = path.join(gh.dir, 'upload.bin');
      const buf = crypto.randomBytes(size);
      fs.writeFileSync(upload, buf);
    });
    for (const proto of ['--http1.1', '--http2']) {
      it(`uploads 50 MB intact over ${proto}`, async () => {
        const want = crypto.createHash('sha256').update(fs.readFileSync(upload)).digest('hex');
        const r = await get('p.test', '/upload', [proto, '--data-binary', `@${upload}`, '-H', 'Content-Type: application/octet-stream']);
        expect(r.status).to.equal(200);
        const seen = JSON.parse(r.body.toString()) as SeenRequest;
        expect(seen.bodyLength).to.equal(size);
        expect(seen.bodySha256).to.equal(want);
      });
      it(`downloads 50 MB intact over ${proto}`, async () => {
        const r = await get('p.test', `/big/${size}`, [proto]);
        expect(r.status).to.equal(200);
        expect(r.body.length).to.equal(size);
        expect(crypto.createHash('sha256').update(r.body).digest('hex')).to.equal(patternSha256(size));
      });
    }
    it('answers 413 when the declared body is over maxBody, without reaching the backend', async () => {
      const before = backend.seen.length;
      const r = await get('p.test', '/limited/x', ['--data-binary', 'x'.repeat(2048)]);
      expect(r.status).to.equal(413);
      expect(backend.seen.length).to.equal(before);
    });
    it('answers 413 for a chunked body that grows over maxBody', async () => {
      const r = await get('p.test', '/limited/x', ['--http1.1', '-H', 'Transfer-Encoding: chunked', '--data-binary', 'y'.repeat(4096)]);
      expect(r.status).to.equal(413);
    });
  });

  describe('failures', () => {
    it('aborts the upstream request when the client goes away', async () => {
      await get('p.test', '/hang', ['--max-time', '1']);
      const deadline = Date.now() + 5000;
      while (!backend.aborted.includes('/hang') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(backend.aborted).to.include('/hang');
    });
    it('answers 502 when the backend refuses the connection', async () => {
      const r = await get('p.test', '/dead/x');
      expect(r.status).to.equal(502);
      expect(r.body.toString()).to.equal(errorBody(502));
      expect(r.body.toString()).to.include('<title>502 Bad Gateway</title>');
    });
    it('answers 504 when the backend is slower than the route timeout', async () => {
      const started = Date.now();
      const r = await get('p.test', '/slow/3000');
      expect(r.status).to.equal(504);
      expect(Date.now() - started).to.be.below(2900);
    });
    it('answers 400 for a path that climbs above the root', async () => {
      const r = await get('p.test', '/../../etc/passwd', ['--path-as-is']);
      expect(r.status).to.equal(400);
    });
  });

  describe('TLS, SNI and ALPN', () => {
    const sanOf = (servername: string | undefined): Promise<string> =>
      new Promise((resolve, reject) => {
        const args = ['s_client', '-connect', `127.0.0.1:${gh.httpsPort}`, ...(servername ? ['-servername', servername] : ['-noservername'])];
        const child = execFile('openssl', args, { timeout: 10_000 }, (err, stdout) => {
          if (err && !stdout) return reject(err);
          const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(stdout)?.[0];
          if (!pem) return reject(new Error(`no certificate:\n${stdout}`));
          resolve(new crypto.X509Certificate(pem).subjectAltName ?? '');
        });
        child.stdin?.end();
      });
    it('picks the exact-name certificate', async () => {
      expect(await sanOf('p.test')).to.include('DNS:p.test');
    });
    it('picks the one-label wildcard certificate', async () => {
      expect(await sanOf('x.wild.test')).to.include('DNS:*.wild.test');
    });
    it('falls back to the default site certificate for an unknown name and for no SNI', async () => {
      expect(await sanOf('unknown.test')).to.include('DNS:a.test');
      expect(await sanOf(undefined)).to.include('DNS:a.test');
    });
    it('answers 421 when the Host is not covered by the connection certificate', async () => {
      const r = await curl(['--cacert', gh.caFile, '--resolve', `a.test:${gh.httpsPort}:127.0.0.1`, '-H', 'Host: p.test', `https://a.test:${gh.httpsPort}/`]);
      expect(r.status).to.equal(421);
    });
    it('refuses TLS 1.1', async () => {
      const r = await curl(['--tlsv1.1', '--tls-max', '1.1', ...gh.curlArgs('a.test', '/')]);
      expect(r.status).to.equal(0);
      expect(r.exitCode).to.not.equal(0);
    });
    it('negotiates h2 by ALPN for nghttp', async () => {
      const out = await new Promise<string>((resolve) => {
        execFile('nghttp', ['-v', '-H', ':authority: a.test', `https://127.0.0.1:${gh.httpsPort}/`], { timeout: 10_000 }, (_e, stdout) => resolve(stdout));
      });
      expect(out).to.match(/negotiated protocol: h2/);
      expect(out).to.match(/:status: 200/);
    });
  });

  describe('plain HTTP listener', () => {
    it('redirects TLS sites to HTTPS with 308, keeping the https port', async () => {
      const r = await curl(['-H', 'Host: p.test', `http://127.0.0.1:${gh.httpPort}/x?y=1`]);
      expect(r.status).to.equal(308);
      expect(r.headers.location).to.deep.equal([`https://p.test:${gh.httpsPort}/x?y=1`]);
    });
    it('serves tls: off sites directly', async () => {
      const r = await curl(['-H', 'Host: plain.test', `http://127.0.0.1:${gh.httpPort}/`]);
      expect(r.status).to.equal(200);
      expect(r.body.toString()).to.equal('plain');
    });
  });

  describe('WebSocket', () => {
    it('passes an HTTP/1.1 Upgrade through to the backend and back', async () => {
      const ws = new WebSocket(`wss://p.test:${gh.httpsPort}/ws`, {
        ca: fs.readFileSync(gh.caFile),
        lookup: loopbackLookup,
        servername: 'p.test',
      } as unknown as WebSocket.ClientOptions);
      const reply = await new Promise<string>((resolve, reject) => {
        ws.once('open', () => ws.send('hello'));
        ws.once('message', (d) => resolve(String(d)));
        ws.once('error', reject);
      });
      ws.close();
      expect(reply).to.equal('echo:hello');
    });
  });
});
