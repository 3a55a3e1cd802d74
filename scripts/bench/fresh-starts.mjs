#!/usr/bin/env node
// Issue 20: CPU per request over N fresh starts of each contender, to see the spread between starts
// (not only a median). Each start is a new process of nginx (1 worker), Node's bare floor
// (node-floor.mjs --proxy) and gatehouse, interleaved, each measured once with h2load on the load core.
//
// Shapes: `one-box` puts the nginx backend on the proxy core (proxy and backend share core 0, as in the
// tutorial's `proxy_pass http://127.0.0.1:8080` on a small server); `split` puts the backend on the load
// core with h2load (the shape of `npm run bench`).
//
//   node scripts/bench/fresh-starts.mjs [--shape one-box|split] [--starts N] [--proto h1|h2] [--secs S] [--warmup S] [--only nginx,node,gatehouse] [--conns N] [--floor-conns N] [--no-aslr] [--cohort [--rounds R]] [--suite] [--variants NAME=FLAGS,...] [--keep]
//
// GATEHOUSE_NODE_ARGS="--trace-deopt" passes Node flags to the gatehouse processes only (their logs stay in
// the work dir with --keep). CPU is counted over the measured phase only (first to last completion in h2load's
// request log), as npm run bench does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  H2LOAD, LOAD_CORE, NGINX, PROXY_CORE, ROOT, cleanup, cpuAt, cpuSampler, ensureBuilt, fileBackendConf, prepareFileBackendDir, fmt,
  freePort, gatehouseNodeArgs, log, median, nginxCommon, nginxHttpCommon, benchGatehouseYaml, parseH2load, readRequestLog,
  floorProxyArgs, proxyRoute, runToEnd, sleep, spawnPinned, ticksToUs, tlsGet, waitReady,
} from './lib.mjs';

const argv = process.argv.slice(2);
const times = (r) => (Number.isFinite(r) && r > 0 ? `${fmt(r, 2)}x` : '—');
const opt = (name, fallback) => { const i = argv.indexOf(name); return i === -1 ? fallback : argv[i + 1]; };
// --suite (what `npm run bench` runs): both shapes × HTTP/1.1 and HTTP/2, with the verdicts of issue 20
const SUITE = argv.includes('--suite');
let SHAPE = opt('--shape', 'one-box');
const STARTS = Number(opt('--starts', 10));
let PROTO = opt('--proto', 'h1');
const SECS = Number(opt('--secs', 4));
// 4 s: with h2load's 1 s, TurboFan was still compiling gatehouse's hot paths inside the measured phase
// (docs/performance.md, "Fresh-start variance")
const WARMUP = Number(opt('--warmup', 4));
const ONLY = opt('--only', 'nginx,node,gatehouse').split(',');
const COHORT = argv.includes('--cohort');
// --variants "semi1=--max-semi-space-size=1 --foo,semi4=--max-semi-space-size=4": more gatehouse contenders
// (gatehouse-semi1, ...), each with its own Node flags, measured interleaved with the others.
const VARIANTS = new Map((opt('--variants', '') || '').split(',').filter(Boolean).map((v) => {
  const at = v.indexOf('=');
  return [`gatehouse-${v.slice(0, at)}`, v.slice(at + 1).split(/\s+/).filter(Boolean)];
}));
const ROUNDS = Number(opt('--rounds', 3));
// --conns N: HTTP/1.1 connections (64 by default); HTTP/2 keeps 16 connections and takes N/16 streams on each
// (512 by default). Many requests in flight is where V8's GC can fall into its slow mode (docs/performance.md).
const CONNS = opt('--conns', undefined);
// --floor-conns 0: the floor opens an upstream connection per request in flight (nginx's and gatehouse's
// model) instead of queueing behind 32 (node-floor.mjs --upstream-connections).
const FLOOR_CONNS = opt('--floor-conns', undefined);
// --no-aslr starts the Node contenders under `setarch -R` (one fixed address-space layout for every
// start), to tell a layout-dependent mode (code and heap placement) from anything else.
const NODE_CMD = argv.includes('--no-aslr') ? ['setarch', '-R', process.execPath] : [process.execPath];
if (!['one-box', 'split'].includes(SHAPE) || !['h1', 'h2'].includes(PROTO) || !(STARTS >= 1) || !(SECS >= 1) || !(WARMUP >= 0)) {
  console.error('usage: node scripts/bench/fresh-starts.mjs [--shape one-box|split] [--starts N] [--proto h1|h2] [--secs S] [--warmup S] [--only nginx,node,gatehouse] [--conns N] [--floor-conns N] [--no-aslr] [--cohort [--rounds R]] [--suite] [--variants NAME=FLAGS,...] [--keep]');
  process.exit(2);
}
let BACKEND_CORE;
let LOAD_ARGS;
function setCombo(shape, proto) {
  SHAPE = shape;
  PROTO = proto;
  BACKEND_CORE = SHAPE === 'one-box' ? PROXY_CORE : LOAD_CORE;
  LOAD_ARGS = PROTO === 'h1' ? ['--h1', '-c', String(CONNS ?? 64)] : ['-c', '16', '-m', String(CONNS ? Math.max(1, Math.round(CONNS / 16)) : 32)];
}
setCombo(SHAPE, PROTO);
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-fresh-starts-'));

