#!/usr/bin/env node
// Issue 20: CPU per request over N fresh starts of each contender, to see the spread between starts
// (not only a median). Each start is a new process of nginx (1 worker), Node's bare floor
// (node-floor.mjs --proxy) and gatehouse, interleaved, each measured once with h2load on the load core.
//
// Shapes: `one-box` puts the nginx backend on the proxy core (proxy and backend share core 0, as in the
// tutorial's `proxy_pass http://127.0.0.1:8080` on a small server); `split` puts the backend on the load
// core with h2load (the shape of `npm run bench`).
//
//   node scripts/bench/fresh-starts.mjs [--shape one-box|split] [--starts N] [--proto h1|h2] [--secs S] [--warmup S] [--only nginx,node,gatehouse] [--no-aslr] [--keep]
//
// GATEHOUSE_NODE_ARGS="--trace-deopt" passes Node flags to the gatehouse processes only (their logs stay in
// the work dir with --keep). CPU is counted over the measured phase only (first to last completion in h2load's
// request log), as npm run bench does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  H2LOAD, LOAD_CORE, NGINX, PROXY_CORE, ROOT, cleanup, cpuAt, cpuSampler, ensureBuilt, fileBackendConf, prepareFileBackendDir, fmt,
  freePort, gatehouseNodeArgs, log, median, nginxCommon, nginxTemps, parseH2load, readRequestLog,
  runToEnd, sleep, spawnPinned, ticksToUs, tlsGet, waitReady,
} from './lib.mjs';

const argv = process.argv.slice(2);
const opt = (name, fallback) => { const i = argv.indexOf(name); return i === -1 ? fallback : argv[i + 1]; };
const SHAPE = opt('--shape', 'one-box');
const STARTS = Number(opt('--starts', 10));
const PROTO = opt('--proto', 'h1');
const SECS = Number(opt('--secs', 4));
const WARMUP = Number(opt('--warmup', 1));
const ONLY = opt('--only', 'nginx,node,gatehouse').split(',');
// --no-aslr starts the Node contenders under `setarch -R` (one fixed address-space layout for every
// start), to tell a layout-dependent mode (code and heap placement) from anything else.
const NODE_CMD = argv.includes('--no-aslr') ? ['setarch', '-R', process.execPath] : [process.execPath];
if (!['one-box', 'split'].includes(SHAPE) || !['h1', 'h2'].includes(PROTO) || !(STARTS >= 1) || !(SECS >= 1) || !(WARMUP >= 0)) {
  console.error('usage: node scripts/bench/fresh-starts.mjs [--shape one-box|split] [--starts N] [--proto h1|h2] [--secs S] [--warmup S] [--only nginx,node,gatehouse] [--no-aslr] [--keep]');
  process.exit(2);
}
const BACKEND_CORE = SHAPE === 'one-box' ? PROXY_CORE : LOAD_CORE;
const LOAD_ARGS = PROTO === 'h1' ? ['--h1', '-c', '64'] : ['-c', '16', '-m', '32'];
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-fresh-starts-'));

function nginxConf(port, backendPort) {
  return `${nginxCommon(WORK, 'nginx', 16384)}
http {
  access_log off;
${nginxTemps(WORK, 'nginx')}
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  upstream backend { server 127.0.0.1:${backendPort}; keepalive 32; }
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${WORK}/ecdsa.crt;
    ssl_certificate_key ${WORK}/ecdsa.key;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`;
}

function gatehouseYaml(port, backendPort) {
  return `listen: { https: "127.0.0.1:${port}" }
storage: ${WORK}/gh-certs
log: { access: off, level: warn }
sites:
  - hosts: [bench.test, 127.0.0.1]
    tls: { cert: ${WORK}/ecdsa.crt, key: ${WORK}/ecdsa.key }
    routes:
      - { location: /, proxy: "http://127.0.0.1:${backendPort}" }
`;
}

