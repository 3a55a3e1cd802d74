// Upstream pools end to end: the real gatehouse process in front of tiny HTTP backends on
// loopback that count what reached them, die, come back, answer slowly or fail their health check.
import { expect } from 'chai';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Agent, request } from 'undici';
import { startGatehouse, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';

interface Backend {
  name: string;
  port: number;
  url: string;
  /** Requests that reached this backend, as `METHOD /path`, health probes left out. */
  hits: string[];
  /** Health probes received. */
  probes: number;
  health: number;
  /** Answer after this many ms. */
  delayMs: number;
  /** Read the request, then destroy the connection without answering. */
  dieOnRequest: boolean;
  kill(): Promise<void>;
  revive(): Promise<void>;
}

async function startBackend(name: string, port = 0): Promise<Backend> {
  const sockets = new Set<Socket>();
  let server: http.Server;
  const b: Backend = {
    name,
    port,
    url: '',
    hits: [],
    probes: 0,
    health: 200,
    delayMs: 0,
    dieOnRequest: false,
    async kill() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
    async revive() {
      await listen();
    },
  };
  const listen = async (): Promise<void> => {
    server = http.createServer((req, res) => {
      const hash = crypto.createHash('sha256');
      req.on('data', (c: Buffer) => hash.update(c));
      req.on('end', () => {
        if (req.url === '/healthz') {
          b.probes += 1;
          res.writeHead(b.health).end();
          return;
        }
        b.hits.push(`${req.method} ${req.url}`);
        if (b.dieOnRequest) {
          req.socket.destroy();
          return;
        }
        setTimeout(() => res.end(`${name} ${hash.digest('hex')}`), b.delayMs);
      });
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(b.port, '127.0.0.1', resolve));
    b.port = (server.address() as AddressInfo).port;
    b.url = `http://127.0.0.1:${b.port}`;
  };
  await listen();
  return b;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('upstream balancing and health (integration)', function () {
  this.timeout(60_000);
  const agent = new Agent({ connections: 32 });
  let gh: Gatehouse;
  let w1: Backend, w3: Backend; // weighted
  let k1: Backend, k2: Backend, k3: Backend; // one gets killed
  let p1: Backend, p2: Backend; // die on every request
  let live: Backend; // behind a dead port
  let h1: Backend, h2: Backend; // active health
  let lc1: Backend, lc2: Backend; // least-conn
  let deadA: number, deadB: number, deadC: number;

  async function get(path: string, method = 'GET', body?: Buffer): Promise<{ status: number; text: string }> {
    const res = await request(`http://127.0.0.1:${gh.httpPort}${path}`, {
      method: method as 'GET',
      headers: { host: 'lb.test' },
      dispatcher: agent,
      ...(body ? { body } : {}),
    });
    return { status: res.statusCode, text: await res.body.text() };
  }

  before(async () => {
    const b = startBackend;
    [w1, w3, k1, k2, k3, p1, p2, live, h1, h2, lc1, lc2] = await Promise.all([
      b('w1'), b('w3'), b('k1'), b('k2'), b('k3'), b('p1'), b('p2'), b('live'), b('h1'), b('h2'), b('lc1'), b('lc2'),
    ]);
    [deadA, deadB, deadC] = [await freePort(), await freePort(), await freePort()];
    p1.dieOnRequest = p2.dieOnRequest = true;
    h1.health = 503;
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      upstreams: {
        weighted: { servers: [{ url: w1.url, weight: 1 }, { url: w3.url, weight: 3 }] },
        killable: { servers: [k1.url, k2.url, k3.url], maxFails: 1, failTimeout: '30s', retries: 2 },
        dying: { servers: [p1.url, p2.url], maxFails: 0, retries: 1 },
        behindDead: { servers: [`http://127.0.0.1:${deadA}`, live.url], retries: 1 },
        allDead: { servers: [`http://127.0.0.1:${deadB}`, { url: `http://127.0.0.1:${deadC}`, backup: true }], retries: 1 },
        checked: { servers: [h1.url, h2.url], maxFails: 0, health: { path: '/healthz', interval: '200ms', timeout: '1s', status: 200 } },
        leastConn: { servers: [lc1.url, lc2.url], balance: 'least-conn' },
      },
      sites: [
        {
          hosts: ['lb.test'],
          tls: 'off',
          routes: ['weighted', 'killable', 'dying', 'behindDead', 'allDead', 'checked', 'leastConn'].map((name) => ({ location: `/${name}/`, proxy: name })),
        },
      ],
    }));
  });

  after(async () => {
    await gh?.stop();
    await agent.close();
    await Promise.all([w1, w3, k1, k2, k3, p1, p2, live, h1, h2, lc1, lc2].map((b) => b?.kill().catch(() => undefined)));
  });

  it('spreads requests over weighted servers by weight (1:3)', async () => {
    for (let i = 0; i < 40; i++) await Promise.all(Array.from({ length: 10 }, () => get('/weighted/x')));
    expect(w1.hits.length + w3.hits.length).to.equal(400);
    expect(w3.hits.length / 400).to.be.closeTo(0.75, 0.05);
  });

  it('marks a killed server down after maxFails and moves its traffic with no failed GET', async () => {
    for (let i = 0; i < 30; i++) expect((await get('/killable/before')).status).to.equal(200);
    expect(k2.hits.length).to.be.greaterThan(0);
    await k2.kill();
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await get('/killable/after')).status);
    expect(statuses.every((s) => s === 200), statuses.join(',')).to.equal(true);
    expect(k2.hits.filter((h) => h.endsWith('/after'))).to.deep.equal([]);
    expect(k1.hits.filter((h) => h.endsWith('/after')).length + k3.hits.filter((h) => h.endsWith('/after')).length).to.equal(60);
    expect(gh.peer.output()).to.contain(`${k2.url} marked down for 30000 ms after 1 failure(s)`);
    expect(gh.peer.output().split(`${k2.url} marked down`).length - 1).to.equal(1);
  });

  it('never retries a POST that reached a server, but retries a GET on the other server', async () => {
    const post = await get('/dying/order', 'POST', Buffer.from('pay once'));
    expect(post.status).to.equal(502);
    expect([...p1.hits, ...p2.hits]).to.deep.equal(['POST /dying/order']);
    const getRes = await get('/dying/page');
    expect(getRes.status).to.equal(502);
    expect([...p1.hits, ...p2.hits].filter((h) => h === 'GET /dying/page')).to.have.length(2);
  });

  it('sends a POST to another server after a connect failure, with its body whole', async () => {
    const body = crypto.randomBytes(256 * 1024);
    const res = await get('/behindDead/upload', 'POST', body);
    expect(res.status).to.equal(200);
    expect(res.text).to.equal(`live ${crypto.createHash('sha256').update(body).digest('hex')}`);
    expect(live.hits).to.deep.equal(['POST /behindDead/upload']);
  });

  it('answers 503 once every server, backups included, is down', async () => {
    const first = await get('/allDead/x');
    expect(first.status).to.equal(502); // both refused: each counted a failure and is now down
    const then = await get('/allDead/x');
    expect(then.status).to.equal(503);
  });

  it('keeps a server that fails its health check out, and brings it back when it passes', async () => {
    await sleep(500);
    for (let i = 0; i < 20; i++) expect((await get('/checked/a')).status).to.equal(200);
    expect(h1.hits).to.deep.equal([]);
    expect(gh.peer.output()).to.contain(`${h1.url} is down: health check /healthz answered 503, expected 200`);
    h1.health = 200;
    await sleep(700);
    for (let i = 0; i < 20; i++) expect((await get('/checked/b')).status).to.equal(200);
    expect(h1.hits.length).to.be.closeTo(10, 1);
    expect(gh.peer.output()).to.contain(`${h1.url} is up (health check passed)`);
    expect(gh.peer.output().split(`${h1.url} is down`).length - 1).to.equal(1);
  });

  it('least-conn sends to the idle server while the other is busy with a slow request', async () => {
    lc1.delayMs = 2_000;
    // Ties go round-robin, so within two tries one request is held by the slow lc1.
    const held: Array<Promise<unknown>> = [];
    for (let i = 0; i < 2 && !lc1.hits.includes('GET /leastConn/busy'); i++) {
      held.push(get('/leastConn/busy'));
      await sleep(150);
    }
    expect(lc1.hits).to.deep.equal(['GET /leastConn/busy']);
    for (let i = 0; i < 10; i++) expect((await get('/leastConn/next')).status).to.equal(200);
    expect(lc2.hits.filter((h) => h === 'GET /leastConn/next')).to.have.length(10);
    expect(lc1.hits).to.deep.equal(['GET /leastConn/busy']);
    await Promise.all(held);
  });

  it('stops the health checks of a replaced snapshot on reload (SIGHUP)', async () => {
    const probesPerSecond = async (): Promise<number> => {
      const n = h2.probes;
      await sleep(1_000);
      return h2.probes - n;
    };
    const before = await probesPerSecond();
    const reloaded = (): number => gh.peer.output().split('configuration reloaded').length - 1;
    for (let i = 1; i <= 3; i++) {
      process.kill(gh.peer.proc.pid!, 'SIGHUP');
      for (let t = 0; t < 100 && reloaded() < i; t++) await sleep(50);
      expect(reloaded()).to.equal(i);
    }
    // Four snapshots' checkers would probe four times as often.
    expect(await probesPerSecond()).to.be.at.most(before + 2);
    expect((await get('/checked/after-reload')).status).to.equal(200);
  });
});
