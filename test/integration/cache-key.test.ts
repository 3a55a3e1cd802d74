// The cache key is what the backend is sent (security review F4): the request target as forwarded
// and the Host header as forwarded, port part included. A key built from the normalised path and
// the Host without its port let one client store the backend's answer for one request under the
// key of another: `/cached/anything/..%2Fvictim` was served to `/cached/victim`. The backend here
// echoes the request line and Host it received, with a long max-age, so any sharing shows.
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { startGatehouse, type Gatehouse } from '../helpers/gatehouse.js';

interface Seen {
  line: string;
  host: string;
}

interface Reply {
  status: number;
  cacheStatus: string;
  seen: (Seen & { by?: string }) | undefined;
}

describe('HTTP cache: the key is what the backend is sent (integration)', function () {
  this.timeout(60_000);
  const seen: Seen[] = [];
  const backend = http.createServer((req, res) => {
    const record = { line: `${req.method} ${req.url}`, host: req.headers.host ?? '' };
    seen.push(record);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
    res.end(req.method === 'POST' ? '{}' : JSON.stringify(record));
  });
  // A second upstream that is sent the same Host and target as the first by another route.
  const seenB: Seen[] = [];
  const backendB = http.createServer((req, res) => {
    const record = { line: `${req.method} ${req.url}`, host: req.headers.host ?? '', by: 'B' };
    seenB.push(record);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
    res.end(JSON.stringify(record));
  });
  let gh: Gatehouse;

  before(async () => {
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => backendB.listen(0, '127.0.0.1', r));
    const port = (backend.address() as AddressInfo).port;
    const portB = (backendB.address() as AddressInfo).port;
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      // PURGE is obeyed from trusted proxies (and admin.allow) only.
      trustedProxies: ['127.0.0.1'],
      sites: [
        {
          hosts: ['a.test'],
          routes: [
            { location: '/cached/', proxy: `http://127.0.0.1:${port}`, cache: '10m' },
            // With a URI part the upstream gets the normalised path again: both spellings are one request there.
            { location: '/mapped/', proxy: `http://127.0.0.1:${port}/base/`, cache: '10m' },
            // Two upstreams, one forwarded Host and target: /via-a/x and /via-b/x both send GET /shared/x.
            { location: '/via-a/', proxy: `http://127.0.0.1:${port}/shared/`, cache: '10m' },
            { location: '/via-b/', proxy: `http://127.0.0.1:${portB}/shared/`, cache: '10m' },
            { location: '/', return: 404 },
          ],
        },
      ],
    }));
  });

  after(async () => {
    await gh?.stop();
    backend.closeAllConnections();
    backendB.closeAllConnections();
    await new Promise((r) => backend.close(r));
    await new Promise((r) => backendB.close(r));
  });

  /** One HTTP/1.1 request over TLS with the target and Host exactly as given. */
  const send = (target: string, host = 'a.test', method = 'GET'): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port: gh.httpsPort, servername: 'a.test', path: target, method, headers: { host }, ca: fs.readFileSync(gh.caFile), agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString();
            resolve({
              status: res.statusCode ?? 0,
              cacheStatus: String(res.headers['cache-status'] ?? ''),
              seen: res.headers['content-type'] === 'application/json' && body.startsWith('{"') ? (JSON.parse(body) as Seen) : undefined,
            });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  const sentTimes = (line: string): number => seen.filter((s) => s.line === line).length;

  it('keeps /cached/a%2Fb and /cached/a/b apart (RFC 3986 §6.2.2.2: %2F is not /)', async () => {
    const encoded = await send('/cached/a%2Fb');
    expect(encoded.seen?.line).to.equal('GET /cached/a%2Fb');
    expect(encoded.cacheStatus).to.match(/fwd=uri-miss.*stored/);
    const plain = await send('/cached/a/b');
    expect(plain.cacheStatus).to.match(/fwd=uri-miss/);
    expect(plain.seen?.line).to.equal('GET /cached/a/b');
    expect((await send('/cached/a%2Fb')).seen?.line).to.equal('GET /cached/a%2Fb');
    expect((await send('/cached/a/b')).cacheStatus).to.match(/hit/);
    expect(sentTimes('GET /cached/a%2Fb')).to.equal(1);
    expect(sentTimes('GET /cached/a/b')).to.equal(1);
  });

  it('never serves the answer to /cached/anything/..%2Fvictim to a later /cached/victim', async () => {
    const attacker = await send('/cached/anything/..%2Fvictim');
    expect(attacker.seen?.line).to.equal('GET /cached/anything/..%2Fvictim');
    expect(attacker.cacheStatus).to.match(/stored/);
    const victim = await send('/cached/victim');
    expect(victim.cacheStatus).to.match(/fwd=uri-miss/);
    expect(victim.seen?.line).to.equal('GET /cached/victim');
  });

  it('keys on the Host as forwarded, port part included: a.test:8443 and a.test are two entries', async () => {
    const withPort = await send('/cached/home', 'a.test:8443');
    expect(withPort.seen).to.deep.equal({ line: 'GET /cached/home', host: 'a.test:8443' });
    expect(withPort.cacheStatus).to.match(/stored/);
    const plain = await send('/cached/home', 'a.test');
    expect(plain.cacheStatus).to.match(/fwd=uri-miss/);
    expect(plain.seen).to.deep.equal({ line: 'GET /cached/home', host: 'a.test' });
    expect((await send('/cached/home', 'a.test:8443')).seen?.host).to.equal('a.test:8443');
    expect((await send('/cached/home', 'a.test')).cacheStatus).to.match(/hit/);
    // Case is not part of a host name (RFC 9110 §4.2.3) but it is what the backend got: apart too.
    expect((await send('/cached/home', 'A.test')).seen?.host).to.equal('A.test');
  });

  it('shares one entry between client targets that reach the backend as one request', async () => {
    const first = await send('/mapped/x%2Fy');
    expect(first.seen?.line).to.equal('GET /base/x/y');
    const second = await send('/mapped/x/y');
    expect(second.cacheStatus).to.match(/hit/);
    expect(sentTimes('GET /base/x/y')).to.equal(1);
  });

  it('PURGE removes the entry of exactly what it names, target and Host as sent', async () => {
    await send('/cached/p%2Fq');
    await send('/cached/p/q');
    await send('/cached/p/q', 'a.test:8443');
    expect((await send('/cached/p%2Fq', 'a.test', 'PURGE')).status).to.equal(200);
    expect((await send('/cached/p%2Fq', 'a.test', 'PURGE')).status).to.equal(404);
    expect((await send('/cached/p/q')).cacheStatus).to.match(/hit/);
    expect((await send('/cached/p/q', 'a.test:8443', 'PURGE')).status).to.equal(200);
    expect((await send('/cached/p/q')).cacheStatus).to.match(/hit/);
    expect((await send('/cached/p/q', 'a.test:8443')).cacheStatus).to.match(/fwd=uri-miss/);
    expect((await send('/cached/p%2Fq')).cacheStatus).to.match(/fwd=uri-miss/);
  });

  it('a successful POST invalidates the entry of its own target only', async () => {
    await send('/cached/u%2Fv');
    await send('/cached/u/v');
    expect((await send('/cached/u%2Fv', 'a.test', 'POST')).status).to.equal(200);
    // The invalidation runs when the POST's exchange closes.
    await new Promise((r) => setTimeout(r, 100));
    expect((await send('/cached/u/v')).cacheStatus).to.match(/hit/);
    expect((await send('/cached/u%2Fv')).cacheStatus).to.match(/fwd=uri-miss/);
  });

  it('keys on the upstream too: two routes sending the same Host and target to two upstreams never share an entry', async () => {
    const a = await send('/via-a/x');
    expect(a.seen).to.deep.equal({ line: 'GET /shared/x', host: 'a.test' });
    expect(a.cacheStatus).to.match(/stored/);
    const b = await send('/via-b/x');
    expect(b.cacheStatus).to.match(/fwd=uri-miss/);
    expect(b.seen).to.deep.equal({ line: 'GET /shared/x', host: 'a.test', by: 'B' });
    expect((await send('/via-a/x')).seen?.by).to.equal(undefined);
    expect((await send('/via-b/x')).cacheStatus).to.match(/hit/);
    // PURGE through a route names that route's upstream entry only.
    expect((await send('/via-b/x', 'a.test', 'PURGE')).status).to.equal(200);
    expect((await send('/via-b/x', 'a.test', 'PURGE')).status).to.equal(404);
    expect((await send('/via-a/x')).cacheStatus).to.match(/hit/);
    expect(seenB.filter((s) => s.line === 'GET /shared/x').length).to.equal(1);
  });
});
