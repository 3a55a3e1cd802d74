#!/usr/bin/env node
// npm run bench — gatehouse against Debian's nginx (1 worker), same backend, same machine, one run.
//
// Method (see shared/notes/performance.md): backend nginx + the proxy under test pinned to core 0, the load
// generator (h2load / openssl s_time / idle client) pinned to core 1. Contenders are interleaved within every
// step (nginx, gatehouse, nginx, gatehouse, ...) and medians taken over --runs. The figure that moves least on a
// shared machine is the proxy's own CPU time (utime+stime of its whole process tree, from /proc/PID/stat) per
// completed request, so that is what the targets are checked against, as ratios within this one run.
//
//   node scripts/bench.mjs [--quick] [--runs N] [--only h1,h2,big,handshake,idle] [--idle-conns N]
//                          [--build] [--keep] [--verbose]
//
// Results: a table per step on stdout and .bench/results.json; proxy logs are copied to .bench/logs/.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NGINX = '/usr/sbin/nginx';
const H2LOAD = '/usr/bin/h2load';
const STEPS = ['h1', 'h2', 'big', 'handshake', 'idle'];
const PROXY_CORE = '0';
const LOAD_CORE = '1';
const NOFILE = 20000;
const HANDSHAKE_CLIENTS = 4; // parallel `openssl s_time` processes

// ---------------------------------------------------------------------------------------------------- options

function usage(msg) {
  if (msg) console.error(`bench: ${msg}`);
  console.error('usage: node scripts/bench.mjs [--quick] [--runs N] [--only h1,h2,big,handshake,idle] [--idle-conns N] [--build] [--keep] [--verbose]');
  process.exit(msg ? 2 : 0);
}

function parseArgs(argv) {
  const o = { quick: false, runs: null, only: null, idleConns: null, build: false, keep: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) usage(`${flag} needs a value`);
      return argv[++i];
    };
    const posInt = (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) usage(`${flag} wants a positive integer, got ${v}`);
      return n;
    };
    switch (flag) {
      case '--quick': o.quick = true; break;
      case '--runs': o.runs = posInt(value()); break;
      case '--idle-conns': o.idleConns = posInt(value()); break;
      case '--only': {
        o.only = value().split(',').map((s) => s.trim()).filter(Boolean);
        const bad = o.only.filter((s) => !STEPS.includes(s));
        if (bad.length || !o.only.length) usage(`--only takes a list of ${STEPS.join(',')}; unknown: ${bad.join(',')}`);
        break;
      }
      case '--build': o.build = true; break;
      case '--keep': o.keep = true; break;
      case '--verbose': case '-v': o.verbose = true; break;
      case '--help': case '-h': usage(); break;
      default: usage(`unknown argument ${a}`);
    }
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const CFG = {
  runs: opts.runs ?? (opts.quick ? 1 : 3),
  steps: opts.only ? STEPS.filter((s) => opts.only.includes(s)) : STEPS,
  d: opts.quick ? 2 : 5,
  dBig: opts.quick ? 2 : 4,
  handshakeSecs: opts.quick ? 2 : 3,
  idleConns: opts.idleConns ?? (opts.quick ? 1000 : 5000),
};
const TARGETS = {
  h1: { cpuRatio: 3 },
  h2: { cpuRatio: 2.5 },
  big: { cpuRatio: 2.5 },
  'handshake-ecdsa': { cpuRatio: 2 },
  'handshake-rsa': {},
  idle: { kibPerConn: 32 },
};

