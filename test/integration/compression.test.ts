// Response compression end to end: curl and Node clients → the real gatehouse → a real HTTP backend
// on loopback and static files; compressed bodies are decoded here and compared with the original.
import { expect } from 'chai';
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { curl, type CurlResult } from '../helpers/curl.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { loopbackLookup } from '../helpers/ports.js';

/** Text that compresses like real text does: repetitive, not constant. */
function text(size: number): Buffer {
  let s = '';
  for (let i = 0; s.length < size; i++) s += `line ${i}: the quick brown fox jumps over the lazy dog ${(i * 7919) % 1000}\n`;
  return Buffer.from(s.slice(0, size));
}

interface Backend {
  url: string;
  /** When the SSE route wrote each event (performance.now()). */
  sseSent: number[];
  close(): Promise<void>;
}

async function startBackend(): Promise<Backend> {
  const sseSent: number[] = [];
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    // Any prefix: routes that reach the backend with their own path (tryFiles → @name) ask for /PREFIX/text/N.
    const sized = /\/text\/(\d+)$/.exec(p);
    if (sized) {
      const body = text(Number(sized[1]));
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain; charset=utf-8' };
      if (url.searchParams.has('cl')) headers['content-length'] = body.length;
      res.writeHead(200, headers);
      // Streamed in pieces, so that a length-less body arrives chunked.
      for (let off = 0; off < body.length; off += 16 * 1024) res.write(body.subarray(off, off + 16 * 1024));
      res.end();
    } else if (p === '/png') {
      const body = Buffer.alloc(8192, 7);
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length });
      res.end(body);
    } else if (p === '/range') {
      const body = text(8192);
      if (req.headers.range === 'bytes=0-4095') {
        res.writeHead(206, { 'content-type': 'text/plain', 'content-range': `bytes 0-4095/${body.length}`, 'content-length': 4096 });
        res.end(body.subarray(0, 4096));
      } else {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
        res.end(body);
      }
    } else if (p === '/no-transform') {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'public, no-transform' });
      res.end(text(8192));
    } else if (p === '/already-gzip') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync(text(8192)));
    } else if (p === '/tagged') {
      res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"', vary: 'Origin' });
      res.end(JSON.stringify({ items: text(4000).toString() }));
    } else if (p === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let n = 0;
      const tick = (): void => {
        sseSent.push(performance.now());
        res.write(`id: ${n}\ndata: event ${n}\n\n`);
        if (++n === 4) res.end();
        else setTimeout(tick, 300);
      };
      tick();
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sseSent,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())).then(() => undefined),
  };
}

const decoders: Record<string, (b: Buffer) => Buffer> = {
  br: (b) => zlib.brotliDecompressSync(b),
  gzip: (b) => zlib.gunzipSync(b),
};

