// HTTP and HTTPS upstreams on unix sockets end to end (README "Routes" `proxy`, "Upstreams"): the real
// gatehouse in front of echo backends listening on socket files in a temp folder, as gunicorn or
// Puma behind nginx's `proxy_pass http://unix:/path:/uri`.
import { expect } from 'chai';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { exchange } from '../helpers/differential.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { makeTestCa } from '../helpers/test-ca.js';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('HTTP upstreams on unix sockets (integration)', function () {
  this.timeout(60_000);
  let dir: string;
  let a: EchoBackend;
  let b: EchoBackend;
  let ka: EchoBackend;
  let tls: https.Server;
  const tlsSnis: string[] = [];
  let gh: Gatehouse;
  let accessLog: string;
  const sock = (name: string) => path.join(dir, name);

  before(async () => {
    dir = tempDir('gh-unix-');
    [a, b, ka] = await Promise.all([startEchoBackend(sock('a.sock')), startEchoBackend(sock('b.sock')), startEchoBackend(sock('ka.sock'))]);
    const ca = makeTestCa(path.join(dir, 'ca'));
    const cert = ca.issue('localhost', ['localhost']);
    tls = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => res.end(`host=${req.headers.host ?? ''}`));
    tls.on('secureConnection', (s: TLSSocket) => tlsSnis.push(s.servername || ''));
    await new Promise<void>((resolve) => tls.listen(sock('tls.sock'), resolve));
    accessLog = path.join(dir, 'access.log');
    gh = await startGatehouse(() => ({
      log: { access: accessLog, format: 'up', formats: { up: '$request_uri $upstream_addr $upstream_status $status' } },
      upstreams: {
        pair: { servers: [`http+unix:${sock('a.sock')}`, `http+unix:${sock('b.sock')}`] },
        failover: { servers: [`http+unix:${sock('missing.sock')}`, `http+unix:${sock('a.sock')}`], retries: 1 },
        checked: { servers: [`http+unix:${sock('b.sock')}`], health: { path: '/healthz', interval: '1s', timeout: '2s', status: 200 } },
      },
      sites: [
        {
          hosts: ['p.test'],
          tls: 'off',
          routes: [
            { location: '/nouri/', proxy: `http+unix:${sock('a.sock')}` },
            { location: '/withuri/', proxy: `http+unix:${sock('a.sock')}:/remote/` },
            { location: '/group/', proxy: 'pair' },
            { location: '/failover/', proxy: 'failover' },
            { location: '/checked/', proxy: 'checked' },
            { location: '/ka/', proxy: `http+unix:${sock('ka.sock')}` },
            { location: '/missing/', proxy: `http+unix:${sock('missing.sock')}` },
            { location: '/tls/', proxy: `https+unix:${sock('tls.sock')}:/` },
          ],
        },
      ],
    }), { env: { NODE_EXTRA_CA_CERTS: ca.caFile } });
  });

  after(async () => {
    await gh?.stop();
    tls?.closeAllConnections();
    await Promise.all([a?.close(), b?.close(), ka?.close(), new Promise((r) => tls?.close(r))]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (p: string, method = 'GET', body?: string) =>
    exchange(gh.httpPort, { method, path: p, headers: { host: 'p.test' }, ...(body !== undefined ? { body } : {}) });

  /** The access log lines for `uri`, once gatehouse has written them. */
  async function logLines(uri: string, count: number): Promise<string[]> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const text = fs.existsSync(accessLog) ? fs.readFileSync(accessLog, 'utf8') : '';
      const found = text.split('\n').filter((l) => l.startsWith(`${uri} `));
      if (found.length >= count || Date.now() > deadline) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('a proxy without a URI part sends the request URI as the client sent it; native Host and X-Forwarded-For', async () => {
    const r = await get('/nouri/x%2Fy?z=1');
    expect(r.status).to.equal(200);
    expect(r.backend).to.include({ url: '/nouri/x%2Fy?z=1', method: 'GET' });
    const headers = r.backend?.headers as Record<string, string>;
    expect(headers.host).to.equal('p.test');
    expect(headers['x-forwarded-for']).to.equal('127.0.0.1');
    expect(await logLines('/nouri/x%2Fy?z=1', 1)).to.deep.equal([`/nouri/x%2Fy?z=1 unix:${sock('a.sock')} 200 200`]);
  });

  it('a proxy with a URI part replaces the matched prefix, as proxy_pass http://unix:/path:/uri', async () => {
    const r = await get('/withuri/x?z=1', 'POST', 'hello');
    expect(r.status).to.equal(200);
    expect(r.backend).to.include({ url: '/remote/x?z=1', method: 'POST', bodyLength: 5 });
  });

  it('an upstream of two unix servers is balanced round-robin', async () => {
    const before = { a: a.seen.length, b: b.seen.length };
    for (let i = 0; i < 4; i++) expect((await get(`/group/${i}`)).status).to.equal(200);
    const hits = (e: EchoBackend, from: number) => e.seen.slice(from).filter((s) => s.url.startsWith('/group/')).length;
    expect([hits(a, before.a), hits(b, before.b)]).to.deep.equal([2, 2]);
  });

  it('a missing socket is a 502 with the path and ENOENT in the error log, unix:PATH in $upstream_addr', async () => {
    const r = await get('/missing/x');
    expect(r.status).to.equal(502);
    // The error line may be written just after the answer went out: wait for it rather than race it.
    await gh.peer.waitForOutput(new RegExp(escapeRegExp(`upstream unix:${sock('missing.sock')}: cannot connect to upstream: ENOENT (no socket file at that path`)), 5_000);
    expect(await logLines('/missing/x', 1)).to.deep.equal([`/missing/x unix:${sock('missing.sock')} 502 502`]);
  });

  it('a missing socket in an upstream is a connect failure: the next server gets the request, a POST too', async () => {
    const seen = a.seen.length;
    for (let i = 0; i < 2; i++) {
      const r = await get(`/failover/${i}`, 'POST', 'body');
      expect(r.status).to.equal(200);
      expect(r.backend).to.include({ url: `/failover/${i}`, bodyLength: 4 });
    }
    expect(a.seen.length - seen).to.equal(2);
    await gh.peer.waitForOutput(new RegExp(escapeRegExp(`upstream unix:${sock('missing.sock')}: cannot connect to upstream: ENOENT`)), 5_000);
    await gh.peer.waitForOutput(new RegExp(escapeRegExp(`trying unix:${sock('a.sock')}`)), 5_000);
  });

  it('keeps the connection to the socket alive across requests', async () => {
    for (let i = 0; i < 5; i++) expect((await get(`/ka/${i}`)).status).to.equal(200);
    expect(ka.seen.filter((s) => s.url.startsWith('/ka/'))).to.have.length(5);
    expect(ka.connections).to.equal(1);
  });

  it('health checks reach a unix server with Host: localhost', async () => {
    const deadline = Date.now() + 5_000;
    while (!b.seen.some((s) => s.url === '/healthz') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const probe = b.seen.find((s) => s.url === '/healthz');
    expect(probe?.headers.host).to.equal('localhost');
    expect((await get('/checked/x')).status).to.equal(200);
  });

  it('https+unix: TLS over the socket, SNI and certificate name "localhost"', async () => {
    const r = await get('/tls/x');
    expect(r.status, r.body).to.equal(200);
    expect(r.body).to.equal('host=p.test');
    expect(tlsSnis).to.deep.equal(['localhost']);
  });
});