function nginxConf(port, backendPort) {
  return `${nginxCommon(WORK, 'nginx', 16384)}
http {
${nginxHttpCommon(WORK, 'nginx')}
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
  return benchGatehouseYaml({ dir: WORK, port, site: proxyRoute(backendPort) });
}

function startContender(name, port, backendPort, start) {
  const logFile = `${WORK}/${name}-${start}.log`;
  if (name === 'nginx') {
    fs.writeFileSync(`${WORK}/nginx.conf`, nginxConf(port, backendPort));
    return spawnPinned(name, PROXY_CORE, NGINX, ['-p', WORK, '-e', `${WORK}/nginx-error.log`, '-c', `${WORK}/nginx.conf`, '-g', 'daemon off;'], logFile);
  }
  if (name === 'node') {
    return spawnPinned(name, PROXY_CORE, NODE_CMD[0], [...NODE_CMD.slice(1), ...floorProxyArgs({ file: `${WORK}/www/1k`, backendPort,
      upstreamConnections: FLOOR_CONNS, listen: [PROTO === 'h1' ? '--h1' : '--h2', `${port}:${WORK}/ecdsa.crt:${WORK}/ecdsa.key`] })], logFile);
  }
  fs.writeFileSync(`${WORK}/gatehouse.yaml`, gatehouseYaml(port, backendPort));
  return spawnPinned(name, PROXY_CORE, NODE_CMD[0], [...NODE_CMD.slice(1), ...gatehouseNodeArgs(), ...(VARIANTS.get(name) ?? []), path.join(ROOT, 'bin', 'gatehouse.js'), 'run', '-c', `${WORK}/gatehouse.yaml`], logFile);
}

// Per-process counters that need no tracer (a tracer changes the batching under test): read and write
// syscalls (/proc/PID/io), context switches (a voluntary one is a blocking epoll_wait: an event-loop
// wake-up), and CPU of the main thread apart from the other threads (V8's GC helpers, libuv's pool).
function counters(pids) {
  const out = { syscr: 0, syscw: 0, vcs: 0, ivcs: 0, mainTicks: 0, otherTicks: 0, byThread: {} };
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
      // V8's worker threads are all "V8 DefaultWorke"; libuv's "libuv-worker"; the main thread "node"/"MainThread"
      const comm = tid === String(pid) ? 'main' : f.slice(f.indexOf('(') + 1, f.lastIndexOf(')'));
      out.byThread[comm] = (out.byThread[comm] ?? 0) + t;
    } catch { /* thread gone */ }
  }
}

async function launch(name, backendPort, tag) {
  const port = await freePort();
  const proc = startContender(name, port, backendPort, tag);
  try {
    await waitReady(proc, [port]);
    await sleep(200);
    // the HTTP/2 floor offers h2 only, so its probe is h2load's own check that every answer is a 2xx
    const probe = name === 'node' && PROTO === 'h2' ? { status: 200, body: { length: 1024 } } : await tlsGet(port, '/1k');
    if (probe.error || probe.status !== 200 || probe.body.length !== 1024) throw new Error(`${name}: probe failed: ${probe.error ?? probe.status}`);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { name, tag, proc, port };
}

// One h2load run against a running contender: CPU per request over the measured phase (after `warmup` s).
async function measureWindow(c, secs, warmup, tag) {
  const pids = c.proc.pids();
  const sampler = cpuSampler(pids);
  // the counters start after h2load's warm-up, so that they cover the measured phase only
  let c0 = null;
  let t0 = 0;
  const startCounters = setTimeout(() => { c0 = counters(pids); t0 = Date.now(); }, warmup * 1000 + 300);
  const reqLog = `${WORK}/h2load-${c.name}-${tag}.tsv`;
  const res = await runToEnd('h2load', 'taskset', ['-c', LOAD_CORE, H2LOAD, ...LOAD_ARGS, '-t', '1', '-D', String(secs), `--warm-up-time=${warmup}`,
    `--log-file=${reqLog}`, `https://127.0.0.1:${c.port}/1k`], (secs + warmup + 30) * 1000);
  const samples = sampler.stop();
  clearTimeout(startCounters);
  const c1 = counters(pids);
  const t1 = Date.now();
  const r = parseH2load(res.stdout);
  const rl = readRequestLog(reqLog);
  fs.rmSync(reqLog, { force: true });
  if (res.code !== 0 || !rl || rl.count < 2) throw new Error(`${c.name}: h2load exit ${res.code ?? res.signal}: ${(res.stderr + res.stdout).slice(-300)}`);
  if (r.status && r.status['2xx'] !== r.done) throw new Error(`${c.name}: not every response was 2xx: ${JSON.stringify(r.status)}`);
  const ticks = cpuAt(samples, rl.lastEndMs) - cpuAt(samples, rl.firstEndMs);
  if (!c0) throw new Error(`${c.name}: h2load ended before its warm-up did`);
  // requests in the counters' window, at the measured phase's rate (h2load's req/s excludes the warm-up)
  const requests = (r.rps * (t1 - t0)) / 1000;
  const per = (k) => (c1[k] - c0[k]) / requests;
  const other = c1.otherTicks - c0.otherTicks;
  const threads = {};
  for (const [k, v] of Object.entries(c1.byThread)) threads[k] = ticksToUs(v - (c0.byThread[k] ?? 0)) / requests;
  return {
    us: ticksToUs(ticks) / (rl.count - 1), rps: r.rps, pid: c.proc.pid,
    reads: per('syscr'), writes: per('syscw'), wakeups: per('vcs'), preempted: per('ivcs'),
    otherThreads: other / (other + c1.mainTicks - c0.mainTicks), threads,
  };
}