describe('compression (integration)', function () {
  this.timeout(60_000);
  let backend: Backend;
  let gh: Gatehouse;
  const www = tempDir('gh-www-');
  const bigFile = text(20_000);

  before(async () => {
    backend = await startBackend();
    const dir = path.join(www, 'static');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'big.txt'), bigFile);
    fs.writeFileSync(path.join(dir, 'small.txt'), text(500));
    fs.writeFileSync(path.join(dir, 'pic.png'), Buffer.alloc(20_000, 1));
    fs.writeFileSync(path.join(dir, 'app.js'), text(5000));
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      sites: [
        {
          hosts: ['c.test'],
          default: true,
          routes: [
            { location: '/static/', root: www },
            { location: '= /big-return', return: `200 ${text(3000).toString().replace(/\n/g, ' ')}` },
            { location: '/', proxy: backend.url },
          ],
        },
        { hosts: ['off.test'], compress: 'off', routes: [{ location: '/', proxy: backend.url }] },
        { hosts: ['gz.test'], compress: ['gzip'], routes: [{ location: '/', proxy: backend.url }] },
        { hosts: ['auth.test'], compressAuthenticated: true, routes: [{ location: '/', proxy: backend.url }] },
        // Static routes that hand over to a proxy route: tryFiles to @name, tryFiles to a URI.
        {
          hosts: ['fallback.test'],
          routes: [
            { location: '/static/', root: www, tryFiles: ['$uri', '@backend'] },
            { location: '/via-uri/', root: www, tryFiles: ['$uri', '/app$uri'] },
            { location: '/app/', proxy: `${backend.url}/` },
            { location: '@backend', proxy: backend.url },
          ],
        },
      ],
    }));
  });

  after(async () => {
    await gh?.stop();
    await backend?.close();
    fs.rmSync(www, { recursive: true, force: true });
  });

  const get = (p: string, ae: string | undefined, extra: string[] = [], host = 'c.test'): Promise<CurlResult> =>
    curl([...(ae === undefined ? [] : ['-H', `Accept-Encoding: ${ae}`]), ...extra, ...gh.curlArgs(host, p)]);
  const encodingOf = (r: CurlResult): string | undefined => r.headers['content-encoding']?.[0];
  const decoded = (r: CurlResult): Buffer => {
    const enc = encodingOf(r);
    return enc === undefined ? r.body : decoders[enc]!(r.body);
  };
  const staticPath = (name: string) => `/static/${name}`;

  describe('BREACH: no compression of proxied answers to requests with credentials', () => {
    it('a proxied response to a request with Cookie or Authorization leaves uncompressed', async () => {
      expect(encodingOf(await get('/text/8192', 'br'))).to.equal('br');
      const withCookie = await get('/text/8192', 'br', ['-H', 'Cookie: session=1']);
      expect(encodingOf(withCookie)).to.equal(undefined);
      expect(withCookie.body.equals(text(8192))).to.equal(true);
      expect(encodingOf(await get('/text/8192', 'br', ['-u', 'user:pw']))).to.equal(undefined);
    });

    it('files gatehouse serves itself are compressed whatever the request carries', async () => {
      expect(encodingOf(await get(staticPath('big.txt'), 'br', ['-H', 'Cookie: session=1']))).to.equal('br');
    });

    it('a static route handing over to a proxy route (tryFiles → @backend, tryFiles → URI) leaves the proxied answer uncompressed', async () => {
      // /static/text/8192 is no file: tryFiles runs @backend, which asks the backend for /static/text/8192.
      const named = await get('/static/text/8192', 'br', ['-H', 'Cookie: session=1'], 'fallback.test');
      expect(named.status).to.equal(200);
      expect(encodingOf(named)).to.equal(undefined);
      expect(named.body.equals(text(8192))).to.equal(true);
      expect(encodingOf(await get('/static/text/8192', 'br', [], 'fallback.test')), 'without credentials').to.equal('br');
      const file = await get('/static/big.txt', 'br', ['-H', 'Cookie: session=1'], 'fallback.test');
      expect(encodingOf(file), 'a file the static route serves itself').to.equal('br');
      const proxied = await get('/via-uri/text/8192', 'br', ['-H', 'Cookie: session=1'], 'fallback.test');
      expect(proxied.status).to.equal(200);
      expect(encodingOf(proxied)).to.equal(undefined);
      expect(proxied.body.equals(text(8192))).to.equal(true);
      expect(encodingOf(await get('/via-uri/text/8192', 'br', [], 'fallback.test')), 'without credentials').to.equal('br');
    });

    it('compressAuthenticated: true compresses them anyway', async () => {
      expect(encodingOf(await get('/text/8192', 'br', ['-H', 'Cookie: session=1'], 'auth.test'))).to.equal('br');
    });
  });

  describe('negotiation', () => {
    const cases: Array<[string | undefined, string | undefined]> = [
      ['br', 'br'],
      ['gzip', 'gzip'],
      ['gzip, deflate, br', 'br'],
      ['gzip;q=1.0, br;q=0.5', 'gzip'],
      ['br;q=0, gzip;q=0.1', 'gzip'],
      ['br;q=0, gzip;q=0', undefined],
      ['*', 'br'],
      ['identity', undefined],
      ['deflate', undefined],
      [undefined, undefined],
    ];
    for (const proto of ['--http1.1', '--http2']) {
      for (const [ae, want] of cases) {
        it(`Accept-Encoding ${JSON.stringify(ae ?? null)} → ${want ?? 'identity'} (${proto})`, async () => {
          const r = await get('/text/20000', ae, [proto]);
          expect(r.status).to.equal(200);
          expect(encodingOf(r)).to.equal(want);
          expect(r.headers.vary).to.deep.equal(['Accept-Encoding']);
          expect(decoded(r).equals(text(20000))).to.equal(true);
        });
      }
    }
    it('follows the site order: compress: [gzip] never sends br', async () => {
      expect(encodingOf(await get('/text/20000', 'br, gzip', [], 'gz.test'))).to.equal('gzip');
      expect(encodingOf(await get('/text/20000', 'br', [], 'gz.test'))).to.equal(undefined);
    });
    it('compress: off sends identity', async () => {
      const r = await get('/text/20000', 'br, gzip', [], 'off.test');
      expect(encodingOf(r)).to.equal(undefined);
      expect(r.headers.vary).to.equal(undefined);
    });
  });

  describe('round trips', () => {
    for (const enc of ['br', 'gzip']) {
      for (const proto of ['--http1.1', '--http2']) {
        it(`a streamed 1 MB body decodes to the original (${enc}, ${proto})`, async () => {
          const r = await get('/text/1000000', enc, [proto]);
          expect(encodingOf(r)).to.equal(enc);
          expect(r.headers['content-length']).to.equal(undefined);
          expect(r.body.length).to.be.lessThan(400_000);
          expect(decoded(r).equals(text(1_000_000))).to.equal(true);
        });
      }
      it(`a body with Content-Length loses it and decodes to the original (${enc})`, async () => {
        const r = await get('/text/50000?cl=1', enc);
        expect(encodingOf(r)).to.equal(enc);
        expect(r.headers['content-length']).to.equal(undefined);
        expect(decoded(r).equals(text(50000))).to.equal(true);
      });
      it(`a static file decodes to the original, with a weak ETag and no Accept-Ranges (${enc})`, async () => {
        const plain = await get(staticPath('big.txt'), undefined);
        expect(plain.headers.etag?.[0]).to.match(/^"/);
        const r = await get(staticPath('big.txt'), enc);
        expect(r.status).to.equal(200);
        expect(encodingOf(r)).to.equal(enc);
        expect(r.headers.etag).to.deep.equal([`W/${plain.headers.etag![0]}`]);
        expect(r.headers['accept-ranges']).to.equal(undefined);
        expect(decoded(r).equals(bigFile)).to.equal(true);
      });
    }
    it('a return body over 1 KiB is compressed too', async () => {
      const r = await get('/big-return', 'gzip');
      expect(encodingOf(r)).to.equal('gzip');
      expect(decoded(r).toString()).to.equal(text(3000).toString().replace(/\n/g, ' '));
    });
    it('keeps the upstream Vary and weakens its ETag', async () => {
      const r = await get('/tagged', 'br');
      expect(encodingOf(r)).to.equal('br');
      expect(r.headers.vary).to.deep.equal(['Origin, Accept-Encoding']);
      expect(r.headers.etag).to.deep.equal(['W/"v1"']);
    });
  });

  describe('what is left alone', () => {
    it('bodies under 1 KiB (proxied and static)', async () => {
      const proxied = await get('/text/1000?cl=1', 'br, gzip');
      expect(encodingOf(proxied)).to.equal(undefined);
      expect(proxied.headers['content-length']).to.deep.equal(['1000']);
      const file = await get(staticPath('small.txt'), 'br, gzip');
      expect(encodingOf(file)).to.equal(undefined);
      expect(file.body.equals(text(500))).to.equal(true);
    });
    it('images (proxied and static)', async () => {
      const proxied = await get('/png', 'br, gzip');
      expect(encodingOf(proxied)).to.equal(undefined);
      expect(proxied.headers.vary).to.equal(undefined);
      expect(proxied.body.length).to.equal(8192);
      const file = await get(staticPath('pic.png'), 'br, gzip');
      expect(encodingOf(file)).to.equal(undefined);
      expect(file.headers['content-length']).to.deep.equal(['20000']);
    });
    it('a Range response (206)', async () => {
      const r = await get('/range', 'br, gzip', ['-H', 'Range: bytes=0-4095']);
      expect(r.status).to.equal(206);
      expect(encodingOf(r)).to.equal(undefined);
      expect(r.body.equals(text(8192).subarray(0, 4096))).to.equal(true);
    });
    it('Cache-Control: no-transform', async () => {
      const r = await get('/no-transform', 'br, gzip');
      expect(encodingOf(r)).to.equal(undefined);
      expect(r.body.equals(text(8192))).to.equal(true);
    });
    it('a body the upstream encoded already', async () => {
      const r = await get('/already-gzip', 'br');
      expect(encodingOf(r)).to.equal('gzip');
      expect(zlib.gunzipSync(r.body).equals(text(8192))).to.equal(true);
    });
    it('HEAD: identity length, Vary still present', async () => {
      const r = await get(staticPath('app.js'), 'br', ['-I']);
      expect(r.status).to.equal(200);
      expect(encodingOf(r)).to.equal(undefined);
      expect(r.headers['content-length']).to.deep.equal(['5000']);
      expect(r.headers.vary).to.deep.equal(['Accept-Encoding']);
    });
  });

  describe('server-sent events through compression', () => {
    // Each event must reach the client when the backend writes it, not when the encoder's buffer fills.
    const check = (arrived: number[], sent: number[], body: string): void => {
      expect(body).to.equal('id: 0\ndata: event 0\n\nid: 1\ndata: event 1\n\nid: 2\ndata: event 2\n\nid: 3\ndata: event 3\n\n');
      expect(arrived).to.have.length(4);
      arrived.forEach((t, i) => expect(t - sent[i]!, `event ${i} delay`).to.be.within(0, 150));
    };

    for (const enc of ['gzip', 'br']) {
      it(`events arrive one by one over HTTP/2 (${enc})`, async () => {
        backend.sseSent.length = 0;
        const session = http2.connect(`https://c.test:${gh.httpsPort}`, {
          ca: fs.readFileSync(gh.caFile),
          lookup: loopbackLookup,
        });
        try {
          const stream = session.request({ ':path': '/sse', 'accept-encoding': enc });
          const head = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('response', resolve));
          expect(head['content-encoding']).to.equal(enc);
          const { arrived, body } = await collectEvents(stream.pipe(enc === 'br' ? zlib.createBrotliDecompress() : zlib.createGunzip()));
          check(arrived, backend.sseSent, body);
        } finally {
          session.close();
        }
      });
    }

    it('events arrive one by one over HTTP/1.1 (gzip)', async () => {
      backend.sseSent.length = 0;
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        https
          .get(`https://c.test:${gh.httpsPort}/sse`, {
            ca: fs.readFileSync(gh.caFile),
            lookup: loopbackLookup,
            headers: { 'accept-encoding': 'gzip' },
          }, resolve)
          .on('error', reject);
      });
      expect(res.headers['content-encoding']).to.equal('gzip');
      const { arrived, body } = await collectEvents(res.pipe(zlib.createGunzip()));
      check(arrived, backend.sseSent, body);
    });
  });
});

/** Decoded SSE text and the time each complete event (blank-line terminated) was decoded. */
async function collectEvents(decoded: NodeJS.ReadableStream): Promise<{ arrived: number[]; body: string }> {
  const arrived: number[] = [];
  let body = '';
  for await (const chunk of decoded) {
    const now = performance.now();
    body += String(chunk);
    const events = body.split('\n\n').length - 1;
    while (arrived.length < events) arrived.push(now);
  }
  return { arrived, body };
}
