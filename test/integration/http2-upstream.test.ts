// HTTP/2 upstreams end to end: clients (Node's http2 client, curl) through the real gatehouse to
// real Node HTTP/2 backends, cleartext with prior knowledge (h2c://) and TLS with ALPN h2 (h2://)
// behind a private CA made by openssl.
import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import http2, { type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import path from 'node:path';
import { curl } from '../helpers/curl.js';
import { patternSha256, startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { startH2Backend, type H2Backend, type H2SeenRequest } from '../helpers/h2-backend.js';
import { freePort, loopbackLookup } from '../helpers/ports.js';
import { makeTestCa } from '../helpers/test-ca.js';

interface H2Result {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: IncomingHttpHeaders | undefined;
}

function h2request(
  session: ClientHttp2Session,
  p: string,
  opts: { method?: string; body?: Buffer; headers?: Record<string, string> } = {},
): Promise<H2Result> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': opts.method ?? 'GET', ':path': p, ...opts.headers }, { endStream: opts.body === undefined });
    const chunks: Buffer[] = [];
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks), trailers }));
    req.on('error', reject);
    if (opts.body !== undefined) {
      // Write in pieces so the upload really streams.
      let off = 0;
      const pump = (): void => {
        while (off < (opts.body as Buffer).length) {
          const piece = (opts.body as Buffer).subarray(off, off + 256 * 1024);
          off += piece.length;
          if (!req.write(piece)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    }
  });
}