async function measureOnce(name, backendPort, start) {
  const c = await launch(name, backendPort, start);
  try {
    return await measureWindow(c, SECS, WARMUP, start);
  } finally {
    await c.proc.stop();
  }
}

// --cohort: all N starts of every contender run at once (idle but for the one under load) and are measured in
// turn, round after round. A machine phase then hits every process of a round alike, while a mode that belongs to
// one start follows that process through every round: the two cases the sequential mode cannot tell apart.
async function cohort(run, backendPort) {
  const all = [];
  for (let s = 1; s <= STARTS; s++) for (const n of run) all.push(await launch(n, backendPort, s));
  log(`cohort: ${all.length} processes running; warming each for ${WARMUP} s`);
  for (const c of all) await measureWindow(c, Math.max(1, WARMUP), 0, `w${c.tag}`);
  const byProc = new Map(all.map((c) => [c, []]));
  for (let r = 1; r <= ROUNDS; r++) {
    // a different order each round, so that no process always follows the same neighbour
    const order = all.map((c, i) => [c, ((i + 1) * 7919 * r) % 1009]).sort((x, y) => x[1] - y[1]).map(([c]) => c);
    const roundNginx = [];
    const roundRows = [];
    for (const c of order) {
      const m = await measureWindow(c, SECS, 1, `r${r}-${c.tag}`);
      roundRows.push([c, m]);
      if (c.name === 'nginx') roundNginx.push(m.us);
    }
    const ref = roundNginx.length ? median(roundNginx) : null;
    for (const [c, m] of roundRows) byProc.get(c).push({ ...m, round: r, rel: ref ? m.us / ref : null });
    log(`round ${r}: nginx median ${fmt(ref, 1)} µs; ${run.map((n) => `${n} ${roundRows.filter(([c]) => c.name === n).map(([, m]) => fmt(m.us, 0)).join(' ')}`).join('; ')}`);
  }
  for (const c of all) await c.proc.stop();
  log('');
  log('per process (one fresh start each): µs CPU/req in each round, its median; the median of its ratios to the same round\'s nginx median');
  const summary = {};
  for (const n of run) {
    const procs = all.filter((c) => c.name === n);
    const meds = [];
    const rels = [];
    for (const c of procs) {
      const v = byProc.get(c);
      const med = median(v.map((m) => m.us));
      const rel = median(v.map((m) => m.rel));
      meds.push(med);
      rels.push(rel);
      const within = Math.max(...v.map((m) => m.us)) / Math.min(...v.map((m) => m.us));
      const threads = Object.entries(v.reduce((acc, m) => { for (const [k, x] of Object.entries(m.threads)) acc[k] = (acc[k] ?? 0) + x / v.length; return acc; }, {}))
        .filter(([, x]) => x >= 0.5).map(([k, x]) => `${k} ${fmt(x, 1)}`).join(', ');
      log(`${n.padEnd(16)} #${String(c.tag).padEnd(3)} ${v.map((m) => fmt(m.us, 1).padStart(7)).join('')}   median ${fmt(med, 1).padStart(6)}  ${times(rel)} nginx  across rounds ${fmt(within, 2)}  µs/req by thread: ${threads}`);
    }
    summary[n] = { medians: meds, rels, spread: Math.max(...meds) / Math.min(...meds), relSpread: Math.max(...rels) / Math.min(...rels), median: median(meds), worst: Math.max(...meds), medRatio: median(rels), worstRatio: Math.max(...rels) };
  }
  log('');
  // without nginx in the run (--only node,gatehouse) there is no ratio to give
  const nginxIn = run.includes('nginx');
  log(`${'contender'.padEnd(18)}${'median µs'.padStart(10)}${'worst µs'.padStart(10)}${'max/min'.padStart(9)}${'med/nginx'.padStart(11)}${'worst/nginx'.padStart(13)}${'max/min of /nginx'.padStart(19)}`);
  for (const n of run) {
    const x = summary[n];
    log(`${n.padEnd(18)}${fmt(x.median, 1).padStart(10)}${fmt(x.worst, 1).padStart(10)}${fmt(x.spread, 2).padStart(9)}${times(x.medRatio).padStart(11)}${times(x.worstRatio).padStart(13)}${(nginxIn ? fmt(x.relSpread, 2) : '—').padStart(19)}`);
  }
  return { summary, perProcess: all.map((c) => ({ name: c.name, start: c.tag, rounds: byProc.get(c) })) };
}

