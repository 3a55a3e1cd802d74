// Request limits end to end: rate limits (429 + Retry-After, per client address, trustedProxies,
// route over site), header size (431 over HTTP/1.1 and HTTP/2), maxBody (413 on proxy, CGI, static
// and return routes, before anything reaches the backend) and the per-route timeout (504).
import { expect } from 'chai';
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { curl, type CurlResult } from '../helpers/curl.js';
import { startFakeFastCgi, type FakeFastCgi } from '../helpers/fake-fastcgi.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { loopbackLookup } from '../helpers/ports.js';

interface Backend {
  url: string;
  /** Request paths the backend has seen, in order. */
  seen: string[];
  close(): Promise<void>;
}

async function startBackend(): Promise<Backend> {
  const seen: string[] = [];
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.url ?? '');
    req.resume();
    if (req.url?.startsWith('/slow/hang')) return; // never answers
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(req.url === '/crumbs' ? String(req.headers.cookie) : 'ok\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('request limits (integration)', function () {
  this.timeout(60_000);
  let backend: Backend;
  let fcgi: FakeFastCgi;
  let gh: Gatehouse;
  const www = tempDir('gh-www-');

  before(async () => {
    backend = await startBackend();
    fcgi = await startFakeFastCgi();
    fs.mkdirSync(path.join(www, 'files'));
    fs.writeFileSync(path.join(www, 'files', 'a.txt'), 'static\n');
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      trustedProxies: ['127.0.0.3'],
      sites: [
        {
          hosts: ['r.test'],
          default: true,
          // 1r/m: nothing leaks out of the bucket while a test runs, so counts are exact.
          rateLimit: { rate: '1r/m', burst: 2 },
          routes: [
            { location: '/own/', proxy: backend.url, rateLimit: { rate: '1r/m', burst: 0 } },
            { location: '/', proxy: backend.url },
          ],
        },
        {
          hosts: ['m.test'],
          routes: [
            { location: '/limited/', proxy: backend.url, maxBody: '1k' },
            { location: '/slow/', proxy: backend.url, timeout: '1s' },
            { location: '/cgi/', proxy: `fastcgi://127.0.0.1:${fcgi.port}`, root: www, maxBody: '1k' },
            { location: '/files/', root: www, maxBody: '1k' },
            { location: '= /ret', return: '200 fine', maxBody: '1k' },
            { location: '/', proxy: backend.url },
          ],
        },
      ],
    }));
  });

  after(async () => {
    await gh?.stop();
    await backend?.close();
    await fcgi?.close();
    fs.rmSync(www, { recursive: true, force: true });
  });

  const req = (host: string, p: string, extra: string[] = []): Promise<CurlResult> => curl([...extra, ...gh.curlArgs(host, p)]);

  describe('rateLimit', () => {
    it('answers 429 with Retry-After once a client is past rate + burst (nodelay: the burst is served at once)', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await req('r.test', `/site/${i}`, ['--interface', '127.0.0.1'])).status);
      expect(statuses).to.deep.equal([200, 200, 200]);
      for (const proto of ['--http1.1', '--http2']) {
        const over = await req('r.test', '/site/over', ['--interface', '127.0.0.1', proto]);
        expect(over.status, proto).to.equal(429);
        // 1r/m: the next request fits once one has leaked out, up to a minute from now.
        const retry = Number(over.headers['retry-after']?.[0]);
        expect(retry, proto).to.be.within(50, 60);
      }
      expect(backend.seen.filter((u) => u === '/site/over')).to.have.length(0);
    });

    it('limits each client address on its own', async () => {
      const a = await req('r.test', '/site/a', ['--interface', '127.0.0.1']);
      expect(a.status).to.equal(429);
      const b = await req('r.test', '/site/b', ['--interface', '127.0.0.2']);
      expect(b.status).to.equal(200);
    });

    it('takes the client from X-Forwarded-For only from a trusted proxy', async () => {
      // 127.0.0.3 is trusted: the clients behind it are limited one by one.
      for (const client of ['10.0.0.1', '10.0.0.2']) {
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) {
          statuses.push((await req('r.test', `/xff/${i}`, ['--interface', '127.0.0.3', '-H', `X-Forwarded-For: ${client}`])).status);
        }
        expect(statuses, client).to.deep.equal([200, 200, 200, 429]);
      }
      // 127.0.0.5 is not: a made-up X-Forwarded-For does not buy it a fresh bucket.
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await req('r.test', `/spoof/${i}`, ['--interface', '127.0.0.5', '-H', `X-Forwarded-For: 10.9.9.${i}`])).status);
      }
      expect(statuses).to.deep.equal([200, 200, 200, 429]);
    });

    it("a route's own limit replaces the site's and has its own bucket", async () => {
      const first = await req('r.test', '/own/1', ['--interface', '127.0.0.4']);
      const second = await req('r.test', '/own/2', ['--interface', '127.0.0.4']);
      expect([first.status, second.status]).to.deep.equal([200, 429]);
      expect(Number(second.headers['retry-after']?.[0])).to.be.within(50, 60);
      // The site's bucket for this client is untouched.
      expect((await req('r.test', '/site/after-own', ['--interface', '127.0.0.4'])).status).to.equal(200);
    });
  });

  describe('header size', () => {
    const big = `X-Big: ${'a'.repeat(40_000)}`;
    it('answers 431 over HTTP/1.1', async () => {
      const r = await req('m.test', '/', ['--http1.1', '-H', big]);
      expect(r.status).to.equal(431);
    });
    it('answers 431 over HTTP/2', async () => {
      const r = await req('m.test', '/', ['--http2', '-H', big]);
      expect(r.status).to.equal(431);
      expect(r.httpVersion).to.equal('2');
      expect(backend.seen.filter((u) => u === '/')).to.have.length(0);
    });
    it('over HTTP/2 only the stream is refused: the connection keeps serving', async () => {
      const session = http2.connect(`https://m.test:${gh.httpsPort}`, { ca: fs.readFileSync(gh.caFile), lookup: loopbackLookup });
      try {
        const status = (headers: http2.OutgoingHttpHeaders) =>
          new Promise<number>((resolve, reject) => {
            const stream = session.request(headers);
            stream.once('response', (h) => resolve(Number(h[':status'])));
            stream.once('error', reject);
            stream.resume();
          });
        expect(await status({ ':path': '/ret', 'x-big': 'a'.repeat(40_000) })).to.equal(431);
        expect(await status({ ':path': '/ret' })).to.equal(200);
      } finally {
        session.close();
      }
    });
    it('limits header fields by size, not count: 300 cookie crumbs over HTTP/2 reach the backend as one cookie', async () => {
      // RFC 9113 §8.2.3 lets a client send each cookie as its own field; browsers do. Node's HTTP/2
      // default of 128 fields per request refused such a request with ENHANCE_YOUR_CALM.
      const session = http2.connect(`https://m.test:${gh.httpsPort}`, { ca: fs.readFileSync(gh.caFile), lookup: loopbackLookup });
      try {
        const cookies = Array.from({ length: 300 }, (_, i) => `c${i}=v${i}`);
        const body = await new Promise<string>((resolve, reject) => {
          const stream = session.request({ ':path': '/crumbs', cookie: cookies });
          let text = '';
          stream.setEncoding('utf8');
          stream.on('data', (c: string) => (text += c));
          stream.once('end', () => resolve(text));
          stream.once('error', reject);
        });
        expect(body).to.equal(cookies.join('; '));
      } finally {
        session.close();
      }
    });
    it('serves headers just under the limit', async () => {
      for (const proto of ['--http1.1', '--http2']) {
        // A return route: a proxied request would meet the backend's own limit (Node: 16 KiB).
        expect((await req('m.test', '/ret', [proto, '-H', `X-Big: ${'a'.repeat(30_000)}`])).status, proto).to.equal(200);
      }
    });
  });

  describe('maxBody', () => {
    const body = ['--data-binary', 'x'.repeat(2000)];
    for (const proto of ['--http1.1', '--http2']) {
      it(`413 for a declared body over the limit, nothing forwarded: proxy (${proto})`, async () => {
        const r = await req('m.test', '/limited/declared', [proto, ...body]);
        expect(r.status).to.equal(413);
        expect(backend.seen).to.not.include('/limited/declared');
      });
    }
    it('413 for a chunked body that grows over the limit: proxy', async () => {
      const r = await req('m.test', '/limited/chunked', ['--http1.1', '-H', 'Transfer-Encoding: chunked', ...body]);
      expect(r.status).to.equal(413);
    });
    it('a body under the limit passes', async () => {
      const r = await req('m.test', '/limited/small', ['--data-binary', 'x'.repeat(1000)]);
      expect(r.status).to.equal(200);
    });
    it('413 on a FastCGI route, before the application sees anything', async () => {
      const r = await req('m.test', '/cgi/x.php', body);
      expect(r.status).to.equal(413);
      expect(fcgi.connections).to.equal(0);
    });
    it('413 on static and return routes too (nginx checks client_max_body_size for every location)', async () => {
      expect((await req('m.test', '/files/a.txt', body)).status).to.equal(413);
      expect((await req('m.test', '/ret', ['--http2', ...body])).status).to.equal(413);
      // Without a body both still answer as usual.
      expect((await req('m.test', '/files/a.txt')).body.toString()).to.equal('static\n');
      expect((await req('m.test', '/ret')).body.toString()).to.equal('fine');
    });
  });

  describe('route timeout', () => {
    it('504 when the upstream says nothing for the route timeout (1s, not the 60s default)', async () => {
      const t0 = performance.now();
      const r = await req('m.test', '/slow/hang');
      const took = performance.now() - t0;
      expect(r.status).to.equal(504);
      expect(took).to.be.within(900, 5000);
    });
  });
});
