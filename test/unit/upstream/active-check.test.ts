// Active health checks against real servers on loopback: HTTP probes through the server's own
// transport, TCP connects for FastCGI, state changes logged once, no probes after close().
import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { probe } from '../../../src/upstream/active-check.js';
import { UpstreamPool } from '../../../src/upstream/pool.js';
import { freePort } from '../../helpers/ports.js';
import { upstreamConfig } from './pool-fixture.js';

const health = { path: '/healthz', intervalMs: 40, timeoutMs: 500, status: 200 };

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function capture(): { lines: string[]; logger: { error(): void; warn(m: string): void; info(m: string): void; debug(): void } } {
  const lines: string[] = [];
  return { lines, logger: { error: () => undefined, warn: (m) => lines.push(`warn ${m}`), info: (m) => lines.push(`info ${m}`), debug: () => undefined } };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('active health checks', () => {
  let status = 200;
  let probes: string[] = [];
  let server: http.Server;
  let port: number;
  beforeEach(async () => {
    status = 200;
    probes = [];
    server = http.createServer((req, res) => {
      probes.push(`${req.method} ${req.url} ${req.headers['user-agent']}`);
      res.writeHead(status).end('ok');
    });
    port = await listen(server);
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('probes GET path and passes on exactly the configured status', async () => {
    const pool = new UpstreamPool(upstreamConfig([{ url: `http://127.0.0.1:${port}` }], { health: { ...health, intervalMs: 60_000 } }));
    try {
      const s = pool.servers[0]!;
      expect(await probe(s, health)).to.equal(undefined);
      expect(probes[0]).to.equal('GET /healthz gatehouse-health-check');
      status = 204;
      expect(await probe(s, health)).to.equal('health check /healthz answered 204, expected 200');
    } finally {
      await pool.close();
    }
  });

  it('fails a probe that gets no answer within timeout, and one that cannot connect', async () => {
    const silent = net.createServer(() => undefined);
    const silentPort = await listen(silent);
    const dead = await freePort();
    const pool = new UpstreamPool(upstreamConfig([{ url: `http://127.0.0.1:${silentPort}` }, { url: `http://127.0.0.1:${dead}` }], { health: { ...health, intervalMs: 60_000 } }));
    try {
      const started = Date.now();
      expect(await probe(pool.servers[0]!, { ...health, timeoutMs: 150 })).to.match(/timed out/);
      expect(Date.now() - started).to.be.below(1_000);
      expect(await probe(pool.servers[1]!, health)).to.match(/ECONNREFUSED|refused/i);
    } finally {
      await pool.close();
      silent.close();
    }
  });

  it('checks FastCGI servers with a TCP connect, sending nothing', async () => {
    let received = 0;
    const fcgi = net.createServer((sock) => sock.on('data', (d) => (received += d.length)));
    const fcgiPort = await listen(fcgi);
    const dead = await freePort();
    const pool = new UpstreamPool(upstreamConfig([{ url: `fastcgi://127.0.0.1:${fcgiPort}` }, { url: `fastcgi://127.0.0.1:${dead}` }], { health: { ...health, intervalMs: 60_000 } }));
    try {
      expect(await probe(pool.servers[0]!, health)).to.equal(undefined);
      expect(await probe(pool.servers[1]!, health)).to.match(/health check connect/);
      await sleep(50);
      expect(received).to.equal(0);
    } finally {
      await pool.close();
      fcgi.close();
    }
  });

  it('takes a failing server down and brings it back, logging each change once; stops on close()', async () => {
    const { lines, logger } = capture();
    const url = `http://127.0.0.1:${port}`;
    const pool = new UpstreamPool(upstreamConfig([{ url }], { health }), logger);
    const s = pool.servers[0]!;
    // Servers start up: start-up does not wait for the first probe.
    expect(s.isUp()).to.equal(true);
    status = 500;
    await sleep(300);
    expect(s.isUp()).to.equal(false);
    expect(pool.stats()[0]).to.include({ up: false, lastError: 'health check /healthz answered 500, expected 200' });
    status = 200;
    await sleep(300);
    expect(s.isUp()).to.equal(true);
    expect(lines).to.deep.equal([
      `warn upstream test: ${url} is down: health check /healthz answered 500, expected 200`,
      `info upstream test: ${url} is up (health check passed)`,
    ]);
    await pool.close();
    const count = probes.length;
    expect(count).to.be.greaterThan(6);
    await sleep(200);
    expect(probes.length).to.equal(count);
  });
});
