// Shared pieces of the benchmarks (scripts/bench.mjs and scripts/bench/*.mjs): process control pinned
// to cores, CPU and memory accounting from /proc, h2load output parsing, throw-away certificates and
// nginx configs. Method notes: shared/notes/performance.md and the header of scripts/bench.mjs.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const NGINX = '/usr/sbin/nginx';
export const H2LOAD = '/usr/bin/h2load';
export const PROXY_CORE = '0';
export const LOAD_CORE = '1';
export const NOFILE = 20000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const T0 = Date.now();
export const log = (...a) => console.log(...a);
export const elapsed = () => `[${((Date.now() - T0) / 1000).toFixed(0).padStart(4)}s]`;
export let verbose = false;
export const setVerbose = (v) => { verbose = v; };
export const vlog = (...a) => { if (verbose) console.log('  ·', ...a); };
export const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
export const fmt = (x, digits = 1) => (x == null || !Number.isFinite(x) ? '—' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
export const fmtMs = (us) => (us == null ? '—' : us >= 100000 ? `${fmt(us / 1000, 0)} ms` : us >= 1000 ? `${fmt(us / 1000, 2)} ms` : `${fmt(us, 0)} µs`);


export function which(bin) {
  return spawnSync('bash', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).stdout.trim() || null;
}

export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

// /proc/PID/stat: fields after the last ')' start at field 3 (state); ppid is field 4, utime 14, stime 15.
export function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

// The pid and all its descendants (nginx: master + workers; gatehouse: node and anything it forked).
export function treePids(root) {
  const children = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(name);
    if (!st) continue;
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(Number(name));
  }
  const out = [];
  const queue = [root];
  while (queue.length) {
    const p = queue.shift();
    if (!fs.existsSync(`/proc/${p}`)) continue;
    out.push(p);
    for (const c of children.get(p) || []) queue.push(c);
  }
  return out;
}

export const cpuTicks = (pids) => pids.reduce((sum, p) => sum + (readStat(p)?.ticks ?? 0), 0);
export const ticksToUs = (t) => (t * 1e6) / CLK_TCK;

export function memKiB(pids) {
  let rss = 0;
  let pss = 0;
  let pssOk = true;
  for (const p of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${p}/status`, 'latin1'));
      rss += m ? Number(m[1]) : 0;
    } catch { /* gone */ }
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${p}/smaps_rollup`, 'latin1'));
      if (m) pss += Number(m[1]);
      else pssOk = false;
    } catch {
      pssOk = false;
    }
  }
  return { rss, pss: pssOk ? pss : null };
}

// Samples a process tree's CPU ticks every 50 ms so that CPU can be read for any time window afterwards.
export function cpuSampler(pids) {
  const samples = [[Date.now(), cpuTicks(pids)]];
  const timer = setInterval(() => samples.push([Date.now(), cpuTicks(pids)]), 50);
  return {
    stop() {
      clearInterval(timer);
      samples.push([Date.now(), cpuTicks(pids)]);
      return samples;
    },
  };
}

export function cpuAt(samples, t) {
  if (t <= samples[0][0]) return samples[0][1];
  for (let i = 1; i < samples.length; i++) {
    const [t1, c1] = samples[i];
    if (t <= t1) {
      const [t0, c0] = samples[i - 1];
      return t1 === t0 ? c1 : c0 + ((c1 - c0) * (t - t0)) / (t1 - t0);
    }
  }
  return samples[samples.length - 1][1];
}

// Busy and total ticks of each CPU from /proc/stat, to tell how much else ran on the proxy's core.
export function coreTicks() {
  const out = {};
  try {
    for (const line of fs.readFileSync('/proc/stat', 'latin1').split('\n')) {
      const m = /^cpu(\d+)\s+(.*)$/.exec(line);
      if (!m) continue;
      const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2].split(/\s+/).map(Number);
      const busy = user + nice + system + irq + softirq + (steal || 0);
      out[m[1]] = { busy, total: busy + idle + (iowait || 0) };
    }
  } catch { /* no /proc/stat */ }
  return out;
}

