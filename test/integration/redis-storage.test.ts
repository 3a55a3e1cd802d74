// Several gatehouse instances sharing one real redis-server and one Pebble (README "Automatic HTTPS (ACME)" and "Several machines"): one order per
// name, a renewal by one (or by cron) served by all within seconds through the change notification, a lock
// holder killed mid-order taken over after its lease, and a Redis outage that never stops HTTPS.
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { acmeBlock, ACME_TEST_ENV, certsJson, eventually, orderCount, probe, runCli, servedByPebble } from '../helpers/acme.js';
import { CLI, startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { pebbleListenerCerts, startPebble, type Pebble } from '../helpers/pebble.js';
import { freePort } from '../helpers/ports.js';
import { startPeer } from '../helpers/process.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { issueLockName, issuerKeyFromDirectory } from '../../src/storage/keys.js';

const site = (hosts: string[]) => ({ hosts, tls: 'acme', routes: [{ location: '/', return: '200 ok' }] });
/**
 * The product's defaults (the fallback storage poll is a minute), but for Pebble's order polling: whatever
 * an instance picks up within seconds came through the Redis notification.
 */
const SLOW_POLL_ENV = ACME_TEST_ENV;
/** Start-up (not what these tests measure) has been seen to take 30 s on a shared 2-core machine. */
const READY_MS = 60_000;
/** Well under the 60 s of the fallback poll and of the retry after a failure, so only the fast path passes. */
const PICKUP_MS = 15_000;

describe('Redis storage shared by several instances (integration)', function () {
  this.timeout(240_000);
  let pebble: Pebble;
  let redis: RedisServer;
  let httpPort: number;
  let tlsPort: number;
  let n = 0;
  const running: Gatehouse[] = [];

  before(async () => {
    httpPort = await freePort();
    tlsPort = await freePort();
    [pebble, redis] = await Promise.all([startPebble({ httpPort, tlsPort }), startRedis()]);
  });
  after(async () => {
    await Promise.all([pebble?.stop(), redis?.stop()]);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((g) => g.stop()));
  });

  /** One deployment per test: its own key prefix on the shared Redis. */
  const storageUrl = (server = redis) => `${server.url}?prefix=it${++n}`;

  /** An instance on Pebble's validation ports, or on `ports`. */
  async function instance(config: Record<string, unknown>, opts: { ports?: { http: number; https: number }; env?: NodeJS.ProcessEnv } = {}): Promise<Gatehouse> {
    const ports = opts.ports ?? { http: httpPort, https: tlsPort };
    const g = await startGatehouse(() => ({ listen: { http: `127.0.0.1:${ports.http}`, https: `127.0.0.1:${ports.https}` }, ...config }), {
      env: opts.env ?? SLOW_POLL_ENV,
      readyTimeoutMs: READY_MS,
    });
    running.push(g);
    return g;
  }
  const otherPorts = async () => ({ http: await freePort(), https: await freePort() });

  it('two instances on one Redis order a name once and both serve it; certs lists it from Redis', async () => {
    const storage = storageUrl();
    const config = { storage, acme: acmeBlock(pebble), sites: [site(['two.example.test'])] };
    const before = orderCount(pebble);
    const other = await otherPorts();
    // The CA validates on a's ports only, so a must be listening before b can order (as in acme.test.ts's
    // two-process test): started together, b sometimes won the lock first and its challenges were
    // refused (CI: http-01 "connection refused", one order more than logged). b starts right after,
    // while a is ordering or has just stored the certificate; either way b must not order.
    const a = await instance(config);
    const b = await instance(config, { ports: other });
    const servedA = await servedByPebble(tlsPort, 'two.example.test', 60_000);
    const servedB = await servedByPebble(other.https, 'two.example.test', 60_000);
    expect(servedB.serial).to.equal(servedA.serial);
    await new Promise((r) => setTimeout(r, 1000)); // a second order would show by now
    const logs = a.peer.output() + b.peer.output();
    expect(logs.match(/certificate obtained/g) ?? []).to.have.length(1);
    // A challenge that fails under load ends its order (logged): the orderer tries the other
    // challenge, and after both failed, the next pass. Each such order is one more at Pebble.
    const failedOrders = (logs.match(/challenge failed for two\.example\.test/g) ?? []).length;
    const acmeLines = logs.split('\n').filter((l) => /ACME|certificate obtained/.test(l)).join('\n');
    expect(orderCount(pebble) - before, acmeLines).to.equal(1 + failedOrders);

    const [row] = (await certsJson(b.configFile)).filter((r) => r.names.includes('two.example.test'));
    expect(row).to.include({ source: 'acme', status: 'valid', serial: servedA.serial, lastError: null });
    const table = await runCli(['certs', '-c', a.configFile]);
    expect(table.stdout.split('\n')[0]).to.equal(`storage: redis://127.0.0.1:${redis.port}/0?prefix=it${n}`);
  });

  it('renew --force on one instance is served by every instance within seconds (notification, not the poll)', async () => {
    const storage = storageUrl();
    const config = { storage, acme: acmeBlock(pebble), sites: [site(['renewed.example.test'])] };
    const other = await otherPorts();
    const a = await instance(config);
    const first = await servedByPebble(tlsPort, 'renewed.example.test', 60_000);
    const b = await instance(config, { ports: other });
    expect((await servedByPebble(other.https, 'renewed.example.test', 60_000)).serial).to.equal(first.serial);

    const r = await runCli(['renew', '--force', '-c', a.configFile]);
    expect(r.code, r.stderr).to.equal(0);
    const done = Date.now();
    const [onA, onB] = await Promise.all([
      servedByPebble(tlsPort, 'renewed.example.test', PICKUP_MS, first.serial),
      servedByPebble(other.https, 'renewed.example.test', PICKUP_MS, first.serial),
    ]);
    expect(onA.serial).to.equal(onB.serial);
    expect(r.stdout).to.include(onA.serial);
    expect(Date.now() - done, 'both serve the renewed certificate').to.be.below(PICKUP_MS);
    expect(b.peer.output()).to.match(/serving a certificate another process stored/);
    expect(a.peer.output()).to.include('LetsEncrypt-Pebble-VA'); // the proxy answered renew's challenge from Redis
  });

  it('kill -9 of the instance holding the order lock: another instance takes the name over after the lease', async () => {
    const name = 'orphan.example.test';
    const storage = storageUrl();
    const prefix = new URL(storage).searchParams.get('prefix')!;
    const lockKey = `${prefix}:lock:${issueLockName(issuerKeyFromDirectory(pebble.directory), name)}`;
    const env = { ...SLOW_POLL_ENV, GATEHOUSE_STORAGE_LEASE: '4s' };
    const config = { storage, acme: acmeBlock(pebble, { challenges: ['http-01'] }), sites: [site([name])] };

    // Pebble's HTTP-01 validation goes to a server that never answers: the first instance's order stalls
    // there, lock held, until it is killed.
    let validating: () => void = () => undefined;
    const reached = new Promise<void>((r) => (validating = r));
    const tarpit = http.createServer((req) => {
      if (req.url?.startsWith('/.well-known/acme-challenge/')) validating();
    });
    await new Promise<void>((r) => tarpit.listen(httpPort, '127.0.0.1', r));
    let a: Gatehouse;
    try {
      a = await instance(config, { ports: await otherPorts(), env });
      await reached;
      expect(redis.cli('GET', lockKey)).to.match(/:\d+:[0-9a-f]+$/);
      await a.stop('SIGKILL');
    } finally {
      tarpit.closeAllConnections();
      await new Promise((r) => tarpit.close(r));
    }
    const killedAt = Date.now();
    const leaseLeft = Number(redis.cli('PTTL', lockKey));
    expect(leaseLeft, 'the dead holder\'s lock is still there').to.be.within(1, 4000);

    const b = await instance(config, { env });
    const served = await servedByPebble(tlsPort, name, 60_000);
    expect(Date.now() - killedAt, 'taken over only after the lease ran out').to.be.at.least(leaseLeft - 250);
    expect(b.peer.output()).to.match(/certificate obtained .*orphan\.example\.test/);
    expect(served.subjectAltName).to.include(`DNS:${name}`);
  });

  it('Redis stopped and restarted: HTTPS is served from memory throughout, then storage work resumes', async () => {
    const own = await startRedis();
    try {
      const config = { storage: storageUrl(own), acme: acmeBlock(pebble), sites: [site(['outage.example.test'])] };
      const g = await instance(config);
      const first = await servedByPebble(tlsPort, 'outage.example.test', 60_000);

      await own.stop({ keepData: true });
      const agent = new https.Agent({ rejectUnauthorized: false, servername: 'outage.example.test' });
      const served: string[] = [];
      const outageEnds = Date.now() + 3000;
      while (Date.now() < outageEnds) {
        served.push((await probe(tlsPort, 'outage.example.test')).serial);
        expect(await get(tlsPort, agent)).to.deep.equal({ status: 200, body: 'ok' });
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(served.length).to.be.at.least(10);
      expect(new Set(served)).to.deep.equal(new Set([first.serial]));
      // A storage command during the outage fails with a clear error instead of hanging.
      const certs = await runCli(['certs', '-c', g.configFile]);
      expect(certs.code).to.equal(1);
      expect(certs.stderr).to.match(new RegExp(`Redis storage redis://127\\.0\\.0\\.1:${own.port}/0\\?prefix=it\\d+ is unavailable: .*ECONNREFUSED`));
      expect(g.peer.output().match(/lost the connection to the Redis storage/g), 'one line per outage').to.have.length(1);

      await own.restart();
      await eventually('the reconnect', async () => (/Redis storage .* is reachable again/.test(g.peer.output()) ? true : undefined), 20_000);
      const r = await runCli(['renew', '--force', '-c', g.configFile]);
      expect(r.code, r.stderr).to.equal(0);
      const second = await servedByPebble(tlsPort, 'outage.example.test', PICKUP_MS, first.serial);
      expect(r.stdout).to.include(second.serial);
      agent.destroy();
    } finally {
      await Promise.all(running.splice(0).map((g) => g.stop()));
      await own.stop();
    }
  });
  it('a renewal that falls due while Redis is away runs as soon as Redis is back, not after the one-minute retry', async () => {
    // Its own Pebble: 16 s certificates are due at half-life (their own timer), and its own validation ports.
    const ports = await otherPorts();
    const [shortPebble, own] = await Promise.all([startPebble({ httpPort: ports.http, tlsPort: ports.https, validitySeconds: 16 }), startRedis()]);
    try {
      const config = { storage: storageUrl(own), acme: acmeBlock(shortPebble), sites: [site(['due.example.test'])] };
      const g = await instance(config, { ports });
      const first = await servedByPebble(ports.https, 'due.example.test', 60_000);
      await own.stop({ keepData: true });
      await eventually('a renewal attempt during the outage', async () => (/ACME: renew for due\.example\.test failed: Redis storage .* is unavailable/.test(g.peer.output()) ? true : undefined), 40_000);
      expect((await probe(ports.https, 'due.example.test')).serial).to.equal(first.serial);

      await own.restart();
      const back = Date.now();
      const second = await servedByPebble(ports.https, 'due.example.test', PICKUP_MS, first.serial);
      expect(Date.now() - back, 'renewed right after the reconnect').to.be.below(PICKUP_MS);
      expect(g.peer.output().match(/ACME: renew for due\.example\.test failed/g), 'one failed attempt, no retry storm').to.have.length(1);
      expect(second.serial).to.not.equal(first.serial);
    } finally {
      await Promise.all(running.splice(0).map((g) => g.stop()));
      await Promise.all([shortPebble.stop(), own.stop()]);
    }
  });

  it('rediss://: TLS to Redis checked like any TLS client (NODE_EXTRA_CA_CERTS); an untrusted server is refused with the reason', async () => {
    const certs = pebbleListenerCerts(); // a test-only CA and a certificate for 127.0.0.1
    const secure = await startRedis({ tls: certs });
    try {
      const storage = storageUrl(secure);
      expect(storage).to.match(/^rediss:/);
      const ports = await otherPorts();
      const g = await instance({ storage, sites: [{ hosts: ['tls-redis.test'], routes: [{ location: '/', return: '200 ok' }] }] }, {
        ports,
        env: { NODE_EXTRA_CA_CERTS: certs.ca },
      });
      // The internal CA was created in the storage, over TLS.
      expect(secure.cli('GET', `it${n}:data:internal-ca/root.crt`)).to.include('BEGIN CERTIFICATE');
      expect((await probe(ports.https, 'tls-redis.test')).issuer).to.match(/gatehouse Local CA/);
      const trusted = await runCli(['certs', '-c', g.configFile], { NODE_EXTRA_CA_CERTS: certs.ca });
      expect(trusted.code, trusted.stderr).to.equal(0);
      expect(trusted.stdout.split('\n')[0]).to.equal(`storage: rediss://127.0.0.1:${secure.port}/0?prefix=it${n}`);
      const untrusted = await runCli(['certs', '-c', g.configFile]);
      expect(untrusted.code).to.equal(1);
      expect(untrusted.stderr).to.match(/is unavailable: .*(self[- ]signed|unable to (get|verify))/i);
    } finally {
      await Promise.all(running.splice(0).map((g) => g.stop()));
      await secure.stop();
    }
  });

  it('gatehouse run with Redis unreachable does not start: exit 1 naming the storage and the cause', async () => {
    const dir = tempDir();
    const closed = await freePort();
    const configFile = path.join(dir, 'gatehouse.yaml');
    fs.writeFileSync(configFile, JSON.stringify({ listen: { https: `127.0.0.1:${await freePort()}` }, storage: `redis://127.0.0.1:${closed}/0`, sites: [{ hosts: ['down.test'], routes: [{ location: '/', return: '200 ok' }] }] }));
    const run = startPeer(process.execPath, [CLI, 'run', '-c', configFile], { cwd: dir });
    const { code } = await run.exited;
    expect(code).to.equal(1);
    expect(run.output()).to.match(new RegExp(`cannot start: Redis storage redis://127\\.0\\.0\\.1:${closed}/0 is unavailable: .*ECONNREFUSED`));
  });
});

function get(port: number, agent: https.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', agent, headers: { host: 'outage.example.test' }, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 3 s')));
    req.on('error', reject);
  });
}