function startContender(name, port, backendPort, start) {
  const logFile = `${WORK}/${name}-${start}.log`;
  if (name === 'nginx') {
    fs.writeFileSync(`${WORK}/nginx.conf`, nginxConf(port, backendPort));
    return spawnPinned(name, PROXY_CORE, NGINX, ['-p', WORK, '-e', `${WORK}/nginx-error.log`, '-c', `${WORK}/nginx.conf`, '-g', 'daemon off;'], logFile);
  }
  if (name === 'node') {
    return spawnPinned(name, PROXY_CORE, NODE_CMD[0], [...NODE_CMD.slice(1), path.join(ROOT, 'scripts', 'bench', 'node-floor.mjs'), `${WORK}/www/1k`,
      '--proxy', `http://127.0.0.1:${backendPort}`, '--h1', `${port}:${WORK}/ecdsa.crt:${WORK}/ecdsa.key`], logFile);
  }
  fs.writeFileSync(`${WORK}/gatehouse.yaml`, gatehouseYaml(port, backendPort));
  return spawnPinned(name, PROXY_CORE, NODE_CMD[0], [...NODE_CMD.slice(1), ...gatehouseNodeArgs(), path.join(ROOT, 'bin', 'gatehouse.js'), 'run', '-c', `${WORK}/gatehouse.yaml`], logFile);
}

// Per-process counters that need no tracer (a tracer changes the batching under test): read and write
// syscalls (/proc/PID/io), context switches (a voluntary one is a blocking epoll_wait: an event-loop
// wake-up), and CPU of the main thread apart from the other threads (V8's GC helpers, libuv's pool).
function counters(pids) {
  const out = { syscr: 0, syscw: 0, vcs: 0, ivcs: 0, mainTicks: 0, otherTicks: 0 };
  for (const pid of pids) addCounters(out, pid);
  return out;
}

function addCounters(out, pid) {
  try {
    const io = fs.readFileSync(`/proc/${pid}/io`, 'latin1');
    out.syscr += Number(/syscr: (\d+)/.exec(io)[1]);
    out.syscw += Number(/syscw: (\d+)/.exec(io)[1]);
  } catch { /* not readable */ }
  let tids = [];
  try { tids = fs.readdirSync(`/proc/${pid}/task`); } catch { /* gone */ }
  for (const tid of tids) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1');
      out.vcs += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)[1]);
      out.ivcs += Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(st)[1]);
      const f = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      const g = f.slice(f.lastIndexOf(')') + 2).split(' ');
      const t = Number(g[11]) + Number(g[12]);
      if (tid === String(pid)) out.mainTicks += t; else out.otherTicks += t;
    } catch { /* thread gone */ }
  }
}

async function measureOnce(name, backendPort, start) {
  const port = await freePort();
  const proc = startContender(name, port, backendPort, start);
  try {
    await waitReady(proc, [port]);
    await sleep(200);
    const probe = await tlsGet(port, '/1k');
    if (probe.error || probe.status !== 200 || probe.body.length !== 1024) throw new Error(`${name}: probe failed: ${probe.error ?? probe.status}`);
    const pids = proc.pids();
    const sampler = cpuSampler(pids);
    // the counters start after h2load's warm-up, so that they cover the measured phase only
    let c0 = null;
    let t0 = 0;
    const startCounters = setTimeout(() => { c0 = counters(pids); t0 = Date.now(); }, WARMUP * 1000 + 300);
    const reqLog = `${WORK}/h2load-${name}-${start}.tsv`;
    const res = await runToEnd('h2load', 'taskset', ['-c', LOAD_CORE, H2LOAD, ...LOAD_ARGS, '-t', '1', '-D', String(SECS), `--warm-up-time=${WARMUP}`,
      `--log-file=${reqLog}`, `https://127.0.0.1:${port}/1k`], (SECS + WARMUP + 30) * 1000);
    const samples = sampler.stop();
    clearTimeout(startCounters);
    const c1 = counters(pids);
    const t1 = Date.now();
    const r = parseH2load(res.stdout);
    const rl = readRequestLog(reqLog);
    if (res.code !== 0 || !rl || rl.count < 2) throw new Error(`${name}: h2load exit ${res.code ?? res.signal}: ${(res.stderr + res.stdout).slice(-300)}`);
    if (r.status && r.status['2xx'] !== r.done) throw new Error(`${name}: not every response was 2xx: ${JSON.stringify(r.status)}`);
    const ticks = cpuAt(samples, rl.lastEndMs) - cpuAt(samples, rl.firstEndMs);
    if (!c0) throw new Error(`${name}: h2load ended before its warm-up did`);
    // requests in the counters' window, at the measured phase's rate (h2load's req/s excludes the warm-up)
    const requests = (r.rps * (t1 - t0)) / 1000;
    const per = (k) => (c1[k] - c0[k]) / requests;
    const other = c1.otherTicks - c0.otherTicks;
    return {
      us: ticksToUs(ticks) / (rl.count - 1), rps: r.rps, pid: proc.pid,
      reads: per('syscr'), writes: per('syscw'), wakeups: per('vcs'), preempted: per('ivcs'),
      otherThreads: other / (other + c1.mainTicks - c0.mainTicks),
    };
  } finally {
    await proc.stop();
  }
}

