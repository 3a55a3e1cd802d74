#!/usr/bin/env node
// npm run bench — gatehouse against Debian's nginx (1 worker), same backend, same machine, one run.
//
// Method (see shared/notes/performance.md): backend nginx + the proxy under test pinned to core 0, the load
// generator (h2load / openssl s_time / idle client) pinned to core 1. Contenders are interleaved within every
// step (nginx, gatehouse, nginx, gatehouse, ...) and medians taken over --runs. The figure that moves least on a
// shared machine is the proxy's own CPU time (utime+stime of its whole process tree, from /proc/PID/stat) per
// completed request, so that is what the targets are checked against, as ratios within this one run.
//
//   node scripts/bench.mjs [--quick] [--runs N] [--only h1,h2,big,handshake,idle,static,cache,compress,cgi,cluster,metrics,request-model,nginx-conf] [--idle-conns N]
//                          [--build] [--keep] [--verbose]
//
// Results: a table per step on stdout and .bench/results.json; proxy logs are copied to .bench/logs/.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import {
  CLK_TCK,
  H2LOAD,
  LOAD_CORE,
  NGINX,
  NOFILE,
  PROXY_CORE,
  Proc,
  ROOT,
  cleanup,
  contention,
  coreTicks,
  cpuAt,
  cpuSampler,
  cpuTicks,
  elapsed,
  ensureBuilt,
  fmt,
  fmtMs,
  freePort,
  gatehouseNodeArgs,
  log,
  makeCerts,
  median,
  memKiB,
  nginxCommon,
  nginxHttpCommon,
  benchGatehouseYaml,
  fileBackendConf,
  floorProxyArgs,
  proxyRoute,
  onInterrupt,
  parseH2load,
  readRequestLog,
  runToEnd,
  setVerbose,
  sleep,
  spawnPinned,
  ticksToUs,
  tlsGet,
  vlog,
  waitReady,
  which,
} from './bench/lib.mjs';

const GATEHOUSE_NODE_ARGS = gatehouseNodeArgs();
const CORE_STEPS = ['h1', 'h2', 'big', 'handshake', 'idle'];
// Per-topic benchmarks, each a standalone script in scripts/bench/ (run after the core steps, with their
// own contenders and verdict lines): static files, the HTTP cache, compression memory, php-fpm/uWSGI,
// the pm2 cluster, /metrics latency, what nginx's request model (rewrite, map, access, auth) costs, and a
// .conf against its adapted YAML, and CPU per request over fresh starts in both shapes (backend beside the
// proxy, and on the load core as here), with Node's floor, the spread between starts and issue 20's targets.
const TOPICS = ['static', 'cache', 'compress', 'cgi', 'cluster', 'metrics', 'request-model', 'nginx-conf', 'fresh-starts'];
const STEPS = [...CORE_STEPS, ...TOPICS];
// Steps that also measure Node's floor (scripts/bench/node-floor.mjs --proxy: a bare Node https server
// proxying with undici), the steps whose targets sit near what Node itself reaches.
const FLOOR_STEPS = new Set(['handshake', 'idle']);
const HANDSHAKE_CLIENTS = 4; // parallel `openssl s_time` processes
const HANDSHAKE_WARMUP_SECS = 2;

// ---------------------------------------------------------------------------------------------------- options