// The targets of issue 20, in the one-box shape: median and worst start each at most 2.5x nginx's median CPU per
// request; in both shapes the worst start at most 1.2x the best.
const ONE_BOX_RATIO = 2.5;
const SPREAD = 1.2;

async function main() {
  for (const bin of [NGINX, H2LOAD]) if (!fs.existsSync(bin)) throw new Error(`${bin} is needed`);
  const built = ensureBuilt(argv.includes('--build'));
  if (!built.ok) throw new Error(built.why);
  prepareFileBackendDir(WORK);
  const combos = SUITE ? [['one-box', 'h1'], ['one-box', 'h2'], ['split', 'h1'], ['split', 'h2']] : [[SHAPE, PROTO]];
  const results = [];
  for (const [shape, proto] of combos) {
    setCombo(shape, proto);
    if (SUITE) log(`\n== ${shape}, ${proto === 'h1' ? 'HTTP/1.1' : 'HTTP/2'}`);
    results.push(await runCombo());
  }
  if (!SUITE) return;
  log('\n== fresh starts: gatehouse against nginx (median of nginx\'s starts) and against Node\'s floor');
  for (const r of results) {
    const g = r.summary.gatehouse;
    const f = r.summary.node;
    const n = r.summary.nginx;
    if (!g || !f || !n) throw new Error('--suite needs all three contenders (no --only)');
    const label = `${r.shape} ${r.proto === 'h1' ? 'HTTP/1.1' : 'HTTP/2'}`;
    const ratio = `median ${fmt(g.medRatio, 2)}x, worst start ${fmt(g.worstRatio, 2)}x nginx (floor ${fmt(f.medRatio, 2)}x / ${fmt(f.worstRatio, 2)}x; gatehouse ${fmt(g.median / f.median, 2)}x the floor)`;
    if (r.shape === 'one-box') {
      const ok = g.medRatio <= ONE_BOX_RATIO && g.worstRatio <= ONE_BOX_RATIO;
      log(`  ${label}: ${ratio}; target ≤ ${ONE_BOX_RATIO}x → ${ok ? 'PASS' : 'MISS'}`);
    } else {
      log(`  ${label}: ${ratio}; no target here (npm run bench's h1/h2 steps hold this shape's ratios)`);
    }
    const spreadOk = g.spread <= SPREAD;
    // nginx has no JIT and no GC: a spread of its own above the target is the machine's in this run
    const why = spreadOk ? '' : n.spread > SPREAD ? ` (nginx's own spread is ${fmt(n.spread, 2)}: this run's machine noise)` : f.spread > SPREAD ? ' (the floor misses it too: Node\'s own)' : '';
    log(`  ${label}: spread over ${STARTS} starts (max/min) ${fmt(g.spread, 2)}, Node's floor ${fmt(f.spread, 2)}, nginx ${fmt(n.spread, 2)}; target ≤ ${SPREAD} → ${spreadOk ? 'PASS' : 'MISS'}${why}`);
  }
}