/** Node flags for the gatehouse processes only (GATEHOUSE_NODE_ARGS="--max-semi-space-size=32"), to size a tuning option. */
export function gatehouseNodeArgs() {
  return (process.env.GATEHOUSE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
}

/** Cores the whole machine left idle between two coreTicks() readings `wallMs` apart. */
export function idleCores(before, after, wallMs) {
  let idle = 0;
  for (const [core, t] of Object.entries(after)) idle += (t.total - t.busy) - (before[core].total - before[core].busy);
  return ticksToUs(idle) / 1000 / wallMs;
}

// Share of the proxy core's time used by anything other than the proxy and the backend during a step.
export function contention(before, after, proxyTicks, backendTicks) {
  const a = before[PROXY_CORE];
  const b = after[PROXY_CORE];
  const l0 = before[LOAD_CORE];
  const l1 = after[LOAD_CORE];
  const r = {};
  if (a && b && b.total > a.total) {
    r.proxyCoreOthers = Math.max(0, (b.busy - a.busy - proxyTicks - backendTicks) / (b.total - a.total));
    r.proxyCoreBusy = (b.busy - a.busy) / (b.total - a.total);
  }
  if (l0 && l1 && l1.total > l0.total) r.loadCoreBusy = (l1.busy - l0.busy) / (l1.total - l0.total);
  return r;
}

export { freePort } from '../free-port.mjs';

export function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (v) => { s.destroy(); resolve(v); };
    s.setTimeout(1000, () => done(false));
    s.on('connect', () => done(true));
    s.on('error', () => done(false));
  });
}

// One HTTP/1.1 GET over TLS (no agent), for the sanity check of each contender before measuring.
export function tlsGet(port, reqPath, servername = 'bench.test') {
  return new Promise((resolve) => {
    const chunks = [];
    const s = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    s.setTimeout(10000, () => s.destroy(new Error('timeout')));
    s.on('secureConnect', () => s.write(`GET ${reqPath} HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`));
    s.on('data', (d) => chunks.push(d));
    s.on('error', (e) => resolve({ error: e.message }));
    s.on('close', () => {
      const buf = Buffer.concat(chunks);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return resolve({ error: `no response head (${buf.length} bytes)` });
      const head = buf.subarray(0, end).toString('latin1');
      let body = buf.subarray(end + 4);
      if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        const parts = [];
        let off = 0;
        for (;;) {
          const nl = body.indexOf('\r\n', off);
          if (nl < 0) break;
          const n = parseInt(body.subarray(off, nl).toString('latin1'), 16);
          if (!n) break;
          parts.push(body.subarray(nl + 2, nl + 2 + n));
          off = nl + 2 + n + 2;
        }
        body = Buffer.concat(parts);
      }
      resolve({ status: Number(head.split(' ', 2)[1]), head, body });
    });
  });
}


export const live = new Set(); // every child we started and have not seen exit

export class Proc {
  constructor(name, cmd, args, { logFile, stdio, env, cwd } = {}) {
    this.name = name;
    this.logFile = logFile;
    const out = logFile ? fs.openSync(logFile, 'a') : 'ignore';
    this.child = spawn(cmd, args, {
      stdio: stdio ?? ['ignore', out, out],
      env: env ?? process.env,
      cwd: cwd ?? ROOT,
    });
    if (typeof out === 'number') fs.closeSync(out);
    this.pid = this.child.pid;
    this.knownPids = new Set(this.pid ? [this.pid] : []);
    this.exited = null;
    this.exitPromise = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        live.delete(this);
        resolve(this.exited);
      });
      this.child.on('error', (err) => {
        this.exited = { code: null, signal: null, error: err.message };
        live.delete(this);
        resolve(this.exited);
      });
    });
    live.add(this);
    vlog(`started ${name} pid ${this.pid}: ${cmd} ${args.join(' ')}`);
  }

  get alive() { return !this.exited; }

  pids() {
    if (!this.alive) return [];
    const p = treePids(this.pid);
    for (const x of p) this.knownPids.add(x);
    return p;
  }

  // SIGTERM, then SIGKILL after graceMs; descendants we saw are killed by pid too.
  async stop(graceMs = 5000) {
    if (this.alive) {
      this.pids();
      try { process.kill(this.pid, 'SIGTERM'); } catch { /* gone */ }
      const timedOut = await Promise.race([this.exitPromise.then(() => false), sleep(graceMs).then(() => true)]);
      if (timedOut) {
        try { process.kill(this.pid, 'SIGKILL'); } catch { /* gone */ }
        await Promise.race([this.exitPromise, sleep(2000)]);
      }
    }
    await sleep(50);
    for (const p of this.knownPids) {
      if (p !== this.pid && fs.existsSync(`/proc/${p}`)) {
        try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
      }
    }
  }

  killNow() {
    for (const p of [this.pid, ...this.knownPids]) {
      try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    }
  }
}