// ---------------------------------------------------------------------------------------------------- small utils

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const T0 = Date.now();
const log = (...a) => console.log(...a);
const elapsed = () => `[${((Date.now() - T0) / 1000).toFixed(0).padStart(4)}s]`;
const vlog = (...a) => { if (opts.verbose) console.log('  ·', ...a); };
const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const fmt = (x, digits = 1) => (x == null || !Number.isFinite(x) ? '—' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const fmtMs = (us) => (us == null ? '—' : us >= 100000 ? `${fmt(us / 1000, 0)} ms` : us >= 1000 ? `${fmt(us / 1000, 2)} ms` : `${fmt(us, 0)} µs`);

function which(bin) {
  return spawnSync('bash', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).stdout.trim() || null;
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

// /proc/PID/stat: fields after the last ')' start at field 3 (state); ppid is field 4, utime 14, stime 15.
function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

// The pid and all its descendants (nginx: master + workers; gatehouse: node and anything it forked).
function treePids(root) {
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

const cpuTicks = (pids) => pids.reduce((sum, p) => sum + (readStat(p)?.ticks ?? 0), 0);
const ticksToUs = (t) => (t * 1e6) / CLK_TCK;

function memKiB(pids) {
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
function cpuSampler(pids) {
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

function cpuAt(samples, t) {
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
function coreTicks() {
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

// Share of the proxy core's time used by anything other than the proxy and the backend during a step.
let backendProc = null;
function contention(before, after, proxyTicks, backendTicks) {
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

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (v) => { s.destroy(); resolve(v); };
    s.setTimeout(1000, () => done(false));
    s.on('connect', () => done(true));
    s.on('error', () => done(false));
  });
}

// One HTTP/1.1 GET over TLS (no agent), for the sanity check of each contender before measuring.
function tlsGet(port, reqPath, servername = 'bench.test') {
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

// ---------------------------------------------------------------------------------------------------- processes

const live = new Set(); // every child we started and have not seen exit

class Proc {
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
function runToEnd(name, cmd, args, timeoutMs) {
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
function spawnPinned(name, core, cmd, args, logFile, extra = {}) {
  const script = `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec taskset -c ${core} "$@"`;
  return new Proc(name, 'bash', ['-c', script, name, cmd, ...args], { logFile, ...extra });
}

async function waitReady(proc, ports, timeoutMs = 15000) {
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

let cleaningUp = null;
async function cleanup() {
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
      removeWorkDir();
      process.exit(130);
    });
  });
}

// ---------------------------------------------------------------------------------------------------- set-up

function checkTools() {
  const missing = [];
  if (!fs.existsSync(NGINX)) missing.push(['/usr/sbin/nginx', 'nginx-light']);
  if (!fs.existsSync(H2LOAD)) missing.push(['/usr/bin/h2load', 'nghttp2-client']);
  if (!which('openssl')) missing.push(['openssl', 'openssl']);
  if (!which('taskset')) missing.push(['taskset', 'util-linux']);
  if (missing.length) {
    console.error(`bench: missing ${missing.map(([b]) => b).join(', ')}`);
    const pkgs = [...new Set(missing.map(([, p]) => p))];
    console.error(`install the Debian packages: apt-get install -y ${pkgs.join(' ')}`);
    process.exit(1);
  }
  if (os.cpus().length < 2) console.error('bench: warning: fewer than 2 CPUs; proxy and load generator will share core 0');
}

let WORK = null;
function removeWorkDir() {
  if (WORK && !opts.keep) {
    try { fs.rmSync(WORK, { recursive: true, force: true }); } catch { /* ignore */ }
  }
}

function openssl(args) {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

function makeCerts(dir) {
  const common = ['-x509', '-nodes', '-days', '30', '-subj', '/CN=bench.test', '-addext', 'subjectAltName=DNS:bench.test,IP:127.0.0.1'];
  openssl(['req', ...common, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-keyout', `${dir}/ecdsa.key`, '-out', `${dir}/ecdsa.crt`]);
  openssl(['req', ...common, '-newkey', 'rsa:2048', '-keyout', `${dir}/rsa.key`, '-out', `${dir}/rsa.crt`]);
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function nginxCommon(dir, name, workerConnections) {
  return `worker_processes 1;
${isRoot ? 'user root root;' : ''}
worker_rlimit_nofile ${NOFILE};
pid ${dir}/${name}.pid;
error_log ${dir}/${name}-error.log warn;
events { worker_connections ${workerConnections}; }
`;
}

function nginxTemps(dir, name) {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `  ${t}_temp_path ${dir}/tmp/${name}-${t};`).join('\n');
}

function backendConf(dir, port) {
  return `${nginxCommon(dir, 'backend', 8192)}
http {
  access_log off;
  default_type application/octet-stream;   # not compressible by type: no proxy gzips it
${nginxTemps(dir, 'backend')}
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/www;
    location / { }
  }
}
`;
}

function nginxProxyConf(dir, ports, backendPort) {
  const server = (port, kind) => `  server {
    listen 127.0.0.1:${port} ssl http2;
    server_name bench.test 127.0.0.1;
    ssl_certificate ${dir}/${kind}.crt;
    ssl_certificate_key ${dir}/${kind}.key;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }`;
  return `${nginxCommon(dir, 'nginx', 16384)}
http {
  access_log off;
${nginxTemps(dir, 'nginx')}
  # h2load -D hangs when the server closes a connection, so no per-connection request limit
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_tickets on;
  upstream backend {
    server 127.0.0.1:${backendPort};
    keepalive 32;
  }
${server(ports.ecdsa, 'ecdsa')}
${server(ports.rsa, 'rsa')}
}
`;
}

function gatehouseYaml(dir, port, kind, backendPort) {
  return `listen: { https: "127.0.0.1:${port}" }
storage: ${dir}/gh-certs
log: { access: off, level: warn }
sites:
  - hosts: [bench.test, 127.0.0.1]
    tls: { cert: ${dir}/${kind}.crt, key: ${dir}/${kind}.key }
    routes:
      - { location: /, proxy: "http://127.0.0.1:${backendPort}" }
`;
}

function ensureBuilt() {
  const entry = path.join(ROOT, 'dist', 'cli', 'main.js');
  if (fs.existsSync(entry) && !opts.build) return { ok: true };
  log(opts.build ? 'building gatehouse (npm run build)...' : 'dist/ is missing: building gatehouse (npm run build)...');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 300000 });
  if (r.status !== 0 || !fs.existsSync(entry)) {
    return { ok: false, why: `npm run build failed:\n${(r.stdout + r.stderr).split('\n').filter((l) => /error/i.test(l)).slice(0, 15).join('\n')}` };
  }
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------------- contenders

class NginxContender {
  constructor(dir, ports, backendPort) {
    this.name = 'nginx';
    this.dir = dir;
    this.ports = ports;
    fs.writeFileSync(`${dir}/nginx.conf`, nginxProxyConf(dir, ports, backendPort));
    this.logFile = `${dir}/nginx-stdout.log`;
  }

  async start() {
    this.proc = spawnPinned('nginx', PROXY_CORE, NGINX, ['-p', this.dir, '-e', `${this.dir}/nginx-error.log`, '-c', `${this.dir}/nginx.conf`, '-g', 'daemon off;'], this.logFile);
    await waitReady(this.proc, [this.ports.ecdsa, this.ports.rsa]);
    await sleep(200); // let the worker come up
  }

  async stop() { if (this.proc) await this.proc.stop(); }
  procFor() { return this.proc; }
  logFiles() { return [`${this.dir}/nginx-error.log`, this.logFile]; }
}

class GatehouseContender {
  constructor(dir, ports, backendPort) {
    this.name = 'gatehouse';
    this.dir = dir;
    this.ports = ports;
    this.procs = {};
    for (const kind of ['ecdsa', 'rsa']) {
      fs.writeFileSync(`${dir}/gatehouse-${kind}.yaml`, gatehouseYaml(dir, ports[kind], kind, backendPort));
    }
  }

  async startKind(kind) {
    const p = spawnPinned(`gatehouse-${kind}`, PROXY_CORE, process.execPath,
      [path.join(ROOT, 'bin', 'gatehouse.js'), 'run', '-c', `${this.dir}/gatehouse-${kind}.yaml`],
      `${this.dir}/gatehouse-${kind}.log`);
    this.procs[kind] = p;
    await waitReady(p, [this.ports[kind]]);
  }

  async start(kinds = ['ecdsa', 'rsa']) {
    for (const k of kinds) await this.startKind(k);
  }

  async stop() { await Promise.all(Object.values(this.procs).map((p) => p.stop())); }
  procFor(kind = 'ecdsa') { return this.procs[kind]; }
  logFiles() { return Object.keys(this.procs).map((k) => `${this.dir}/gatehouse-${k}.log`); }
}

async function sanityCheck(c, kinds) {
  const problems = [];
  for (const kind of kinds) {
    for (const [p, len] of [['/1k', 1024], ['/256k', 262144]]) {
      const r = await tlsGet(c.ports[kind], p);
      if (r.error) problems.push(`${kind} ${p}: ${r.error}`);
      else if (r.status !== 200 || r.body.length !== len) {
        problems.push(`${kind} ${p}: status ${r.status}, ${r.body.length} body bytes (want 200, ${len})`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------- load steps

let seq = 0;

function parseH2load(out) {
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
function readRequestLog(file) {
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

const H2LOAD_STEPS = {
  h1: () => ({ path: '/1k', args: ['--h1', '-c', '64', '-t', '1', '-D', String(CFG.d), '--warm-up-time=1'] }),
  h2: () => ({ path: '/1k', args: ['-c', '16', '-m', '32', '-t', '1', '-D', String(CFG.d), '--warm-up-time=1'] }),
  big: () => ({ path: '/256k', args: ['-c', '16', '-m', '8', '-t', '1', '-D', String(CFG.dBig), '--warm-up-time=1'] }),
};

async function runH2load(c, step) {
  const { path: p, args } = H2LOAD_STEPS[step]();
  const port = c.ports.ecdsa;
  const logFile = path.join(WORK, `h2load-${step}-${c.name}-${++seq}.tsv`);
  const proc = c.procFor('ecdsa');
  const pids = proc.pids();
  const bpids = backendProc.pids();
  const cpu0 = cpuTicks(pids);
  const b0 = cpuTicks(bpids);
  const cores0 = coreTicks();
  const sampler = cpuSampler(pids);
  const duration = step === 'big' ? CFG.dBig : CFG.d;
  const res = await runToEnd(`h2load-${step}`, 'taskset',
    ['-c', LOAD_CORE, H2LOAD, ...args, `--log-file=${logFile}`, `https://127.0.0.1:${port}${p}`],
    (duration + 1 + 20) * 1000);
  const samples = sampler.stop();
  const cpu1 = cpuTicks(pids);
  const r = { ...parseH2load(res.stdout), ...contention(cores0, coreTicks(), cpu1 - cpu0, cpuTicks(bpids) - b0) };
  if (res.timedOut) r.error = 'h2load did not finish in time (a closed connection makes h2load -D hang)';
  else if (res.code !== 0) r.error = `h2load exited ${res.code ?? res.signal}: ${res.stderr.trim().split('\n').slice(-3).join(' | ')}`;
  if (!proc.alive) r.error = `${proc.name} died during the step: ${JSON.stringify(proc.exited)}`;
  const rl = readRequestLog(logFile);
  if (!opts.keep) {
    try { fs.rmSync(logFile); } catch { /* ignore */ }
  }
  // CPU over the measured phase only (first .. last completion in the log), so the warm-up and the
  // connection set-up are not charged to the measured requests.
  if (rl && rl.count > 1) {
    r.p50us = rl.p50;
    r.p99us = rl.p99;
    r.logged = rl.count;
    r.failedInLog = rl.failed;
    r.non2xx = rl.non2xx;
    const ticks = cpuAt(samples, rl.lastEndMs) - cpuAt(samples, rl.firstEndMs);
    r.cpuUsPerReq = ticksToUs(ticks) / (rl.count - 1);
    r.windowS = (rl.lastEndMs - rl.firstEndMs) / 1000;
    r.cpuUtil = r.windowS > 0 ? ticksToUs(ticks) / 1e6 / r.windowS : null;
  }
  // the brief's plain figure: whole step CPU / requests done (includes warm-up CPU, so a bit high)
  if (r.done) r.cpuUsPerReqWholeStep = ticksToUs(cpu1 - cpu0) / r.done;
  if (step === 'big' && r.rps != null) r.mibps = (r.rps * 262144) / 1048576;
  const bad = [];
  if (r.total != null && r.succeeded < r.total) bad.push(`${r.total - r.succeeded} of ${r.total} requests not successful (${r.failed} failed, ${r.errored} errored, ${r.timeout} timed out)`);
  if (r.status && r.status['3xx'] + r.status['4xx'] + r.status['5xx'] > 0) bad.push(`status codes ${JSON.stringify(r.status)}`);
  if (r.total == null && !r.error) bad.push(`no h2load summary: ${res.stdout.slice(-300)}`);
  if (bad.length && !r.error) r.warning = bad.join('; ');
  if (opts.verbose) vlog(res.stdout.split('\n').filter((l) => /finished|requests:|status codes|time for request/.test(l)).join('\n    '));
  return r;
}

async function runHandshakes(c, kind) {
  const proc = c.procFor(kind);
  const pids = proc.pids();
  const bpids = backendProc.pids();
  const cpu0 = cpuTicks(pids);
  const b0 = cpuTicks(bpids);
  const cores0 = coreTicks();
  const t0 = Date.now();
  // openssl s_time sends "GET <www> HTTP/1.0\r\n\r\n" with no Host; both proxies get the same request with a
  // Host header injected, so both forward it to the backend (see the report).
  const www = '/1k HTTP/1.0\r\nHost: bench.test\r\nX-Bench: s_time';
  const runs = await Promise.all(Array.from({ length: HANDSHAKE_CLIENTS }, () => runToEnd('s_time', 'taskset',
    ['-c', LOAD_CORE, 'openssl', 's_time', '-connect', `127.0.0.1:${c.ports[kind]}`, '-new', '-time', String(CFG.handshakeSecs), '-www', www],
    (CFG.handshakeSecs + 30) * 1000)));
  const wallS = (Date.now() - t0) / 1000;
  const cpu1 = cpuTicks(pids);
  let conns = 0;
  let bytesPerConn = [];
  const errors = [];
  for (const r of runs) {
    const m = /(\d+) connections in ([\d.]+)s;/.exec(r.stdout);
    const b = /(\d+) connections in \d+ real seconds, (\d+) bytes read per connection/.exec(r.stdout);
    if (m) conns += Number(m[1]);
    if (b) bytesPerConn.push(Number(b[2]));
    if (r.timedOut) errors.push('s_time timed out');
    else if (r.code !== 0) errors.push(`s_time exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')}`);
  }
  const out = {
    ...contention(cores0, coreTicks(), cpu1 - cpu0, cpuTicks(bpids) - b0),
    handshakes: conns,
    perSec: conns / CFG.handshakeSecs,
    wallS,
    cpuUsPerReq: conns ? ticksToUs(cpu1 - cpu0) / conns : null,
    bytesPerConn: median(bytesPerConn),
  };
  if (!proc.alive) out.error = `${proc.name} died during the step: ${JSON.stringify(proc.exited)}`;
  else if (errors.length) out.warning = [...new Set(errors)].join('; ');
  if (out.bytesPerConn != null && out.bytesPerConn < 1024) out.warning = `${out.warning ? out.warning + '; ' : ''}only ${out.bytesPerConn} bytes read per connection (want > 1024: the request did not get /1k)`;
  return out;
}

function idleClient(port) {
  const script = `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec taskset -c ${LOAD_CORE} "$@"`;
  const p = new Proc('idle-client', 'bash', ['-c', script, 'idle-client', process.execPath,
    path.join(ROOT, 'scripts', 'bench', 'idle-client.mjs'), String(port), 'bench.test', '/1k'],
  { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = readline.createInterface({ input: p.child.stdout });
  const waiting = [];
  rl.on('line', (line) => {
    const w = waiting.shift();
    if (w) {
      try { w(JSON.parse(line)); } catch { w({ error: line }); }
    }
  });
  p.ask = (cmd, timeoutMs = 120000) => new Promise((resolve) => {
    let done = false;
    const finish = (v) => { if (!done) { done = true; resolve(v); } };
    waiting.push(finish);
    setTimeout(() => finish({ error: `idle client: no answer to "${cmd}" in ${timeoutMs / 1000}s` }), timeoutMs);
    p.exitPromise.then(() => finish({ error: 'idle client exited' }));
    p.child.stdin.write(cmd + '\n');
  });
  return p;
}

async function runIdle(c) {
  // a fresh proxy process, so the memory left over from the load steps does not hide the connections' cost
  await c.stop();
  await c.start(['ecdsa']);
  const problems = await sanityCheck(c, ['ecdsa']);
  if (problems.length) return { error: `sanity check after restart: ${problems.join('; ')}` };
  const proc = c.procFor('ecdsa');
  const client = idleClient(c.ports.ecdsa);
  try {
    const warm = await client.ask('warm 64');
    if (warm.error) return { error: warm.error };
    await sleep(1500);
    const pids = proc.pids();
    const before = memKiB(pids);
    const opened = await client.ask(`open ${CFG.idleConns}`, 180000);
    if (opened.error) return { error: opened.error };
    await sleep(1500);
    const status = await client.ask('status');
    const after = memKiB(proc.pids());
    const held = status.open ?? opened.open;
    const r = {
      target: CFG.idleConns,
      opened: opened.ok,
      openErrors: opened.errors,
      openErrorSamples: opened.errorSamples,
      openSeconds: opened.ms / 1000,
      held,
      closedByServer: status.closedByPeer ?? null,
      rssBeforeKiB: before.rss,
      rssAfterKiB: after.rss,
      pssBeforeKiB: before.pss,
      pssAfterKiB: after.pss,
      kibPerConn: (after.rss - before.rss) / CFG.idleConns,
      kibPerHeldConn: held ? (after.rss - before.rss) / held : null,
      pssKibPerConn: before.pss != null && after.pss != null ? (after.pss - before.pss) / CFG.idleConns : null,
    };
    if (!proc.alive) r.error = `${proc.name} died during the step: ${JSON.stringify(proc.exited)}`;
    else if (held < CFG.idleConns) {
      r.warning = `only ${held} of ${CFG.idleConns} connections held at measurement (${opened.errors} failed to open${status.closedByPeer ? `, ${status.closedByPeer} closed by the server` : ''}${opened.errors ? `: ${JSON.stringify(opened.errorSamples)}` : ''})`;
    }
    return r;
  } finally {
    await client.ask('close', 10000);
    await client.stop(2000);
  }
}

// ---------------------------------------------------------------------------------------------------- reporting

function summarize(stepKey, runs) {
  // runs: [{ nginx: result, gatehouse: result }, ...]
  const names = ['nginx', 'gatehouse'];
  const med = {};
  for (const n of names) {
    med[n] = {};
    for (const k of ['rps', 'mibps', 'perSec', 'p50us', 'p99us', 'cpuUsPerReq', 'cpuUsPerReqWholeStep', 'cpuUtil', 'kibPerConn', 'kibPerHeldConn', 'pssKibPerConn', 'held', 'proxyCoreOthers', 'loadCoreBusy']) {
      const v = median(runs.map((r) => (r[n] && !r[n].error ? r[n][k] : null)));
      if (v != null) med[n][k] = v;
    }
  }
  // ratios within a run (gatehouse / nginx of the same run), then the median over runs
  const ratio = (k) => median(runs.map((r) => (r.nginx?.[k] && r.gatehouse?.[k] != null && !r.nginx.error && !r.gatehouse.error ? r.gatehouse[k] / r.nginx[k] : null)));
  const thrKey = stepKey === 'big' ? 'mibps' : stepKey.startsWith('handshake') ? 'perSec' : 'rps';
  const ratios = { cpu: ratio('cpuUsPerReq'), throughput: ratio(thrKey), memory: ratio('kibPerConn') };
  const t = TARGETS[stepKey] || {};
  let verdict = null;
  let targetText = '';
  if (t.cpuRatio) {
    targetText = `gatehouse CPU/req ≤ ${t.cpuRatio}x nginx`;
    verdict = ratios.cpu == null ? 'n/a' : ratios.cpu <= t.cpuRatio ? 'PASS' : 'MISS';
  } else if (t.kibPerConn) {
    targetText = `gatehouse ≤ ${t.kibPerConn} KiB per idle TLS connection`;
    const v = med.gatehouse.kibPerConn;
    verdict = v == null ? 'n/a' : v <= t.kibPerConn ? 'PASS' : 'MISS';
  }
  return { medians: med, ratios, target: targetText || null, verdict, throughputKey: thrKey };
}

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r, ri) => '  ' + r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('   ') + (ri === 0 ? `\n  ${widths.map((w) => '-'.repeat(w)).join('   ')}` : '')).join('\n');
}

const STEP_TITLES = {
  h1: 'HTTP/1.1 keep-alive, 1 KiB (h2load --h1 -c 64)',
  h2: 'HTTP/2 multiplexed, 1 KiB (h2load -c 16 -m 32)',
  big: 'HTTP/2, 256 KiB (h2load -c 16 -m 8)',
  'handshake-ecdsa': `full TLS handshakes, ECDSA P-256 (${HANDSHAKE_CLIENTS} x openssl s_time -new)`,
  'handshake-rsa': `full TLS handshakes, RSA-2048 (${HANDSHAKE_CLIENTS} x openssl s_time -new)`,
  idle: 'idle TLS connections, memory',
};

function printStep(stepKey, runs, sum) {
  log(`\n== ${STEP_TITLES[stepKey]} — medians of ${runs.length} run(s)`);
  const names = ['nginx', 'gatehouse'];
  const errs = [];
  for (const [i, r] of runs.entries()) {
    for (const n of names) {
      if (r[n]?.error) errs.push(`run ${i + 1} ${n}: ERROR ${r[n].error}`);
      if (r[n]?.warning) errs.push(`run ${i + 1} ${n}: ${r[n].warning}`);
    }
  }
  const ratioOf = (k) => (sum.ratios[k] == null ? '' : `${fmt(sum.ratios[k], 2)}x`);
  let rows;
  if (stepKey === 'idle') {
    rows = [['contender', 'held conns', 'KiB/conn (RSS)', 'KiB/conn (PSS)', 'RSS before → after']];
    for (const n of names) {
      const last = runs.map((r) => r[n]).filter((x) => x && !x.error).pop();
      const m = sum.medians[n];
      rows.push([n, fmt(m.held, 0), fmt(m.kibPerConn, 1), fmt(m.pssKibPerConn, 1), last ? `${fmt(last.rssBeforeKiB / 1024, 1)} → ${fmt(last.rssAfterKiB / 1024, 1)} MiB` : '—']);
    }
    rows.push(['gatehouse/nginx', '', ratioOf('memory'), '', '']);
  } else if (stepKey.startsWith('handshake')) {
    rows = [['contender', 'handshakes/s', 'p50', 'p99', 'CPU µs/handshake']];
    for (const n of names) {
      const m = sum.medians[n];
      rows.push([n, fmt(m.perSec, 0), '—', '—', fmt(m.cpuUsPerReq, 1)]);
    }
    rows.push(['gatehouse/nginx', ratioOf('throughput'), '', '', ratioOf('cpu')]);
  } else {
    const big = stepKey === 'big';
    rows = [['contender', big ? 'MiB/s' : 'req/s', 'p50', 'p99', 'CPU µs/req', 'proxy CPU use']];
    for (const n of names) {
      const m = sum.medians[n];
      rows.push([n, big ? fmt(m.mibps, 0) : fmt(m.rps, 0), fmtMs(m.p50us), fmtMs(m.p99us), fmt(m.cpuUsPerReq, 1), m.cpuUtil != null ? `${fmt(m.cpuUtil * 100, 0)} %` : '—']);
    }
    rows.push(['gatehouse/nginx', ratioOf('throughput'), '', '', ratioOf('cpu'), '']);
  }
  log(table(rows));
  const others = ['nginx', 'gatehouse'].map((n) => sum.medians[n]?.proxyCoreOthers).filter((x) => x != null);
  if (others.length) log(`  other processes on core ${PROXY_CORE} during the step: ${others.map((x) => `${fmt(x * 100, 0)} %`).join(' / ')} (nginx / gatehouse)${Math.max(...others) > 0.1 ? ' — contended: absolute numbers are low' : ''}`);
  const gen = ['nginx', 'gatehouse'].filter((n) => (sum.medians[n]?.loadCoreBusy ?? 0) > 0.95);
  if (gen.length) log(`  the load generator's core ${LOAD_CORE} was saturated against ${gen.join(' and ')}: its throughput is the client's limit, read the CPU per request`);
  if (sum.target) log(`  target: ${sum.target} → ${sum.verdict}${sum.verdict === 'PASS' || sum.verdict === 'MISS' ? (stepKey === 'idle' ? ` (${fmt(sum.medians.gatehouse.kibPerConn, 1)} KiB)` : ` (${fmt(sum.ratios.cpu, 2)}x)`) : ''}`);
  for (const e of errs) log(`  ! ${e}`);
}

function scanLogs(files) {
  const findings = [];
  for (const f of files) {
    let text;
    try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
    const lines = text.split('\n').filter((l) => l.trim());
    if (!lines.length) continue;
    const counts = new Map();
    for (const l of lines) {
      // collapse numbers so that repeated messages count as one
      const key = l.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z?/g, 'TS').replace(/\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d/g, 'TS').replace(/\b\d+\b/g, 'N').slice(0, 400);
      counts.set(key, (counts.get(key) || 0) + 1);
    }
    findings.push({ file: path.basename(f), lines: lines.length, distinct: [...counts].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, n]) => ({ count: n, line: k })) });
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------------- main

async function main() {
  checkTools();
  const benchDir = path.join(ROOT, '.bench');
  fs.mkdirSync(path.join(benchDir, 'logs'), { recursive: true });
  // keep this script (and its samplers) off the proxy's core
  spawnSync('taskset', ['-a', '-p', '-c', LOAD_CORE, String(process.pid)], { stdio: 'ignore' });

  WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-'));
  fs.mkdirSync(`${WORK}/tmp`);
  fs.mkdirSync(`${WORK}/www`);
  fs.mkdirSync(`${WORK}/gh-certs`, { mode: 0o700 });
  fs.writeFileSync(`${WORK}/www/1k`, crypto.randomBytes(1024));
  fs.writeFileSync(`${WORK}/www/256k`, crypto.randomBytes(262144));
  makeCerts(WORK);

  const nginxVersion = (spawnSync(NGINX, ['-v'], { encoding: 'utf8' }).stderr || '').trim().replace('nginx version: ', '');
  const h2loadVersion = (spawnSync(H2LOAD, ['--version'], { encoding: 'utf8' }).stdout || '').trim();
  const opensslVersion = (spawnSync('openssl', ['version'], { encoding: 'utf8' }).stdout || '').trim();
  const gitRev = (spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout || '').trim() || null;
  log(`gatehouse bench — ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  log(`node ${process.version}, ${nginxVersion}, ${h2loadVersion}, ${opensslVersion}`);
  log(`proxy + backend on core ${PROXY_CORE}, load generator on core ${LOAD_CORE}; ${CFG.runs} run(s); steps: ${CFG.steps.join(', ')}${opts.quick ? ' (quick)' : ''}`);
  log(`work dir ${WORK}`);
  if (os.loadavg()[0] > 1) {
    log(`note: the machine is busy (load average ${os.loadavg()[0].toFixed(2)}): throughput and latency will be low and noisy;`);
    log('      CPU time per request and the within-run ratios are the figures to read');
  }

  const backendPort = await freePort();
  const ports = { nginx: { ecdsa: await freePort(), rsa: await freePort() }, gatehouse: { ecdsa: await freePort(), rsa: await freePort() } };
  fs.writeFileSync(`${WORK}/backend.conf`, backendConf(WORK, backendPort));
  const backend = backendProc = spawnPinned('backend', PROXY_CORE, NGINX, ['-p', WORK, '-e', `${WORK}/backend-error.log`, '-c', `${WORK}/backend.conf`, '-g', 'daemon off;'], `${WORK}/backend-stdout.log`);
  await waitReady(backend, [backendPort]);

  const built = ensureBuilt();
  let distBuilt = null;
  try { distBuilt = fs.statSync(path.join(ROOT, 'dist', 'cli', 'main.js')).mtime.toISOString(); } catch { /* not built */ }
  if (distBuilt) log(`gatehouse: dist/ built ${distBuilt}`);
  const nginx = new NginxContender(WORK, ports.nginx, backendPort);
  const gatehouse = new GatehouseContender(WORK, ports.gatehouse, backendPort);
  const needRsa = CFG.steps.includes('handshake');
  await nginx.start();
  let problems = await sanityCheck(nginx, needRsa ? ['ecdsa', 'rsa'] : ['ecdsa']);
  if (problems.length) throw new Error(`nginx contender does not serve the backend: ${problems.join('; ')}`);

  let ghError = built.ok ? null : built.why;
  if (!ghError) {
    try {
      await gatehouse.start(needRsa ? ['ecdsa', 'rsa'] : ['ecdsa']);
      problems = await sanityCheck(gatehouse, needRsa ? ['ecdsa', 'rsa'] : ['ecdsa']);
      if (problems.length) ghError = `gatehouse does not serve the backend correctly: ${problems.join('; ')}`;
    } catch (e) {
      ghError = `gatehouse did not start: ${e.message}`;
    }
  }
  if (ghError) {
    log(`\n!! ${ghError}`);
    for (const f of gatehouse.logFiles()) {
      try {
        const t = fs.readFileSync(f, 'utf8').trim();
        if (t) log(`   ${path.basename(f)}:\n${t.split('\n').slice(-15).map((l) => '     ' + l).join('\n')}`);
      } catch { /* none */ }
    }
    log('!! measuring nginx alone; no ratios\n');
    await gatehouse.stop();
  }
  const contenders = ghError ? [nginx] : [nginx, gatehouse];

  const results = {};
  const stepKeys = [];
  for (const step of CFG.steps) {
    const keys = step === 'handshake' ? ['handshake-ecdsa', 'handshake-rsa'] : [step];
    for (const k of keys) results[k] = [];
    log(`${elapsed()} -- ${step}`);
    for (let run = 0; run < CFG.runs; run++) {
      for (const k of keys) {
        const row = {};
        for (const c of contenders) {
          let r;
          try {
            if (step === 'idle') r = await runIdle(c);
            else if (step === 'handshake') r = await runHandshakes(c, k === 'handshake-ecdsa' ? 'ecdsa' : 'rsa');
            else r = await runH2load(c, step);
          } catch (e) {
            r = { error: e.message };
          }
          row[c.name] = r;
          const brief = r.error ? `ERROR ${r.error}`
            : step === 'idle' ? `${fmt(r.kibPerConn, 1)} KiB/conn, held ${r.held}/${r.target}`
              : step === 'handshake' ? `${fmt(r.perSec, 0)} handshakes/s, ${fmt(r.cpuUsPerReq, 1)} µs CPU each`
                : `${fmt(step === 'big' ? r.mibps : r.rps, 0)} ${step === 'big' ? 'MiB/s' : 'req/s'}, ${fmt(r.cpuUsPerReq, 1)} µs CPU/req, p99 ${fmtMs(r.p99us)}`;
          const busy = r.proxyCoreOthers != null ? ` [core ${PROXY_CORE}: ${fmt(r.proxyCoreOthers * 100, 0)} % other processes]` : '';
          log(`${elapsed()} run ${run + 1} ${k} ${c.name}: ${brief}${busy}${r.warning ? ` (! ${r.warning})` : ''}`);
          if (c.procFor('ecdsa') && !c.procFor('ecdsa').alive) {
            log(`   !! ${c.name} is down; restarting it`);
            try { await c.stop(); await c.start(needRsa ? ['ecdsa', 'rsa'] : ['ecdsa']); } catch (e) { log(`   !! restart failed: ${e.message}`); }
          }
          await sleep(500);
        }
        results[k].push(row);
      }
    }
    stepKeys.push(...keys);
    if (step === 'idle') {
      // the idle step restarted the contenders with the ECDSA instance only; bring back the rest
      for (const c of contenders) {
        if (c === gatehouse && needRsa && !gatehouse.procs.rsa?.alive) {
          try { await gatehouse.startKind('rsa'); } catch { /* the handshake step reports it */ }
        }
      }
    }
  }

  // ---- report
  log('\n================================================================ results');
  log(`gatehouse vs nginx (1 worker), same backend; ratios are gatehouse/nginx within each run, median over runs`);
  const summary = {};
  for (const k of stepKeys) {
    summary[k] = summarize(k, results[k]);
    printStep(k, results[k], summary[k]);
  }

  log('\n== verdicts');
  const verdictRows = [['step', 'target', 'measured', 'verdict']];
  for (const k of stepKeys) {
    const s = summary[k];
    if (!s.target) continue;
    const measured = k === 'idle' ? `${fmt(s.medians.gatehouse?.kibPerConn, 1)} KiB/conn` : `${fmt(s.ratios.cpu, 2)}x`;
    verdictRows.push([k, s.target, measured, s.verdict]);
  }
  if (verdictRows.length > 1) log(table(verdictRows));
  if (ghError) log(`  gatehouse not measured: ${ghError.split('\n')[0]}`);

  // proxy logs: copy them out, and show what gatehouse printed (its level is warn, so anything is news)
  const logFiles = [...nginx.logFiles(), ...gatehouse.logFiles(), `${WORK}/backend-error.log`];
  for (const f of logFiles) {
    try { fs.copyFileSync(f, path.join(benchDir, 'logs', path.basename(f))); } catch { /* none */ }
  }
  const findings = scanLogs(logFiles);
  log('\n== proxy logs (copied to .bench/logs/)');
  if (!findings.length) log('  nothing logged');
  for (const f of findings) {
    log(`  ${f.file}: ${f.lines} line(s)`);
    for (const d of f.distinct) log(`    ${String(d.count).padStart(6)} × ${d.line}`);
  }

  const json = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg(), clkTck: CLK_TCK },
    versions: { node: process.version, nginx: nginxVersion, h2load: h2loadVersion, openssl: opensslVersion, gatehouseGit: gitRev, gatehouseDistBuilt: distBuilt },
    config: { ...CFG, quick: opts.quick, handshakeClients: HANDSHAKE_CLIENTS, placement: { proxyAndBackend: PROXY_CORE, loadGenerator: LOAD_CORE } },
    gatehouseError: ghError,
    steps: Object.fromEntries(stepKeys.map((k) => [k, { title: STEP_TITLES[k], runs: results[k], ...summary[k] }])),
    logs: findings,
  };
  fs.writeFileSync(path.join(benchDir, 'results.json'), JSON.stringify(json, null, 2) + '\n');
  log('\nwrote .bench/results.json');

  await cleanup();
  removeWorkDir();
  return ghError ? 1 : 0;
}

main().then(
  (code) => { process.exitCode = code; },
  async (err) => {
    console.error(`bench: ${err.stack || err.message}`);
    await cleanup();
    if (WORK) console.error(`bench: work dir kept for inspection: ${WORK}`);
    process.exitCode = 1;
  },
);