async function runCombo() {
  const backendPort = await freePort();
  fs.writeFileSync(path.join(WORK, 'backend.conf'), fileBackendConf(WORK, backendPort));
  const backend = spawnPinned('backend', BACKEND_CORE, NGINX, ['-p', WORK, '-e', `${WORK}/backend-error.log`, '-c', `${WORK}/backend.conf`, '-g', 'daemon off;'], `${WORK}/backend.log`);
  try {
    await waitReady(backend, [backendPort]);
    return await measureCombo(backendPort);
  } finally {
    await backend.stop();
  }
}

async function measureCombo(backendPort) {
  const run = [...['nginx', 'node', 'gatehouse'].filter((n) => ONLY.includes(n)), ...VARIANTS.keys()];
  const proto = PROTO === 'h1' ? `HTTP/1.1 ${LOAD_ARGS.slice(1).join(' ')}` : `HTTP/2 ${LOAD_ARGS.join(' ')}`;
  log(`node ${process.version}; shape ${SHAPE}: proxy on core ${PROXY_CORE}, backend on core ${BACKEND_CORE}, h2load on core ${LOAD_CORE}; ${proto}, 1 KiB, ${SECS} s (+${WARMUP} s warm-up), ${STARTS} fresh starts each, interleaved${FLOOR_CONNS !== undefined ? `; the floor with --upstream-connections ${FLOOR_CONNS}` : ""}`);
  if (COHORT) {
    log(`cohort mode: ${ROUNDS} rounds of ${SECS} s per process`);
    const result = await cohort(run, backendPort);
    fs.mkdirSync(path.join(ROOT, '.bench'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, '.bench', `fresh-starts-cohort-${SHAPE}-${PROTO}.json`), JSON.stringify({ shape: SHAPE, proto: PROTO, secs: SECS, warmup: WARMUP, rounds: ROUNDS, ...result }, null, 2));
    return { shape: SHAPE, proto: PROTO, summary: result.summary };
  }
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
  log(`${'µs CPU/req'.padEnd(18)}${rows[run[0]].map((_, i) => `#${i + 1}`.padStart(8)).join('')}${'median'.padStart(9)}${'worst'.padStart(8)}${'max/min'.padStart(9)}${'med/nginx'.padStart(11)}${'worst/nginx'.padStart(13)}`);
  const nginxMed = rows.nginx ? median(rows.nginx) : null;
  const summary = {};
  for (const n of run) {
    const v = rows[n];
    const med = median(v);
    const worst = Math.max(...v);
    const spread = worst / Math.min(...v);
    summary[n] = { median: med, worst, spread, medRatio: nginxMed ? med / nginxMed : null, worstRatio: nginxMed ? worst / nginxMed : null };
    log(`${n.padEnd(18)}${v.map((x) => fmt(x, 1).padStart(8)).join('')}${fmt(med, 1).padStart(9)}${fmt(worst, 1).padStart(8)}${fmt(spread, 2).padStart(9)}${(nginxMed ? `${fmt(med / nginxMed, 2)}x` : '—').padStart(11)}${(nginxMed ? `${fmt(worst / nginxMed, 2)}x` : '—').padStart(13)}`);
  }
  log('');
  log('per request over the measured phase: read and write syscalls, voluntary context switches (event-loop wake-ups), preemptions; share of CPU off the main thread');
  for (const n of run) {
    for (const [i, m] of rowsDetail[n].entries()) {
      log(`${n.padEnd(16)} #${String(i + 1).padEnd(3)}${fmt(m.us, 1).padStart(7)} µs  reads ${fmt(m.reads, 2)}  writes ${fmt(m.writes, 2)}  wake-ups ${fmt(m.wakeups, 3)}  preempted ${fmt(m.preempted, 3)}  off-main ${fmt(m.otherThreads * 100, 0)}%  µs/req by thread: ${Object.entries(m.threads).filter(([, x]) => x >= 0.5).map(([k, x]) => `${k} ${fmt(x, 1)}`).join(', ')}`);
    }
  }
  fs.mkdirSync(path.join(ROOT, '.bench'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, '.bench', `fresh-starts-${SHAPE}-${PROTO}.json`), JSON.stringify({ shape: SHAPE, proto: PROTO, secs: SECS, warmup: WARMUP, rows, detail: rowsDetail }, null, 2));
  return { shape: SHAPE, proto: PROTO, summary };
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