describe('HTTP/2 upstreams: h2c:// and h2:// (integration)', function () {
  this.timeout(60_000);
  let h2c: H2Backend;
  let h2tls: H2Backend;
  let unknown: H2Backend;
  let goaway: H2Backend;
  let mux: H2Backend;
  let failing: H2Backend;
  let narrow: H2Backend;
  let http1: EchoBackend;
  let https1: https.Server;
  let silent: net.Server;
  let gh: Gatehouse;
  let session: ClientHttp2Session;
  let caFile: string;
  let deadPort: number;

  before(async () => {
    const dir = tempDir('gh-h2up-');
    const ca = makeTestCa(path.join(dir, 'ca'));
    caFile = ca.caFile;
    // Only a DNS name: a client that does not send servername "backend.internal" must fail.
    const backendCert = ca.issue('backend', ['backend.internal']);
    const stranger = makeTestCa(path.join(dir, 'stranger'), 'nobody trusts this CA').issue('stranger', ['stranger.internal']);
    h2c = await startH2Backend();
    h2tls = await startH2Backend({ tls: { key: backendCert.key, cert: backendCert.cert } });
    unknown = await startH2Backend({ tls: { key: stranger.key, cert: stranger.cert } });
    goaway = await startH2Backend({ goawayAfter: 7 });
    mux = await startH2Backend();
    failing = await startH2Backend();
    narrow = await startH2Backend({ settings: { maxConcurrentStreams: 4 } });
    http1 = await startEchoBackend();
    // TLS with the right certificate, but ALPN offers only http/1.1.
    https1 = https.createServer({ key: backendCert.key, cert: backendCert.cert }, (_req, res) => res.end('h1'));
    await new Promise<void>((resolve) => https1.listen(0, '127.0.0.1', resolve));
    // Accepts TCP connections and never says a word (no SETTINGS).
    silent = net.createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const portOf = (srv: net.Server): number => (srv.address() as AddressInfo).port;
    deadPort = await freePort();
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      // Uploads here are larger than the default 1m (nginx's client_max_body_size).
      maxBody: 0,
      upstreams: {
        clear: { servers: [`h2c://127.0.0.1:${h2c.port}`] },
        private: { servers: [`h2://127.0.0.1:${h2tls.port}`], tls: { ca: caFile, servername: 'backend.internal' } },
        noname: { servers: [`h2://127.0.0.1:${h2tls.port}`], tls: { ca: caFile } },
        insecure: { servers: [`h2://127.0.0.1:${unknown.port}`], tls: { insecure: true } },
        strict: { servers: [`h2://127.0.0.1:${unknown.port}`] },
        flaky: { servers: [`h2c://127.0.0.1:${goaway.port}`], retries: 0 },
        mux: { servers: [`h2c://127.0.0.1:${mux.port}`] },
        narrow: { servers: [`h2c://127.0.0.1:${narrow.port}`] },
        alpn: { servers: [`h2://127.0.0.1:${portOf(https1)}`], tls: { ca: caFile, servername: 'backend.internal' } },
        silent: { servers: [`h2c://127.0.0.1:${portOf(silent)}`], timeouts: { connect: '1s' } },
      },
      sites: [
        {
          hosts: ['h.test'],
          routes: [
            { location: '/c/', proxy: 'clear' },
            { location: '/s/', proxy: 'private' },
            { location: '/noname/', proxy: 'noname' },
            { location: '/insecure/', proxy: 'insecure' },
            { location: '/strict/', proxy: 'strict' },
            { location: '/goaway/', proxy: 'flaky' },
            { location: '/mux/', proxy: 'mux' },
            { location: '/narrow/', proxy: 'narrow' },
            { location: '/alpn/', proxy: 'alpn' },
            { location: '/silent/', proxy: 'silent' },
            { location: '/h1/', proxy: `h2c://127.0.0.1:${http1.port}` },
            { location: '/dead/', proxy: `h2c://127.0.0.1:${deadPort}` },
            // Literal targets (not a named upstream): one failure marks the server down for 10 s.
            { location: '/fail/reset/', proxy: `h2c://127.0.0.1:${failing.port}` },
            { location: '/fail/slow/', proxy: `h2c://127.0.0.1:${failing.port}`, timeout: '1s' },
            { location: '/rewrite/', proxy: 'h2c://clear/inner/' },
          ],
        },
      ],
    }));
    session = http2.connect(`https://h.test:${gh.httpsPort}`, { ca: fs.readFileSync(gh.caFile), lookup: loopbackLookup });
    session.on('error', () => undefined);
  });

  after(async () => {
    session?.close();
    await gh?.stop();
    await Promise.all([h2c?.close(), h2tls?.close(), unknown?.close(), goaway?.close(), mux?.close(), failing?.close(), narrow?.close(), http1?.close()]);
    for (const srv of [https1, silent]) {
      if (!srv) continue;
      (srv as https.Server).closeAllConnections?.();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
  });

  const json = (r: H2Result): H2SeenRequest => JSON.parse(r.body.toString()) as H2SeenRequest;

  for (const [kind, prefix] of [
    ['h2c', '/c'],
    ['h2 over TLS', '/s'],
  ] as const) {
    describe(kind, () => {
      it('proxies a GET with :authority from the client, X-Forwarded-*, and no connection headers', async () => {
        const r = await h2request(session, `${prefix}/hello?x=1`, { headers: { 'x-test': 'yes' } });
        expect(r.status).to.equal(200);
        expect(r.headers['x-backend']).to.equal('h2');
        const seen = json(r);
        expect(seen.method).to.equal('GET');
        expect(seen.path).to.equal(`${prefix}/hello?x=1`);
        expect(seen.scheme).to.equal(kind === 'h2c' ? 'http' : 'https');
        expect(seen.authority).to.equal(`h.test:${gh.httpsPort}`);
        expect(seen.headers.host).to.equal(undefined);
        expect(seen.headers['x-test']).to.equal('yes');
        expect(seen.headers['x-forwarded-proto']).to.equal('https');
        expect(seen.headers['x-forwarded-for']).to.equal('127.0.0.1');
        expect(seen.headers.te).to.equal('trailers');
      });

      it('streams a 6 MB upload and a 6 MB download intact', async () => {
        const up = crypto.randomBytes(6 * 1024 * 1024);
        const r = await h2request(session, `${prefix}/upload`, { method: 'POST', body: up, headers: { 'content-type': 'application/octet-stream' } });
        expect(r.status).to.equal(200);
        const seen = json(r);
        expect(seen.method).to.equal('POST');
        expect(seen.bodyLength).to.equal(up.length);
        expect(seen.bodySha256).to.equal(crypto.createHash('sha256').update(up).digest('hex'));
        const size = 6 * 1024 * 1024;
        const down = await h2request(session, `${prefix}/big/${size}`);
        expect(down.status).to.equal(200);
        expect(down.body.length).to.equal(size);
        expect(crypto.createHash('sha256').update(down.body).digest('hex')).to.equal(patternSha256(size));
      });

      it('forwards response trailers to an HTTP/2 client that sent te: trailers', async () => {
        const r = await h2request(session, `${prefix}/trailers`, { headers: { te: 'trailers' } });
        expect(r.status).to.equal(200);
        expect(r.body.toString()).to.equal('part one\npart two\n');
        expect(r.trailers?.['x-checksum']).to.equal('abc123');
        expect(r.trailers?.['x-count']).to.equal('2');
      });

      it('passes a response with 200 Set-Cookie fields (fields are limited by size, not by Node\'s count of 128)', async () => {
        const r = await curl(['--http1.1', ...gh.curlArgs('h.test', `${prefix}/many-cookies`)]);
        expect(r.status).to.equal(200);
        expect(r.headers['set-cookie']).to.have.length(200);
        expect(r.headers['set-cookie']?.[199]).to.equal('c199=v199');
      });

      it('serves HTTP/1.1 clients too (trailers dropped, body intact)', async () => {
        const r = await curl(['--http1.1', ...gh.curlArgs('h.test', `${prefix}/trailers`)]);
        expect(r.status).to.equal(200);
        expect(r.httpVersion).to.equal('1.1');
        expect(r.body.toString()).to.equal('part one\npart two\n');
      });
    });
  }

  it('sends a POST of 0 bytes and a HEAD without hanging', async () => {
    const post = await h2request(session, '/c/empty', { method: 'POST', body: Buffer.alloc(0) });
    expect(post.status).to.equal(200);
    expect(json(post).bodyLength).to.equal(0);
    const head = await h2request(session, '/c/big/1000', { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(head.headers['content-length']).to.equal('1000');
    expect(head.body.length).to.equal(0);
  });

  it('applies proxy_pass URI rewriting to an h2c:// target', async () => {
    const r = await h2request(session, '/rewrite/a/b?q=1');
    expect(json(r).path).to.equal('/inner/a/b?q=1');
  });

  it('multiplexes many requests over one upstream session', async () => {
    for (let i = 0; i < 20; i++) expect((await h2request(session, `/mux/seq/${i}`)).status).to.equal(200);
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => h2request(session, `/mux/par/${i}`)));
    expect(results.map((r) => r.status)).to.deep.equal(results.map(() => 200));
    expect(mux.seen.length).to.equal(80);
    expect(mux.sessions).to.equal(1);
  });

  it('opens a second session when the first is at the server\'s SETTINGS_MAX_CONCURRENT_STREAMS', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => h2request(session, `/narrow/slow/${200 + i}`)));
    expect(results.map((r) => r.status)).to.deep.equal(results.map(() => 200));
    expect(narrow.sessions).to.be.within(2, 3);
  });

  it('loses no GET when the upstream sends GOAWAY every 7 requests (http2-wrapper#89)', async () => {
    // 12 waves of 10 concurrent GETs: in most waves some stream is refused by a GOAWAY that crossed it.
    const failed: unknown[] = [];
    for (let wave = 0; wave < 12; wave++) {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => h2request(session, `/goaway/${wave}/${i}`).catch((err: Error) => ({ status: -1, err: err.message }))),
      );
      failed.push(...results.filter((r) => r.status !== 200).map((r) => ('err' in r ? r.err : r.status)));
    }
    expect(failed).to.deep.equal([]);
    expect(goaway.goaways).to.be.greaterThan(10);
    // Every session but possibly the last one was sent away.
    expect(goaway.sessions).to.be.within(goaway.goaways, goaway.goaways + 1);
    // Sequential traffic afterwards: every request still lands.
    for (let i = 0; i < 15; i++) expect((await h2request(session, `/goaway/seq/${i}`)).status).to.equal(200);
  });

  it('verifies h2:// against tls.ca and servername; insecure accepts an unknown CA', async () => {
    expect((await h2request(session, '/insecure/x')).status).to.equal(200);
    // No ca: system roots do not know the stranger CA.
    expect((await h2request(session, '/strict/x')).status).to.equal(502);
    // The CA is right, but the certificate names backend.internal, not 127.0.0.1.
    expect((await h2request(session, '/noname/x')).status).to.equal(502);
  });

  it('maps failures: refused connection 502, RST_STREAM 502, read timeout 504', async () => {
    expect((await h2request(session, '/dead/x')).status).to.equal(502);
    // h2c:// pointed at an HTTP/1.1 server, h2:// at a TLS server without ALPN h2.
    expect((await h2request(session, '/h1/x')).status).to.equal(502);
    expect((await h2request(session, '/alpn/x')).status).to.equal(502);
    // A server that never sends SETTINGS: the connect timeout (1 s) answers 504.
    const c0 = Date.now();
    expect((await h2request(session, '/silent/x')).status).to.equal(504);
    expect(Date.now() - c0).to.be.within(900, 2500);
    expect((await h2request(session, '/fail/reset/reset')).status).to.equal(502);
    const t0 = Date.now();
    const slow = await h2request(session, '/fail/slow/slow/3000');
    expect(slow.status).to.equal(504);
    expect(Date.now() - t0).to.be.within(900, 2500);
    // The session to that server survived the reset stream and the timed-out one.
    expect(failing.sessions).to.equal(1);
  });

  it('streams the response with back-pressure: a paused HTTP/2 reader holds the upstream back', async () => {
    const size = 32 * 1024 * 1024;
    const p = `/c/big/${size}`;
    const req = session.request({ ':path': p });
    let got = 0;
    const hash = crypto.createHash('sha256');
    req.on('data', (c: Buffer) => {
      got += c.length;
      hash.update(c);
    });
    req.pause();
    await new Promise((r) => setTimeout(r, 800));
    // What the backend got rid of is bounded by flow-control windows and buffers on the way
    // (client 64 KiB, gatehouse's front stream 1 MiB, its upstream stream 1 MiB, socket buffers),
    // not by the body: without back-pressure gatehouse would pull all 32 MiB in well under 800 ms.
    const written = h2c.written.get(p) ?? 0;
    expect(written).to.be.greaterThan(0);
    expect(written).to.be.lessThan(8 * 1024 * 1024);
    req.resume();
    await new Promise<void>((resolve, reject) => {
      req.on('end', resolve);
      req.on('error', reject);
    });
    expect(got).to.equal(size);
    expect(hash.digest('hex')).to.equal(patternSha256(size));
  });
});