async function main() {
  for (const bin of [NGINX, H2LOAD]) if (!fs.existsSync(bin)) throw new Error(`${bin} is needed`);
  const built = ensureBuilt(argv.includes('--build'));
  if (!built.ok) throw new Error(built.why);
  prepareFileBackendDir(WORK);
  const backendPort = await freePort();
  fs.writeFileSync(path.join(WORK, 'backend.conf'), fileBackendConf(WORK, backendPort));
  const backend = spawnPinned('backend', BACKEND_CORE, NGINX, ['-p', WORK, '-e', `${WORK}/backend-error.log`, '-c', `${WORK}/backend.conf`, '-g', 'daemon off;'], `${WORK}/backend.log`);
  await waitReady(backend, [backendPort]);
  const names = ['nginx', 'node', 'gatehouse'].filter((n) => ONLY.includes(n));
  const proto = PROTO === 'h1' ? 'HTTP/1.1 -c 64' : 'HTTP/2 -c 16 -m 32';
  if (PROTO === 'h2' && names.includes('node')) log('note: the floor serves HTTP/1.1 only; skipped for h2');
  const run = PROTO === 'h2' ? names.filter((n) => n !== 'node') : names;
  log(`node ${process.version}; shape ${SHAPE}: proxy on core ${PROXY_CORE}, backend on core ${BACKEND_CORE}, h2load on core ${LOAD_CORE}; ${proto}, 1 KiB, ${SECS} s (+${WARMUP} s warm-up), ${STARTS} fresh starts each, interleaved`);
  const rows = Object.fromEntries(run.map((n) => [n, []]));
  const rowsDetail = Object.fromEntries(run.map((n) => [n, []]));
  for (let s = 1; s <= STARTS; s++) {
    const line = [];
    for (const n of s % 2 ? run : [...run].reverse()) {
      const m = await measureOnce(n, backendPort, s);
      rows[n].push(m.us);
      rowsDetail[n].push(m);
      line.push(`${n} ${fmt(m.us, 1)} µs (${fmt(m.rps, 0)} req/s, pid ${m.pid})`);
    }
    log(`start ${String(s).padStart(2)}: ${line.join('  ')}`);
  }
  log('');
  log(`${'µs CPU/req'.padEnd(12)}${rows[run[0]].map((_, i) => `#${i + 1}`.padStart(8)).join('')}${'median'.padStart(9)}${'worst'.padStart(8)}${'max/min'.padStart(9)}${'med/nginx'.padStart(11)}${'worst/nginx'.padStart(13)}`);
  const nginxMed = rows.nginx ? median(rows.nginx) : null;
  for (const n of run) {
    const v = rows[n];
    const med = median(v);
    const worst = Math.max(...v);
    const spread = worst / Math.min(...v);
    log(`${n.padEnd(12)}${v.map((x) => fmt(x, 1).padStart(8)).join('')}${fmt(med, 1).padStart(9)}${fmt(worst, 1).padStart(8)}${fmt(spread, 2).padStart(9)}${(nginxMed ? `${fmt(med / nginxMed, 2)}x` : '—').padStart(11)}${(nginxMed ? `${fmt(worst / nginxMed, 2)}x` : '—').padStart(13)}`);
  }
  log('');
  log('per request over the measured phase: read and write syscalls, voluntary context switches (event-loop wake-ups), preemptions; share of CPU off the main thread');
  for (const n of run) {
    for (const [i, m] of rowsDetail[n].entries()) {
      log(`${n.padEnd(10)} #${String(i + 1).padEnd(3)}${fmt(m.us, 1).padStart(7)} µs  reads ${fmt(m.reads, 2)}  writes ${fmt(m.writes, 2)}  wake-ups ${fmt(m.wakeups, 3)}  preempted ${fmt(m.preempted, 3)}  off-main ${fmt(m.otherThreads * 100, 0)}%`);
    }
  }
  fs.mkdirSync(path.join(ROOT, '.bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, '.bench', `fresh-starts-${SHAPE}-${PROTO}.json`), JSON.stringify({ shape: SHAPE, proto: PROTO, secs: SECS, warmup: WARMUP, rows, detail: rowsDetail }, null, 2));
}

main()
  .catch((err) => {
    console.error(`fresh-starts: ${err.message}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    if (argv.includes('--keep')) log(`kept ${WORK}`);
    else fs.rmSync(WORK, { recursive: true, force: true });
  });