// Runs a command to completion (bounded), capturing stdout+stderr.
export function runToEnd(name, cmd, args, timeoutMs) {
  return new Promise((resolve) => {
    const p = new Proc(name, cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.child.stdout.on('data', (d) => { out += d; });
    p.child.stderr.on('data', (d) => { err += d; });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; p.stop(1000); }, timeoutMs);
    p.exitPromise.then((ex) => {
      clearTimeout(timer);
      // let the pipes drain
      setImmediate(() => resolve({ ...ex, stdout: out, stderr: err, timedOut }));
    });
  });
}

// Starts a long-running server process pinned to the proxy core, with a raised fd limit. `exec` keeps the pid.
export function spawnPinned(name, core, cmd, args, logFile, extra = {}) {
  const script = `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec taskset -c ${core} "$@"`;
  return new Proc(name, 'bash', ['-c', script, name, cmd, ...args], { logFile, ...extra });
}

export async function waitReady(proc, ports, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    for (;;) {
      if (!proc.alive) throw new Error(`${proc.name} exited (${JSON.stringify(proc.exited)}) before listening on ${port}; see ${proc.logFile}`);
      if (await portOpen(port)) break;
      if (Date.now() > deadline) throw new Error(`${proc.name} not listening on 127.0.0.1:${port} after ${timeoutMs / 1000}s; see ${proc.logFile}`);
      await sleep(100);
    }
  }
}

export const interruptHooks = [];
/** Runs (synchronously) after the children are stopped on SIGINT/SIGTERM/SIGHUP, before exiting. */
export const onInterrupt = (fn) => { interruptHooks.push(fn); };

export let cleaningUp = null;
export async function cleanup() {
  if (cleaningUp) return cleaningUp;
  cleaningUp = (async () => {
    await Promise.all([...live].map((p) => p.stop(3000)));
  })();
  return cleaningUp;
}
process.on('exit', () => { for (const p of live) p.killNow(); });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}, stopping children...`);
    const hard = setTimeout(() => process.exit(130), 8000);
    cleanup().finally(() => {
      clearTimeout(hard);
      for (const fn of interruptHooks) fn();
      process.exit(130);
    });
  });
}

export function openssl(args) {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

export function makeCerts(dir) {
  const common = ['-x509', '-nodes', '-days', '30', '-subj', '/CN=bench.test', '-addext', 'subjectAltName=DNS:bench.test,IP:127.0.0.1'];
  openssl(['req', ...common, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', `${dir}/ecdsa.key`, '-out', `${dir}/ecdsa.crt`]);
  openssl(['req', ...common, '-newkey', 'rsa:2048', '-keyout', `${dir}/rsa.key`, '-out', `${dir}/rsa.crt`]);
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export function nginxCommon(dir, name, workerConnections) {
  return `worker_processes 1;
${isRoot ? 'user root root;' : ''}
worker_rlimit_nofile ${NOFILE};
pid ${dir}/${name}.pid;
error_log ${dir}/${name}-error.log warn;
events { worker_connections ${workerConnections}; }
`;
}

export function nginxTemps(dir, name) {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${dir}/tmp/${name}-${t};`).join('\n');
}

/** The http-block lines every bench nginx shares: no access log, its temp paths, keep-alive for the whole run. */
export function nginxHttpCommon(dir, name, keepaliveTimeout = '120s') {
  return `  access_log off;
${nginxTemps(dir, name)}
  keepalive_requests 10000000;
  keepalive_timeout ${keepaliveTimeout};`;
}

/**
 * The gatehouse YAML every bench contender starts from: its address, its storage, quiet logs and one site
 * with the bench certificate. `site` is the rest of that site (`compress: off`, `routes:` ...) as indented
 * lines; `top` goes before `sites:` (maps).
 */
export function benchGatehouseYaml({ dir, port, site, cert = 'ecdsa', hosts = 'bench.test, 127.0.0.1', top = '' }) {
  return `listen: { https: "127.0.0.1:${port}" }
storage: ${dir}/gh-certs
log: { access: off, level: warn }
${top}sites:
  - hosts: [${hosts}]
    tls: { cert: ${dir}/${cert}.crt, key: ${dir}/${cert}.key }
${site}`;
}

/** The `site:` lines of benchGatehouseYaml for the one route the proxy benches use: everything to the backend. */
export function proxyRoute(backendPort) {
  return `    routes:
      - { location: /, proxy: "http://127.0.0.1:${backendPort}" }
`;
}

