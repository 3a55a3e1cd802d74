// The admin listener end to end (README "Operations"): real HTTPS traffic through the built gatehouse to a real
// backend, then /metrics parsed as Prometheus text, /status in headless Chromium, the loopback-only
// rule from a non-loopback address, /healthz during a drain, and metrics merged over two pm2
// cluster workers sharing one admin port.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { openPage } from '../helpers/chromium.js';
import { curl } from '../helpers/curl.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { CLI, startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';

function metricsOf(text: string): Map<string, ParsedFamily> {
  return new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
}

/** The value of the one sample whose labels include `labels`; fails when there is none. */
function sample(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  expect(family, `metric ${name}`).to.not.equal(undefined);
  const hit = family!.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  expect(hit, `${name}${JSON.stringify(labels)} in ${JSON.stringify(family!.metrics)}`).to.have.length(1);
  return Number(hit[0]!.value ?? hit[0]!.count);
}

/** A non-loopback IPv4 address of this machine (the client address the admin must refuse). */
function externalIPv4(): string {
  const found = Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  if (!found) throw new Error('this test needs a non-loopback IPv4 interface (docker and CI hosts have eth0)');
  return found.address;
}

describe('admin listener (integration)', function () {
  this.timeout(60_000);
  let backend: EchoBackend;
  let gh: Gatehouse;
  let adminPort: number;
  let admin: string;

  before(async () => {
    backend = await startEchoBackend();
    adminPort = await freePort();
    admin = `http://127.0.0.1:${adminPort}`;
    gh = await startGatehouse(() => ({
      // Every interface, so a client can come from a non-loopback address; the allow list names
      // a network this machine is not in.
      admin: { listen: `*:${adminPort}`, allow: ['198.51.100.0/24'], hosts: ['admin.example'] },
      drainTimeout: '3s',
      log: { access: 'off' },
      sites: [
        {
          hosts: ['a.test'],
          routes: [
            { location: '/api/', proxy: `${backend.url}/` },
            { location: '= /', return: '200 home' },
          ],
        },
        { hosts: ['b.test', 'www.b.test'], routes: [{ location: '/', return: 204 }] },
      ],
    }));
    const get = (name: string, p: string) => curl(gh.curlArgs(name, p));
    for (let i = 0; i < 3; i++) expect((await get('a.test', `/api/item/${i}?token=secret`)).status).to.equal(200);
    expect((await get('a.test', '/api/status/503?q=1')).status).to.equal(503);
    expect((await get('a.test', '/nothing')).status).to.equal(404);
    expect((await get('b.test', '/')).status).to.equal(204);
    expect((await curl(['--http1.1', ...gh.curlArgs('b.test', '/x')])).status).to.equal(204);
    // TLS 1.1 is refused (README "Automatic HTTPS (ACME)"): one failed handshake.
    expect((await curl(['--tls-max', '1.1', ...gh.curlArgs('a.test', '/')])).exitCode).to.not.equal(0);
  });

  after(async () => {
    if (gh.peer.proc.exitCode === null) await gh.stop();
    await backend.close();
  });

  it('answers /healthz with 200 once listening', async () => {
    const r = await curl([`${admin}/healthz`]);
    expect(r.status).to.equal(200);
    expect(r.body.toString()).to.equal('ok\n');
  });

  it('counts requests by site, configured route and status, never by URL', async () => {
    const r = await curl([`${admin}/metrics`]);
    expect(r.status).to.equal(200);
    expect(r.headers['content-type']?.[0]).to.match(/^text\/plain; version=0\.0\.4/);
    const m = metricsOf(r.body.toString());
    expect(sample(m, 'gatehouse_requests_total', { site: 'a.test', route: '/api/', status: '200' })).to.equal(3);
    expect(sample(m, 'gatehouse_requests_total', { site: 'a.test', route: '/api/', status: '503' })).to.equal(1);
    expect(sample(m, 'gatehouse_requests_total', { site: 'a.test', route: 'none', status: '404' })).to.equal(1);
    expect(sample(m, 'gatehouse_requests_total', { site: 'b.test', route: '/', status: '204' })).to.equal(2);
    expect(m.get('gatehouse_requests_total')!.metrics).to.have.length(4);
    const labelValues = [...m.values()].flatMap((f) => f.metrics.flatMap((s) => Object.values(s.labels ?? {})));
    expect(labelValues.filter((v) => v.includes('item') || v.includes('secret'))).to.deep.equal([]);
  });

  it('has a latency histogram per site whose count matches the requests', async () => {
    const text = (await curl([`${admin}/metrics`])).body.toString();
    expect(metricsOf(text).get('gatehouse_request_duration_seconds')?.type).to.equal('HISTOGRAM');
    // parse-prometheus-text-format 1.1 folds every histogram series into one, dropping labels other
    // than `le` (its flattenMetrics), so per-site series are read from the sample lines themselves.
    const line = (series: string): number => {
      const m = new RegExp(`^${series.replace(/[{}+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
      expect(m, series).to.not.equal(null);
      return Number(m![1]);
    };
    expect(line('gatehouse_request_duration_seconds_count{site="a.test"}')).to.equal(5);
    expect(line('gatehouse_request_duration_seconds_bucket{le="+Inf",site="a.test"}')).to.equal(5);
    expect(line('gatehouse_request_duration_seconds_sum{site="a.test"}')).to.be.greaterThan(0).and.lessThan(5);
    expect(line('gatehouse_request_duration_seconds_count{site="b.test"}')).to.equal(2);
  });

  it('reports upstream server health, in-flight requests and latency, certificate expiry and TLS handshakes', async () => {
    const m = metricsOf((await curl([`${admin}/metrics`])).body.toString());
    const server = { server: backend.url };
    expect(sample(m, 'gatehouse_upstream_server_up', server)).to.equal(1);
    expect(sample(m, 'gatehouse_upstream_server_in_flight', server)).to.equal(0);
    expect(sample(m, 'gatehouse_upstream_server_fails', server)).to.equal(0);
    expect(sample(m, 'gatehouse_upstream_server_latency_seconds', server)).to.be.greaterThan(0).and.lessThan(2);
    for (const name of ['a.test', 'b.test', 'www.b.test']) {
      const left = sample(m, 'gatehouse_certificate_expiry_seconds', { name, source: 'internal' });
      // Internal certificates live 30 days (src/tls/internal-ca.ts).
      expect(left).to.be.greaterThan(29 * 86_400).and.at.most(30 * 86_400);
    }
    // 7 curl requests made 7 connections; the refused TLS 1.1 attempt is a failure, not a handshake.
    expect(sample(m, 'gatehouse_tls_handshakes_total', { version: 'TLSv1.3' })).to.equal(7);
    expect(sample(m, 'gatehouse_tls_handshake_failures_total', { reason: 'error' })).to.equal(1);
  });

  it('gauges open connections by protocol while they are open', async () => {
    const session = http2.connect(`https://127.0.0.1:${gh.httpsPort}`, { ca: fs.readFileSync(gh.caFile), servername: 'a.test' });
    try {
      await new Promise<void>((resolve, reject) => {
        session.once('connect', () => resolve());
        session.once('error', reject);
      });
      const open = metricsOf((await curl([`${admin}/metrics`])).body.toString());
      expect(sample(open, 'gatehouse_open_connections', { listener: 'https', protocol: 'h2' })).to.equal(1);
      expect(sample(open, 'gatehouse_open_connections', { listener: 'https', protocol: 'http/1.1' })).to.equal(0);
    } finally {
      session.close();
    }
    await new Promise((r) => setTimeout(r, 200));
    const closed = metricsOf((await curl([`${admin}/metrics`])).body.toString());
    expect(sample(closed, 'gatehouse_open_connections', { listener: 'https', protocol: 'h2' })).to.equal(0);
  });

  it('refuses clients from non-loopback addresses outside admin.allow with 403', async () => {
    const ip = externalIPv4();
    for (const p of ['/healthz', '/metrics', '/status.json']) {
      const r = await curl(['--interface', ip, `http://${ip}:${adminPort}${p}`]);
      expect(r.status, p).to.equal(403);
      expect(r.body.toString()).to.not.include('gatehouse_');
    }
    expect((await curl([`${admin}/healthz`])).status).to.equal(200);
  });

  it('answers only to a Host and Origin that an attacker\'s DNS name cannot be (DNS rebinding): 403 otherwise', async () => {
    const status = async (...headers: string[]): Promise<number> => {
      const r = await curl([...headers.flatMap((h) => ['-H', h]), `${admin}/status.json`]);
      if (r.status === 403) expect(r.body.toString()).to.match(/^forbidden: the (Host|Origin host) must be .*DNS rebinding.*\n$/).and.not.include('sites');
      return r.status;
    };
    expect(await status('Host: attacker.example')).to.equal(403);
    expect(await status(`Host: attacker.example:${adminPort}`)).to.equal(403);
    expect(await status('Host: 127.0.0.1.nip.io')).to.equal(403);
    expect(await status(`Host: 127.0.0.1:${adminPort}`)).to.equal(200);
    expect(await status(`Host: [::1]:${adminPort}`)).to.equal(200);
    expect(await status('Host: localhost')).to.equal(200);
    expect(await status(`Host: LOCALHOST.:${adminPort}`)).to.equal(200);
    expect(await status('Host: admin.example')).to.equal(200);
    expect(await status(`Host: Admin.Example:${adminPort}`)).to.equal(200);
    expect(await status('Origin: http://evil.example')).to.equal(403);
    expect(await status('Host: localhost', `Origin: http://evil.example:${adminPort}`)).to.equal(403);
    expect(await status(`Origin: http://localhost:${adminPort}`)).to.equal(200);
    // HTTP/1.0 scrapers may send no Host at all.
    const bare = await curl(['--http1.0', '-H', 'Host:', `${admin}/healthz`]);
    expect([bare.status, bare.body.toString()]).to.deep.equal([200, 'ok\n']);
  });

  it('serves /status.json with sites, certificates, upstreams, traffic and recent errors', async () => {
    const r = await curl([`${admin}/status.json`]);
    expect(r.status).to.equal(200);
    const d = JSON.parse(r.body.toString());
    expect(d.processes).to.equal(1);
    expect(d.sites.map((s: { hosts: string[] }) => s.hosts)).to.deep.equal([['a.test'], ['b.test', 'www.b.test']]);
    const certs = d.certificates.map((c: { names: string[]; source: string; status: string; daysLeft: number }) => [c.names.join(','), c.source, c.status, c.daysLeft]);
    expect(certs).to.have.deep.members([
      ['a.test', 'internal', 'valid', 29],
      ['b.test,www.b.test', 'internal', 'valid', 29],
    ]);
    expect(d.upstreams).to.have.length(1);
    expect(d.upstreams[0].servers[0]).to.include({ url: backend.url, up: true, active: 0 });
    expect(d.upstreams[0].servers[0].latencyMs).to.be.a('number').greaterThan(0);
    const total = d.traffic.reduce((n: number, m: { requests: number }) => n + m.requests, 0);
    const errors = d.traffic.reduce((n: number, m: { serverErrors: number }) => n + m.serverErrors, 0);
    expect([total, errors]).to.deep.equal([7, 1]);
    expect(d.recentErrors).to.have.length(1);
    expect(d.recentErrors[0]).to.include({ status: 503, site: 'a.test', route: '/api/', method: 'GET', path: '/api/status/503' });
  });

  it('renders /status in Chromium with the sites and certificate rows, a strict CSP and no console errors', async function () {
    this.timeout(30_000);
    const headers = (await curl([`${admin}/status`])).headers;
    expect(headers['content-security-policy']?.[0]).to.match(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    const opened = await openPage(`${admin}/status`);
    try {
      expect(opened.status).to.equal(200);
      const { page } = opened;
      expect(await page.title()).to.equal('gatehouse status');
      const body = await page.locator('body').innerText();
      expect(body).to.include('a.test').and.include('b.test, www.b.test');
      const certRows = page.locator('h2:has-text("Certificates") + table tbody tr');
      expect(await certRows.count()).to.equal(2);
      expect(await certRows.allInnerTexts()).to.satisfy((rows: string[]) => rows.some((t) => t.includes('a.test') && t.includes('valid') && t.includes('29 d')));
      // Days left as <meter> over the 30-day internal lifetime: 29 days is in the green band (>= high).
      const meters = await page
        .locator('h2:has-text("Certificates") + table meter')
        .evaluateAll((els) => els.map((e) => [(e as HTMLMeterElement).value, (e as HTMLMeterElement).max, (e as HTMLMeterElement).value >= (e as HTMLMeterElement).high]));
      expect(meters).to.deep.equal([
        [29, 30, true],
        [29, 30, true],
      ]);
      // The inline style applied (CSP allowed it by hash): table headers have the grey background.
      const th = await page.locator('th').first().evaluate((e) => getComputedStyle(e).backgroundColor);
      expect(th).to.equal('rgb(238, 241, 245)');
      expect(body).to.include('/api/status/503');
      await opened.screenshot('status.png');
      expect(opened.errors).to.deep.equal([]);
    } finally {
      await opened.close();
    }
  });

  it('gzips /metrics for scrapers that send Accept-Encoding: gzip, as Prometheus does', async () => {
    const plain = await curl([`${admin}/metrics`]);
    const gz = await curl(['--compressed', `${admin}/metrics`]);
    expect(plain.headers['content-encoding']).to.equal(undefined);
    expect(gz.headers['content-encoding']?.[0]).to.equal('gzip');
    expect(gz.headers.vary?.[0]).to.equal('Accept-Encoding');
    const m = metricsOf(gz.body.toString());
    expect(sample(m, 'gatehouse_requests_total', { site: 'b.test', route: '/', status: '204' })).to.equal(2);
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    expect((await curl([`${admin}/nope`])).status).to.equal(404);
    const post = await curl(['-X', 'POST', `${admin}/metrics`]);
    expect(post.status).to.equal(405);
    expect(post.headers.allow?.[0]).to.equal('GET, HEAD');
  });

  it('answers /healthz with 503 while draining', async () => {
    const hanging = curl(gh.curlArgs('a.test', '/api/hang-head'), 20_000);
    const deadline = Date.now() + 10_000;
    while (!backend.seen.some((s) => s.url === '/hang-head') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(backend.seen.some((s) => s.url === '/hang-head')).to.equal(true);
    process.kill(gh.peer.pid, 'SIGTERM');
    let status = 0;
    while (Date.now() < deadline) {
      status = (await curl([`${admin}/healthz`])).status;
      if (status === 503) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).to.equal(503);
    expect((await gh.peer.exited).code).to.equal(0);
    await hanging;
  });
});

describe('admin listener under pm2 cluster mode (integration)', function () {
  this.timeout(90_000);
  const pm2Bin = path.join(path.dirname(CLI), '../node_modules/pm2/bin/pm2');
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let adminPort: number;
  let httpsPort: number;

  const pm2 = (...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(process.execPath, [pm2Bin, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`pm2 ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`)) : resolve(stdout)));
    });

  before(async () => {
    dir = tempDir('gh-admin-pm2-');
    adminPort = await freePort();
    httpsPort = await freePort();
    env = { ...process.env, PM2_HOME: path.join(dir, 'pm2'), GATEHOUSE_RUNTIME_DIR: path.join(dir, 'run') };
    const config = path.join(dir, 'gatehouse.yaml');
    fs.writeFileSync(
      config,
      [
        `listen: { https: "127.0.0.1:${httpsPort}" }`,
        `admin: "127.0.0.1:${adminPort}"`,
        `storage: ${path.join(dir, 'certs')}`,
        'log: { access: "off" }',
        'sites: [{ hosts: [c.test], routes: [{ location: /, return: "200 ok" }] }]',
      ].join('\n'),
    );
    const apps = { apps: [{ name: 'gh-admin', script: CLI, args: `run -c ${config}`, exec_mode: 'cluster', instances: 2, wait_ready: true, listen_timeout: 15_000, kill_timeout: 5_000, cwd: dir }] };
    fs.writeFileSync(path.join(dir, 'apps.json'), JSON.stringify(apps));
    await pm2('start', path.join(dir, 'apps.json'));
  });

  after(async () => {
    // Stops this test's own pm2 daemon (its PM2_HOME) and the workers it started.
    if (dir) await pm2('kill').catch(() => undefined);
  });

  it('merges the workers\' metrics into every scrape, whichever worker answers', async () => {
    const ca = path.join(dir, 'certs', 'internal-ca', 'root.crt');
    const N = 12;
    for (let i = 0; i < N; i++) {
      const r = await curl(['--cacert', ca, '--resolve', `c.test:${httpsPort}:127.0.0.1`, `https://c.test:${httpsPort}/`]);
      expect(r.status).to.equal(200);
    }
    // Each worker publishes every second.
    await new Promise((r) => setTimeout(r, 2_500));
    const reports = fs.readdirSync(env.GATEHOUSE_RUNTIME_DIR!).filter((n) => n.endsWith('.json'));
    expect(reports, 'one report per worker').to.have.length(2);
    const perWorker = reports.map((n) => {
      const report = JSON.parse(fs.readFileSync(path.join(env.GATEHOUSE_RUNTIME_DIR!, n), 'utf8'));
      const family = report.metrics.find((f: { name: string }) => f.name === 'gatehouse_requests_total');
      return family.values.reduce((s: number, v: { value: number }) => s + v.value, 0) as number;
    });
    // pm2 balances connections round-robin: both workers served some of them.
    expect(perWorker.every((n) => n > 0), `per worker: ${perWorker.join(', ')}`).to.equal(true);
    expect(perWorker.reduce((a, b) => a + b, 0)).to.equal(N);
    for (let i = 0; i < 4; i++) {
      const m = metricsOf((await curl([`http://127.0.0.1:${adminPort}/metrics`])).body.toString());
      expect(sample(m, 'gatehouse_requests_total', { site: 'c.test', route: '/', status: '200' })).to.equal(N);
      expect(sample(m, 'gatehouse_tls_handshakes_total', { version: 'TLSv1.3' })).to.equal(N);
      // Both workers see the same certificate: `min`, not a sum.
      expect(sample(m, 'gatehouse_certificate_expiry_seconds', { name: 'c.test' })).to.be.greaterThan(29 * 86_400).and.at.most(30 * 86_400);
    }
    const status = JSON.parse((await curl([`http://127.0.0.1:${adminPort}/status.json`])).body.toString());
    expect(status.processes).to.equal(2);
    expect(status.traffic.reduce((n: number, m: { requests: number }) => n + m.requests, 0)).to.equal(N);
  });
});