function usage(msg) {
  if (msg) console.error(`bench: ${msg}`);
  console.error(`usage: node scripts/bench.mjs [--quick] [--runs N] [--only ${STEPS.join(',')}] [--idle-conns N] [--build] [--keep] [--verbose]`);
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
  steps: opts.only ? CORE_STEPS.filter((s) => opts.only.includes(s)) : CORE_STEPS,
  topics: opts.only ? TOPICS.filter((s) => opts.only.includes(s)) : TOPICS,
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

setVerbose(opts.verbose);
let backendProc = null;
onInterrupt(() => removeWorkDir());


// ---------------------------------------------------------------------------------------------------- processes


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


// application/octet-stream, which is not compressible by type: no proxy gzips it
function backendConf(dir, port) {
  return fileBackendConf(dir, port, 'location / { }');
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
  // keepalive_requests without a limit: h2load -D hangs when the server closes a connection
  return `${nginxCommon(dir, 'nginx', 16384)}
http {
${nginxHttpCommon(dir, 'nginx')}
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
  return benchGatehouseYaml({ dir, port, cert: kind, site: proxyRoute(backendPort) });
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
      [...GATEHOUSE_NODE_ARGS, path.join(ROOT, 'bin', 'gatehouse.js'), 'run', '-c', `${this.dir}/gatehouse-${kind}.yaml`],
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

/**
 * Node's floor: bare https servers (ECDSA and RSA) in one process that proxy every request to the
 * same backend with undici, the least a Node proxy does (scripts/bench/node-floor.mjs --proxy).
 */
class NodeFloorContender {
  constructor(dir, ports, backendPort) {
    this.name = 'node';
    this.dir = dir;
    this.ports = ports;
    this.backendPort = backendPort;
    this.logFile = `${dir}/node-floor.log`;
  }

  async start() {
    const listen = ['ecdsa', 'rsa'].flatMap((k) => ['--h1', `${this.ports[k]}:${this.dir}/${k}.crt:${this.dir}/${k}.key`]);
    this.proc = spawnPinned('node-floor', PROXY_CORE, process.execPath,
      floorProxyArgs({ file: `${this.dir}/www/1k`, backendPort: this.backendPort, listen }), this.logFile);
    await waitReady(this.proc, [this.ports.ecdsa, this.ports.rsa]);
  }

  async stop() { if (this.proc) await this.proc.stop(); }
  procFor() { return this.proc; }
  logFiles() { return [this.logFile]; }
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

/** Full handshakes for `secs` seconds (CFG.handshakeSecs when measuring; shorter to warm up). */
async function runHandshakes(c, kind, secs = CFG.handshakeSecs) {
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
    ['-c', LOAD_CORE, 'openssl', 's_time', '-connect', `127.0.0.1:${c.ports[kind]}`, '-new', '-time', String(secs), '-www', www],
    (secs + 30) * 1000)));
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
    perSec: conns / secs,
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
  // runs: [{ nginx: result, gatehouse: result, node?: result }, ...]
  const names = contenderNames(runs);
  const med = {};
  for (const n of names) {
    med[n] = {};
    for (const k of ['rps', 'mibps', 'perSec', 'p50us', 'p99us', 'cpuUsPerReq', 'cpuUsPerReqWholeStep', 'cpuUtil', 'kibPerConn', 'kibPerHeldConn', 'pssKibPerConn', 'held', 'proxyCoreOthers', 'loadCoreBusy']) {
      const v = median(runs.map((r) => (r[n] && !r[n].error ? r[n][k] : null)));
      if (v != null) med[n][k] = v;
    }
  }
  // ratios within a run (a / b of the same run), then the median over runs
  const ratio = (k, a = 'gatehouse', b = 'nginx') => median(runs.map((r) => (r[b]?.[k] && r[a]?.[k] != null && !r[b].error && !r[a].error ? r[a][k] / r[b][k] : null)));
  const thrKey = stepKey === 'big' ? 'mibps' : stepKey.startsWith('handshake') ? 'perSec' : 'rps';
  const ratios = { cpu: ratio('cpuUsPerReq'), throughput: ratio(thrKey), memory: ratio('kibPerConn') };
  // Node's floor against nginx, and gatehouse against the floor (null when the floor was not measured)
  const floor = names.includes('node')
    ? { cpu: ratio('cpuUsPerReq', 'node'), throughput: ratio(thrKey, 'node'), memory: ratio('kibPerConn', 'node'),
      overCpu: ratio('cpuUsPerReq', 'gatehouse', 'node'), overMemory: ratio('kibPerConn', 'gatehouse', 'node') }
    : null;
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
  return { medians: med, ratios, floor, target: targetText || null, verdict, throughputKey: thrKey };
}

/** The contenders measured in a step's runs, in report order. */
function contenderNames(runs) {
  return ['nginx', 'node', 'gatehouse'].filter((n) => runs.some((r) => r[n]));
}

/** Whether a target the floor itself misses or just meets (within 10%) can be reached on Node at all. */
function floorNote(stepKey, sum) {
  const f = sum.floor;
  if (!f) return null;
  const t = TARGETS[stepKey] || {};
  if (t.cpuRatio && f.cpu != null) {
    const reach = f.cpu > t.cpuRatio ? 'above the target: no Node server reaches it'
      : f.cpu > t.cpuRatio * 0.9 ? 'within 10% of the target: Node itself barely reaches it' : 'under the target';
    return `Node's floor (a bare Node https server proxying with undici): ${fmt(f.cpu, 2)}x nginx's CPU, ${reach}; gatehouse ${fmt(f.overCpu, 2)}x the floor`;
  }
  if (t.kibPerConn && sum.medians.node?.kibPerConn != null) {
    const v = sum.medians.node.kibPerConn;
    const reach = v > t.kibPerConn ? 'above the target: no Node server reaches it' : v > t.kibPerConn * 0.9 ? 'within 10% of the target' : 'under the target';
    return `Node's floor (a bare Node https server proxying with undici, same request): ${fmt(v, 1)} KiB per connection, ${reach}; gatehouse ${fmt(f.overMemory, 2)}x the floor`;
  }
  return null;
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
  const names = contenderNames(runs);
  const ratioOfFloor = (k) => (sum.floor?.[k] == null ? '' : `${fmt(sum.floor[k], 2)}x`);
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
    if (sum.floor) rows.push(['node/nginx', '', ratioOfFloor('memory'), '', ''], ['gatehouse/node', '', ratioOfFloor('overMemory'), '', '']);
  } else if (stepKey.startsWith('handshake')) {
    rows = [['contender', 'handshakes/s', 'p50', 'p99', 'CPU µs/handshake']];
    for (const n of names) {
      const m = sum.medians[n];
      rows.push([n, fmt(m.perSec, 0), '—', '—', fmt(m.cpuUsPerReq, 1)]);
    }
    rows.push(['gatehouse/nginx', ratioOf('throughput'), '', '', ratioOf('cpu')]);
    if (sum.floor) rows.push(['node/nginx', ratioOfFloor('throughput'), '', '', ratioOfFloor('cpu')], ['gatehouse/node', '', '', '', ratioOfFloor('overCpu')]);
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
  const measured = names.filter((n) => sum.medians[n]?.proxyCoreOthers != null);
  const others = measured.map((n) => sum.medians[n].proxyCoreOthers);
  if (others.length) log(`  other processes on core ${PROXY_CORE} during the step: ${others.map((x) => `${fmt(x * 100, 0)} %`).join(' / ')} (${measured.join(' / ')})${Math.max(...others) > 0.1 ? ' — contended: absolute numbers are low' : ''}`);
  const gen = names.filter((n) => (sum.medians[n]?.loadCoreBusy ?? 0) > 0.95);
  if (gen.length) log(`  the load generator's core ${LOAD_CORE} was saturated against ${gen.join(' and ')}: its throughput is the client's limit, read the CPU per request`);
  const note = floorNote(stepKey, sum);
  if (note) log(`  ${note}`);
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
  const ports = {
    nginx: { ecdsa: await freePort(), rsa: await freePort() },
    gatehouse: { ecdsa: await freePort(), rsa: await freePort() },
    node: { ecdsa: await freePort(), rsa: await freePort() },
  };
  fs.writeFileSync(`${WORK}/backend.conf`, backendConf(WORK, backendPort));
  const backend = backendProc = spawnPinned('backend', PROXY_CORE, NGINX, ['-p', WORK, '-e', `${WORK}/backend-error.log`, '-c', `${WORK}/backend.conf`, '-g', 'daemon off;'], `${WORK}/backend-stdout.log`);
  await waitReady(backend, [backendPort]);

  const built = ensureBuilt(opts.build);
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
  // Node's floor, for the steps in FLOOR_STEPS: started once, beside the others.
  let floor = null;
  if (!ghError && CFG.steps.some((st) => FLOOR_STEPS.has(st))) {
    floor = new NodeFloorContender(WORK, ports.node, backendPort);
    try {
      await floor.start();
      problems = await sanityCheck(floor, ['ecdsa', 'rsa']);
      if (problems.length) throw new Error(problems.join('; '));
    } catch (e) {
      log(`! Node's floor server did not start (${e.message}); those steps compare nginx and gatehouse only`);
      await floor.stop();
      floor = null;
    }
  }
  const contendersFor = (step) => (floor && FLOOR_STEPS.has(step) ? [nginx, floor, gatehouse] : contenders);

  const results = {};
  const stepKeys = [];
  for (const step of CFG.steps) {
    const keys = step === 'handshake' ? ['handshake-ecdsa', 'handshake-rsa'] : [step];
    for (const k of keys) results[k] = [];
    log(`${elapsed()} -- ${step}`);
    if (step === 'handshake') {
      // Unmeasured warm-up, as h2load's --warm-up-time gives the request steps: the first seconds of
      // new connections in a fresh Node process measured about twice the steady cost (JIT).
      for (const k of keys) for (const c of contendersFor(step)) await runHandshakes(c, k === 'handshake-ecdsa' ? 'ecdsa' : 'rsa', HANDSHAKE_WARMUP_SECS).catch(() => undefined);
    }
    for (let run = 0; run < CFG.runs; run++) {
      for (const k of keys) {
        const row = {};
        for (const c of contendersFor(step)) {
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
  if (floor) log(`node: Node's floor, a bare Node https server proxying with undici (scripts/bench/node-floor.mjs --proxy), in the ${[...FLOOR_STEPS].join(' and ')} steps`);
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
  const logFiles = [...nginx.logFiles(), ...gatehouse.logFiles(), ...(floor ? floor.logFiles() : []), `${WORK}/backend-error.log`];
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

/** Runs each selected topic script in turn, its output shown as it comes; returns its verdict lines. */
async function runTopics() {
  const verdicts = [];
  for (const topic of CFG.topics) {
    log(`\n================================================================ ${topic} (scripts/bench/${topic}.mjs)`);
    const args = [path.join(ROOT, 'scripts', 'bench', `${topic}.mjs`)];
    if (opts.build && ['cache', 'compress', 'static'].includes(topic)) args.push('--build');
    if (topic === 'fresh-starts') args.push('--suite', ...(opts.quick ? ['--starts', '4', '--secs', '2', '--warmup', '3'] : []));
    // On every core again: this script pinned itself to the load core (main()), and a child inherits
    // that, so a topic's own unpinned processes (the pm2 cluster's workers) would share one core.
    const allCores = `0-${os.cpus().length - 1}`;
    const child = spawn('taskset', ['-c', allCores, process.execPath, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      console.log(line);
      if (/\b(PASS|MISS)\b|no target/.test(line)) verdicts.push(`${topic}: ${line.trim()}`);
    });
    const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
    if (code !== 0) verdicts.push(`${topic}: exited ${code}`);
  }
  return verdicts;
}

async function mainWithTopics() {
  const code = CFG.steps.length ? await main() : 0;
  if (!CFG.topics.length) return code;
  const verdicts = await runTopics();
  log('\n== topic verdicts');
  for (const v of verdicts) log(`  ${v}`);
  return code;
}

mainWithTopics().then(
  (code) => { process.exitCode = code; },
  async (err) => {
    console.error(`bench: ${err.stack || err.message}`);
    await cleanup();
    if (WORK) console.error(`bench: work dir kept for inspection: ${WORK}`);
    process.exitCode = 1;
  },
);