/**
 * node-floor.mjs as the proxy floor: its script and arguments after Node's own flags. `listen` is its
 * `--h1`/`--h2 PORT:CERT:KEY` pairs; `upstreamConnections` (undefined: the floor's own 32) its pool size.
 */
export function floorProxyArgs({ file, backendPort, listen, upstreamConnections }) {
  return [path.join(ROOT, 'scripts', 'bench', 'node-floor.mjs'), file, '--proxy', `http://127.0.0.1:${backendPort}`,
    ...(upstreamConnections !== undefined ? ['--upstream-connections', String(upstreamConnections)] : []), ...listen];
}

export function ensureBuilt(build = false) {
  const entry = path.join(ROOT, 'dist', 'cli', 'main.js');
  if (fs.existsSync(entry) && !build) return { ok: true };
  log(build ? 'building gatehouse (npm run build)...' : 'dist/ is missing: building gatehouse (npm run build)...');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 300000 });
  if (r.status !== 0 || !fs.existsSync(entry)) {
    return { ok: false, why: `npm run build failed:\n${(r.stdout + r.stderr).split('\n').filter((l) => /error/i.test(l)).slice(0, 15).join('\n')}` };
  }
  return { ok: true };
}

export function parseH2load(out) {
  const r = {};
  let m = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s/.exec(out);
  if (m) { r.seconds = Number(m[1]) / (m[2] === 'ms' ? 1000 : 1); r.rps = Number(m[3]); }
  m = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  if (m) Object.assign(r, { total: +m[1], started: +m[2], done: +m[3], succeeded: +m[4], failed: +m[5], errored: +m[6], timeout: +m[7] });
  m = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (m) r.status = { '2xx': +m[1], '3xx': +m[2], '4xx': +m[3], '5xx': +m[4] };
  m = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/.exec(out);
  if (m) r.timeForRequest = { min: m[1], max: m[2], mean: m[3], sd: m[4] };
  return r;
}

// h2load --log-file: "start µs since epoch \t status \t µs until end of response", one line per request that
// completed in the measured phase (status is 0 when the response head arrived during the warm-up, -1 on failure).
export function readRequestLog(file) {
  let text;
  try { text = fs.readFileSync(file, 'latin1'); } catch { return null; }
  const lines = text.split('\n');
  const lat = new Float64Array(lines.length);
  let n = 0;
  let failed = 0;
  let non2xx = 0;
  let firstEnd = Infinity;
  let lastEnd = -Infinity;
  for (const line of lines) {
    if (!line) continue;
    const [s, st, d] = line.split('\t');
    const start = Number(s);
    const dur = Number(d);
    if (!Number.isFinite(start) || !Number.isFinite(dur)) continue;
    const status = Number(st);
    if (status === -1) failed++;
    else if (status !== 0 && (status < 200 || status >= 300)) non2xx++;
    lat[n++] = dur;
    const end = start + dur;
    if (end < firstEnd) firstEnd = end;
    if (end > lastEnd) lastEnd = end;
  }
  if (!n) return { count: 0 };
  const v = lat.subarray(0, n).sort();
  const pct = (p) => v[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))];
  // the window from the first to the last completion spans the measured phase; n-1 completions fall inside it
  return { count: n, failed, non2xx, p50: pct(50), p99: pct(99), firstEndMs: firstEnd / 1000, lastEndMs: lastEnd / 1000 };
}

/** `--NAME N` among a topic script's arguments, as a number; `fallback` when absent. */
export function numberArg(argv, name, fallback) {
  const i = argv.indexOf(name);
  return i === -1 ? fallback : Number(argv[i + 1]);
}

/** A topic's work folder: the test certificates, `tmp/` and the 1 KiB file `www/1k` that fileBackendConf serves. */
export function prepareFileBackendDir(work) {
  makeCerts(work);
  fs.mkdirSync(path.join(work, 'www'), { recursive: true });
  fs.mkdirSync(path.join(work, 'tmp'));
  fs.writeFileSync(path.join(work, 'www', '1k'), Buffer.alloc(1024, 0x61));
}

/**
 * The backend the topic scripts put behind both contenders: one nginx serving WORK/www on
 * 127.0.0.1:PORT, keep-alive for the whole run; `serverExtra` goes inside its server block.
 */
export function fileBackendConf(work, port, serverExtra = '') {
  return `${nginxCommon(work, 'backend', 8192)}
http {
${nginxHttpCommon(work, 'backend', '300s')}
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${work}/www;${serverExtra ? `\n    ${serverExtra}` : ''}
  }
}
`;
}
