// gatehouse under pm2 as users run it: the repository's ecosystem.config.js in cluster mode (2 workers)
// with a private PM2_HOME, Pebble as the CA. Proves: both workers serve; a certificate is ordered once
// for the cluster and served by both, and a renewal stored by another process reaches both within 5 s; a TLS session from one worker resumes on the other (shared
// ticket keys); a rate limit counts the requests of all workers together; `pm2 reload` under load drops no request (HTTP/2 and HTTP/1.1); the cron app renews
// a certificate while the cluster answers its challenge, and exits 0.
import { expect } from 'chai';
import { randomBytes, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { stringify } from 'yaml';
import { acmeBlock, ACME_TEST_ENV, certsJson, eventually, orderCount, probe, runCli, servedByPebble } from '../helpers/acme.js';
import { tempDir } from '../helpers/gatehouse.js';
import { startLoad, type LoadResult } from '../helpers/load-client.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';
import { ECOSYSTEM, startPm2, waitForList, type Pm2 } from '../helpers/pm2.js';
import { freePort } from '../helpers/ports.js';

const APP = 'gatehouse';
const CRON_APP = 'gatehouse-renew';
// Each reload replaces both workers one after the other; on a loaded 2-core machine a worker takes 5-15 s to start.
const RELOADS = { h2: 3, 'http/1.1': 2 } as const;

interface Visit {
  /** pm2 id of the worker whose access log has the request. */
  worker: number;
  serial: string;
  reused: boolean;
  session: Buffer | undefined;
}

describe('pm2 cluster (integration)', function () {
  this.timeout(120_000);
  let pebble: Pebble;
  /** The cron app's CA: 20-second certificates, so a later cron run finds its certificate due. */
  let cronPebble: Pebble;
  let pm2: Pm2;
  let dir: string;
  let httpsPort: number;
  let httpPort: number;
  let proxyConfig: string;

  const site = (hosts: string[], tlsMode: string) => ({ hosts, tls: tlsMode, routes: [{ location: '/', return: '200 ok' }] });
  const writeConfig = (file: string, sites: unknown[], ca = pebble) => {
    const config = {
      listen: { https: `127.0.0.1:${httpsPort}`, http: `127.0.0.1:${httpPort}` },
      storage: path.join(dir, 'certs'),
      acme: acmeBlock(ca),
      log: { access: 'stdout' },
      sites,
    };
    fs.writeFileSync(file, stringify(config));
    return file;
  };

  before(async () => {
    httpsPort = await freePort();
    httpPort = await freePort();
    dir = tempDir('gh-pm2-test-');
    // The proxies' certificates live 5 years (Pebble's default): their own timers stay out of the way of
    // what the tests below renew. Both CAs validate on the cluster's ports.
    [pebble, cronPebble] = await Promise.all([startPebble({ httpPort, tlsPort: httpsPort }), startPebble({ httpPort, tlsPort: httpsPort, validitySeconds: 20 })]);
    proxyConfig = writeConfig(path.join(dir, 'gatehouse.yaml'), [
      site(['localhost'], 'internal'),
      site(['cluster.example.test'], 'acme'),
      { ...site(['limited.test'], 'internal'), rateLimit: { rate: '1r/m', burst: 3 } },
    ]);
    // Product defaults but for Pebble's order polling (GATEHOUSE_ACME_POLL: unrelated to renewal timing or
    // to how soon a worker sees the storage change).
    pm2 = startPm2(ACME_TEST_ENV);
    await pm2.run(['start', ECOSYSTEM, '--only', APP, '-i', '2'], { GATEHOUSE_CONFIG: proxyConfig });
  });

  after(async () => {
    await pm2?.kill();
    await Promise.all([pebble?.stop(), cronPebble?.stop()]);
  });

  async function workers(): Promise<number[]> {
    const list = await waitForList(pm2, 'two online workers', (l) => l.filter((p) => p.name === APP && p.status === 'online').length === 2);
    return list.filter((p) => p.name === APP).map((p) => p.id);
  }

  /** One HTTP/1.1 request on a new TLS connection; the worker is found by a unique path in its access log. */
  async function visit(servername: string, session?: Buffer, status = 200, known?: number[]): Promise<Visit> {
    const marker = `/who-${randomBytes(6).toString('hex')}`;
    const seen = await new Promise<{ serial: string; reused: boolean; session: Buffer | undefined }>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: httpsPort, servername, session, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
      let ticket: Buffer | undefined;
      let response = '';
      socket.on('session', (s: Buffer) => (ticket = s));
      let serial = '';
      socket.on('secureConnect', () => {
        // A resumed TLS 1.3 session carries no certificate.
        const raw = socket.getPeerCertificate().raw as Buffer | undefined;
        if (raw) serial = new X509Certificate(raw).serialNumber;
        socket.write(`GET ${marker} HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
      });
      socket.on('data', (c: Buffer) => (response += c.toString()));
      socket.on('end', () => {
        if (!response.startsWith(`HTTP/1.1 ${status}`)) reject(new Error(`unexpected response: ${response.slice(0, 200)}`));
        resolve({ serial, reused: socket.isSessionReused(), session: ticket });
      });
      socket.on('error', reject);
      socket.setTimeout(5000, () => socket.destroy(new Error('no response within 5 s')));
    });
    const ids = known ?? (await workers());
    const worker = await eventually(`the access log line of ${marker}`, async () => ids.find((id) => pm2.logs(APP, id).includes(marker)), 5000);
    return { worker, ...seen };
  }

  it('a cluster of 2 starts from ecosystem.config.js and both workers serve', async () => {
    const ids = await workers();
    expect(ids).to.have.length(2);
    const served = new Set<number>();
    for (let i = 0; i < 8 && served.size < 2; i++) served.add((await visit('localhost')).worker);
    expect([...served].sort()).to.deep.equal([...ids].sort());
  });

  it('ACME: the cluster orders the certificate once and both workers serve it', async () => {
    const first = await servedByPebble(httpsPort, 'cluster.example.test');
    const byWorker = new Map<number, string>();
    for (let i = 0; i < 8 && byWorker.size < 2; i++) {
      const v = await visit('cluster.example.test');
      byWorker.set(v.worker, v.serial);
    }
    expect(byWorker.size).to.equal(2);
    expect([...byWorker.values()]).to.deep.equal([first.serial, first.serial]);
    // The storage lock lets one worker order; the other waits and then loads what was stored.
    expect(orderCount(pebble)).to.equal(1);
  });

  it('a certificate renewed by another process is served by both workers within 5 s, without a restart', async () => {
    const before = await probe(httpsPort, 'cluster.example.test');
    const ids = await workers();
    const pids = (await pm2.list()).filter((p) => p.name === APP).map((p) => p.pid);
    const r = await runCli(['renew', '--force', '--name', 'cluster.example.test', '-c', proxyConfig]);
    const exited = Date.now();
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    const renewed = /renewed cluster\.example\.test: serial (\w+)/.exec(r.stdout)?.[1];
    expect(renewed).to.be.a('string');
    expect(renewed!.toUpperCase()).to.not.equal(before.serial.toUpperCase());
    // Each worker hears of the store through its own watch on the storage folder (fs.watch; a 2 s stat
    // poll behind it), on the defaults; no signal, no reload. Time until each served it, from renew's exit
    // (an upper bound: a visit also waits for the access log line that names the worker).
    const servedAt = new Map<number, number>();
    await eventually('both workers serving the renewed certificate', async () => {
      const v = await visit('cluster.example.test', undefined, 200, ids);
      if (v.serial.toUpperCase().replace(/^0+/, '') === renewed!.toUpperCase().replace(/^0+/, '') && !servedAt.has(v.worker)) servedAt.set(v.worker, Date.now() - exited);
      return servedAt.size === 2 ? true : undefined;
    }, 10_000, 20);
    console.log(`      renewed serial served by worker ${[...servedAt].map(([w, ms]) => `${w} after ${ms} ms`).join(', worker ')}`);
    expect(Math.max(...servedAt.values())).to.be.below(5000);
    expect((await pm2.list()).filter((p) => p.name === APP).map((p) => p.pid)).to.deep.equal(pids);
  });

  it('a TLS session from one worker resumes on the other (shared ticket keys)', async () => {
    const first = await visit('localhost');
    expect(first.reused).to.equal(false);
    expect(first.session, 'a session ticket').to.not.equal(undefined);
    const others: Visit[] = [];
    for (let i = 0; i < 8 && others.length < 2; i++) {
      const v = await visit('localhost', first.session);
      expect(v.reused, `resumed on worker ${v.worker}`).to.equal(true);
      if (v.worker !== first.worker) others.push(v);
    }
    expect(others.length, 'resumptions on the other worker').to.be.greaterThan(0);
  });

  it('the workers count a rate limit together, as nginx workers share a limit_req zone', async () => {
    // 1r/m, burst 3: four requests in all, whichever worker each new connection reaches; then 429.
    // Without sharing, each worker would accept four. The pause lets a worker's 50 ms flush land.
    await workers();
    await new Promise((r) => setTimeout(r, 2500)); // workers look for each other every second
    const served: Visit[] = [];
    for (let i = 0; i < 4; i++) {
      served.push(await visit('limited.test'));
      await new Promise((r) => setTimeout(r, 300));
    }
    const refused: Visit[] = [];
    for (let i = 0; i < 4; i++) {
      refused.push(await visit('limited.test', undefined, 429));
      await new Promise((r) => setTimeout(r, 300));
    }
    const ids = await workers();
    for (const id of ids) expect([...served, ...refused].some((v) => v.worker === id), `worker ${id} got some of the requests`).to.equal(true);
  });

  for (const protocol of ['h2', 'http/1.1'] as const) {
    it(`pm2 reload under ${protocol} load: every request succeeds across ${RELOADS[protocol]} reloads`, async () => {
      const before = await workers();
      const pidsBefore = (await pm2.list()).filter((p) => p.name === APP).map((p) => p.pid);
      const load = startLoad({ port: httpsPort, servername: 'localhost', protocol, concurrency: 8, connections: 4, pauseMs: 5 });
      let result: LoadResult;
      try {
        for (let i = 0; i < RELOADS[protocol]; i++) {
          await new Promise((r) => setTimeout(r, 700));
          await pm2.run(['reload', APP]);
        }
        await new Promise((r) => setTimeout(r, 700));
      } finally {
        result = await load.stop();
      }
      const after = (await pm2.list()).filter((p) => p.name === APP);
      expect(after.map((p) => p.id).sort()).to.deep.equal(before.sort());
      expect(after.map((p) => p.pid)).to.not.include.members(pidsBefore);
      expect(result.errors.slice(0, 5), `failed ${result.failed} of ${result.ok + result.failed}`).to.deep.equal([]);
      expect(result.ok).to.be.greaterThan(200);
      // The numbers behind "zero drops", for the record: retried = refused by GOAWAY / closed keep-alive.
      console.log(`      ${protocol}: ${result.ok} requests ok, ${result.retried} retried as a browser would, ${result.failed} failed`);
    });
  }

  it('the cron app (autorestart off) obtains, then renews on a later cron run while the cluster answers the challenges; every run exits 0', async () => {
    // A name only the cron app's config has: the proxies cannot order it themselves, yet they must
    // answer its challenges from the storage. Every 10 s instead of daily (GATEHOUSE_RENEW_CRON); pm2
    // restarts a run still going at the next tick, so the interval must exceed one run on a busy machine.
    const cronConfig = writeConfig(path.join(dir, 'cron.yaml'), [site(['cron.example.test'], 'acme')], cronPebble);
    await pm2.run(['start', ECOSYSTEM, '--only', CRON_APP], { GATEHOUSE_CONFIG: cronConfig, GATEHOUSE_RENEW_CRON: '*/10 * * * * *' });
    const id = (await pm2.list()).find((p) => p.name === CRON_APP)!.id;
    const logs = () => pm2.logs(CRON_APP, id);
    const obtained = await eventually('the first run to obtain', async () => /obtained cron\.example\.test: serial (\w+)/.exec(logs())?.[1], 30_000, 250);
    // Due at half of the 20 s lifetime (README "Automatic HTTPS (ACME)"); each cron run before that finds nothing to do.
    const renewed = await eventually('a later cron run to renew', async () => /renewed cron\.example\.test: serial (\w+)/.exec(logs())?.[1], 40_000, 250);
    const stored = (await certsJson(cronConfig)).find((r) => r.names.includes('cron.example.test'));
    await pm2.run(['delete', CRON_APP]);
    expect(renewed).to.not.equal(obtained);
    const hex = (s: string | null | undefined) => (s ?? '').toUpperCase().replace(/^0+/, '');
    expect(hex(stored?.serial)).to.equal(hex(renewed));
    const daemonLog = fs.readFileSync(path.join(pm2.home, 'pm2.log'), 'utf8');
    const exits = [...daemonLog.matchAll(/App \[gatehouse-renew:\d+\] exited with code \[(\d+)\]/g)].map((m) => Number(m[1]));
    expect(exits.length, 'runs').to.be.greaterThan(1);
    expect(exits.filter((c) => c !== 0), logs()).to.deep.equal([]);
    // autorestart: false: pm2 restarted it only on schedule (one run per 10 s at most), never in a loop.
    expect(exits.length).to.be.lessThan(12);
  });
});
