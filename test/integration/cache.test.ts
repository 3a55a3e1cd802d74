// The HTTP cache end to end: the real gatehouse process in front of a real node:http backend on
// loopback that counts requests and sets real Cache-Control / ETag / Vary headers.
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';

interface Hit {
  method: string;
  headers: http.IncomingHttpHeaders;
  at: number;
}

/** The origin: what each path answers, and every request it saw, by path. */
class Origin {
  readonly seen = new Map<string, Hit[]>();
  failing = false;
  server = http.createServer((req, res) => this.handle(req, res));
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  count(p: string, method = 'GET'): number {
    return (this.seen.get(p) ?? []).filter((h) => h.method === method).length;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://origin');
    const p = url.pathname;
    const hits = this.seen.get(p) ?? [];
    hits.push({ method: req.method ?? '', headers: req.headers, at: Date.now() });
    this.seen.set(p, hits);
    const n = hits.length;
    const send = (headers: http.OutgoingHttpHeaders, body: string | Buffer, status = 200): void => {
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end(body);
    };
    if (req.method === 'POST') return send({}, 'posted');
    switch (p) {
      case '/fresh':
        return send({ 'cache-control': 'max-age=60', etag: '"f1"' }, `fresh ${n}`);
      case '/short': {
        // Fresh for 1 s; afterwards a conditional request with the ETag gets 304.
        if (req.headers['if-none-match'] === '"s1"') return send({ 'cache-control': 'max-age=1', etag: '"s1"' }, '', 304);
        return send({ 'cache-control': 'max-age=1', etag: '"s1"' }, `short ${n}`);
      }
      case '/nostore':
        return send({ 'cache-control': 'no-store' }, `nostore ${n}`);
      case '/private':
        return send({ 'cache-control': 'private, max-age=60' }, `private ${n}`);
      case '/cookie':
        return send({ 'cache-control': 'max-age=60', 'set-cookie': 'sid=1' }, `cookie ${n}`);
      case '/auth':
        return send({ 'cache-control': 'max-age=60' }, `auth ${n}`);
      case '/vary':
        return send({ 'cache-control': 'max-age=60', vary: 'Accept-Language' }, `lang=${String(req.headers['accept-language'])} ${n}`);
      case '/slow':
        setTimeout(() => send({ 'cache-control': 'max-age=60' }, `slow ${n}`), 300);
        return;
      case '/slow-uncacheable':
        setTimeout(() => send({ 'cache-control': 'no-store' }, `uncacheable ${n}`), 300);
        return;
      case '/flaky':
        // The first request breaks off after a while; later ones are answered.
        if (n === 1) {
          setTimeout(() => res.socket?.destroy(), 300);
          return;
        }
        return send({ 'cache-control': 'max-age=60' }, `flaky ${n}`);
      case '/swr':
        return send({ 'cache-control': 'max-age=1, stale-while-revalidate=30' }, `swr ${n}`);
      case '/sie':
        if (this.failing) return send({}, 'down', 503);
        return send({ 'cache-control': 'max-age=1, stale-if-error=60' }, `sie ${n}`);
      case '/big':
        return send({ 'cache-control': 'max-age=60' }, Buffer.alloc(300 * 1024, 0x61));
      default:
        return send({ 'cache-control': 'max-age=600' }, `${p} ${n}`);
    }
  }
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('HTTP cache (integration)', function () {
  this.timeout(60_000);
  const origin = new Origin();
  let gh: Gatehouse;
  let dir: string;

  const config = (d: string) => () => ({
    log: { access: 'off' },
    // PURGE is obeyed from trusted proxies and admin.allow only; this test's client is one.
    trustedProxies: ['127.0.0.1'],
    cache: { memory: '4m', maxObject: '256k', disk: path.join(d, 'cache') },
    sites: [
      {
        hosts: ['c.test'],
        routes: [
          { location: '/', proxy: `http://127.0.0.1:${origin.port}`, cache: '10m' },
          { location: '/capped/', proxy: `http://127.0.0.1:${origin.port}/`, cache: '1s' },
        ],
      },
    ],
  });

  /** One HTTP/1.1 request over TLS to c.test. */
  const get = (p: string, headers: http.OutgoingHttpHeaders = {}, method = 'GET'): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port: gh.httpsPort, servername: 'c.test', path: p, method, headers: { host: 'c.test', ...headers }, ca: fs.readFileSync(gh.caFile), agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  before(async () => {
    await origin.start();
    dir = tempDir();
    gh = await startGatehouse(config(dir), { dir });
  });

  after(async () => {
    await gh?.stop();
    origin.server.close();
  });

  it('answers a miss from the origin, then a hit from the cache with Age and Cache-Status', async () => {
    const first = await get('/fresh');
    expect(first.body).to.equal('fresh 1');
    expect(first.headers['cache-status']).to.match(/^gatehouse; fwd=uri-miss; fwd-status=200; ttl=\d+; stored$/);
    const second = await get('/fresh');
    expect(second.body).to.equal('fresh 1');
    expect(second.headers['cache-status']).to.match(/^gatehouse; hit; ttl=(59|60)$/);
    expect(second.headers.age).to.match(/^\d+$/);
    expect(second.headers.etag).to.equal('"f1"');
    expect(origin.count('/fresh')).to.equal(1);
  });

  it("answers a client's own conditional request from the entry with 304", async () => {
    await get('/fresh');
    const reply = await get('/fresh', { 'if-none-match': '"f1"' });
    expect(reply.status).to.equal(304);
    expect(reply.body).to.equal('');
    expect(reply.headers.etag).to.equal('"f1"');
    expect(reply.headers['cache-status']).to.match(/^gatehouse; hit/);
    expect((await get('/fresh', { 'if-none-match': '"other"' })).status).to.equal(200);
    expect(origin.count('/fresh')).to.equal(1);
  });

  it('serves HTTP/2 clients from the same entry', async () => {
    await get('/h2');
    const session = http2.connect(`https://127.0.0.1:${gh.httpsPort}`, { ca: fs.readFileSync(gh.caFile), servername: 'c.test' });
    try {
      const reply = await new Promise<{ status: string; body: string }>((resolve, reject) => {
        const s = session.request({ ':path': '/h2', ':authority': 'c.test' });
        let status = '';
        let body = '';
        s.on('response', (h) => {
          status = String(h['cache-status']);
        });
        s.setEncoding('utf8');
        s.on('data', (c: string) => (body += c));
        s.on('end', () => resolve({ status, body }));
        s.on('error', reject);
      });
      expect(reply.body).to.equal('/h2 1');
      expect(reply.status).to.match(/^gatehouse; hit/);
    } finally {
      session.close();
    }
    expect(origin.count('/h2')).to.equal(1);
  });

  it('revalidates an expired entry with If-None-Match and refreshes it on 304', async () => {
    expect((await get('/short')).body).to.equal('short 1');
    await sleep(1200);
    const stale = await get('/short');
    expect(stale.status).to.equal(200);
    expect(stale.body).to.equal('short 1');
    expect(stale.headers['cache-status']).to.match(/^gatehouse; fwd=stale; fwd-status=304; ttl=\d+; stored$/);
    const conditional = origin.seen.get('/short')?.[1];
    expect(conditional?.headers['if-none-match']).to.equal('"s1"');
    const again = await get('/short');
    expect(again.headers['cache-status']).to.match(/^gatehouse; hit/);
    expect(origin.count('/short')).to.equal(2);
  });

  it('does not store no-store, private, Set-Cookie or Authorization responses', async () => {
    for (const p of ['/nostore', '/private', '/cookie']) {
      await get(p);
      const second = await get(p);
      expect(second.headers['cache-status'], p).to.equal('gatehouse; fwd=uri-miss; fwd-status=200');
      expect(origin.count(p), p).to.equal(2);
    }
    await get('/auth', { authorization: 'Bearer x' });
    const second = await get('/auth', { authorization: 'Bearer x' });
    expect(second.body).to.equal('auth 2');
    expect((await get('/cookie')).headers['set-cookie']).to.deep.equal(['sid=1']);
  });

  it('keeps Vary: Accept-Language variants apart', async () => {
    expect((await get('/vary', { 'accept-language': 'en' })).body).to.equal('lang=en 1');
    const fr = await get('/vary', { 'accept-language': 'fr' });
    expect(fr.body).to.equal('lang=fr 2');
    expect(fr.headers['cache-status']).to.match(/fwd=vary-miss/);
    expect((await get('/vary', { 'accept-language': 'en' })).body).to.equal('lang=en 1');
    expect((await get('/vary', { 'accept-language': 'fr' })).body).to.equal('lang=fr 2');
    expect(origin.count('/vary')).to.equal(2);
  });

  it('sends 100 concurrent misses of one URI to the origin once', async () => {
    // One HTTP/2 connection, so the 100 requests arrive together rather than one TLS handshake apart.
    const session = http2.connect(`https://127.0.0.1:${gh.httpsPort}`, { ca: fs.readFileSync(gh.caFile), servername: 'c.test' });
    await new Promise<void>((resolve, reject) => session.once('connect', () => resolve()).once('error', reject));
    try {
      const one = (): Promise<{ status: string; body: string }> =>
        new Promise((resolve, reject) => {
          const s = session.request({ ':path': '/slow', ':authority': 'c.test' });
          let status = '';
          let body = '';
          s.on('response', (h) => {
            status = String(h['cache-status']);
          });
          s.setEncoding('utf8');
          s.on('data', (c: string) => (body += c));
          s.on('end', () => resolve({ status, body }));
          s.on('error', reject);
        });
      const replies = await Promise.all(Array.from({ length: 100 }, one));
      const statuses = replies.map((r) => r.status);
      expect(origin.count('/slow'), statuses.join('\n')).to.equal(1);
      expect(replies.every((r) => r.body === 'slow 1')).to.equal(true);
      expect(statuses.filter((st) => /; stored$/.test(st))).to.have.length(1);
      // The others waited for the leader (collapsed), or, on a busy machine, came after it: hits.
      const rest = statuses.filter((st) => !/; stored$/.test(st));
      expect(rest.every((st) => /^gatehouse; (fwd=uri-miss; ttl=\d+; collapsed|hit; ttl=\d+)$/.test(st)), rest.join('\n')).to.equal(true);
      expect(rest.filter((st) => /collapsed/.test(st)).length).to.be.above(0);
    } finally {
      session.close();
    }
  });

  it('lets waiting requests go on their own when the leader learns its response is uncacheable', async () => {
    const replies = await Promise.all(Array.from({ length: 5 }, () => get('/slow-uncacheable')));
    expect(origin.count('/slow-uncacheable')).to.equal(5);
    expect(new Set(replies.map((r) => r.body)).size).to.equal(5);
    // Released together at the leader's response head, the followers reach the origin at about the
    // same time; one after another they would arrive at least the origin's 300 ms delay apart.
    const followers = (origin.seen.get('/slow-uncacheable') ?? []).slice(1).map((h) => h.at);
    expect(Math.max(...followers) - Math.min(...followers)).to.be.below(250);
  });

  it('releases the waiting requests when the leader fails, and they fetch for themselves', async () => {
    const replies = await Promise.all(Array.from({ length: 5 }, () => get('/flaky')));
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).to.deep.equal([200, 200, 200, 200, 502]);
    expect(origin.count('/flaky')).to.be.within(2, 5);
    expect((await get('/flaky')).headers['cache-status']).to.match(/^gatehouse; hit/);
  });

  it('answers HEAD from the stored GET response', async () => {
    await get('/headed');
    const head = await get('/headed', {}, 'HEAD');
    expect(head.status).to.equal(200);
    expect(head.body).to.equal('');
    expect(head.headers['content-length']).to.equal(String('/headed 1'.length));
    expect(head.headers['cache-status']).to.match(/^gatehouse; hit/);
    expect(origin.count('/headed', 'HEAD')).to.equal(0);
  });

  it('serves stale while revalidating in the background when the response allows it', async () => {
    await get('/swr');
    await sleep(1200);
    const stale = await get('/swr');
    expect(stale.body).to.equal('swr 1');
    expect(stale.headers['cache-status']).to.match(/^gatehouse; hit; ttl=-\d+; detail=stale-while-revalidate$/);
    await sleep(200);
    expect(origin.count('/swr')).to.equal(2);
    expect((await get('/swr')).body).to.equal('swr 2');
  });

  it('serves stale on a 503 within stale-if-error', async () => {
    await get('/sie');
    await sleep(1200);
    origin.failing = true;
    try {
      const reply = await get('/sie');
      expect(reply.status).to.equal(200);
      expect(reply.body).to.equal('sie 1');
      expect(reply.headers['cache-status']).to.match(/fwd=stale; fwd-status=503; .*detail=stale-if-error/);
    } finally {
      origin.failing = false;
    }
  });

  it('streams a response over maxObject and does not store it', async () => {
    const first = await get('/big');
    expect(first.body.length).to.equal(300 * 1024);
    const second = await get('/big');
    expect(second.body.length).to.equal(300 * 1024);
    expect(origin.count('/big')).to.equal(2);
  });

  it('caps an entry at the route duration: after it, the entry is revalidated', async () => {
    await get('/capped/c');
    expect((await get('/capped/c')).headers['cache-status']).to.match(/^gatehouse; hit; ttl=[01]$/);
    await sleep(1100);
    const after = await get('/capped/c');
    expect(after.headers['cache-status']).to.match(/^gatehouse; fwd=stale/);
    expect(origin.count('/c')).to.equal(2);
  });

  it('invalidates a URI after a successful POST to it', async () => {
    await get('/posted');
    expect((await get('/posted')).headers['cache-status']).to.match(/hit/);
    expect((await get('/posted', {}, 'POST')).body).to.equal('posted');
    const after = await get('/posted');
    expect(after.headers['cache-status']).to.match(/fwd=uri-miss/);
    expect(origin.count('/posted')).to.equal(2);
  });

  it('purges a URI with PURGE from loopback: 200, then 404', async () => {
    await get('/purged?x=1');
    expect((await get('/purged?x=1', {}, 'PURGE')).status).to.equal(200);
    expect((await get('/purged?x=1', {}, 'PURGE')).status).to.equal(404);
    expect((await get('/purged?x=1')).headers['cache-status']).to.match(/fwd=uri-miss/);
    expect(origin.count('/purged')).to.equal(2);
    expect(origin.count('/purged', 'PURGE')).to.equal(0);
  });

  it('keeps disk entries across a restart', async () => {
    await get('/durable');
    const cacheDir = path.join(dir, 'cache');
    for (let i = 0; i < 50 && fs.readdirSync(cacheDir).filter((f) => f.endsWith('.entry')).length === 0; i++) await sleep(50);
    await gh.stop();
    gh = await startGatehouse(config(dir), { dir });
    const after = await get('/durable');
    expect(after.body).to.equal('/durable 1');
    expect(after.headers['cache-status']).to.match(/^gatehouse; hit/);
    expect(origin.count('/durable')).to.equal(1);
  });
});
