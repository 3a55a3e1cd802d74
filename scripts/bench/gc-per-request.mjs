#!/usr/bin/env node
// Issue 20: what V8's GC does per request under many requests in flight, for gatehouse or Node's floor,
// one-box (proxy and its nginx backend on core 0, h2load on core 1). Each run is a fresh process under
// `--trace-gc-nvp`: one h2load run to warm it, then one measured; the GC lines of the measured run give,
// per request, the KiB allocated and promoted to the old generation, and the scavenge and mark-compact
// pauses. Promotion is the sign of the slow mode (docs/performance.md, "GC under many concurrent
// requests"): above a few hundred bytes per request, the in-flight set is being copied to the old
// generation and freed only by mark-compacts.
//
//   node scripts/bench/gc-per-request.mjs [--contenders gatehouse,node] [--proto h2|h1] [--conns 512] [--runs 3]
//                                         [--secs 6] [--floor-conns N] [--snapshot] [--keep] [-- NODE_FLAGS...]
//
// Contenders run interleaved, `runs` times each. NODE_FLAGS after `--` go to every Node contender.
// --snapshot writes a heap snapshot 2 s into each measured run (--heapsnapshot-signal) into the work
// folder, kept with --keep, for a dominator view in Chrome DevTools or memlab. The upstream connects
// column is the machine's TcpActiveOpens over the measured run: h2load's own 16 (HTTP/2) or N (HTTP/1.1)
// are in it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  H2LOAD, LOAD_CORE, NGINX, PROXY_CORE, ROOT, benchGatehouseYaml, cleanup, ensureBuilt, fileBackendConf, fmt, freePort,
  cpuTicks, floorProxyArgs, log, parseH2load, prepareFileBackendDir, proxyRoute, runToEnd, sleep, spawnPinned, treePids, ticksToUs, waitReady,
} from './lib.mjs';

const dash = process.argv.indexOf('--');
const argv = process.argv.slice(2, dash === -1 ? undefined : dash);
const NODE_FLAGS = dash === -1 ? [] : process.argv.slice(dash + 1);
const opt = (name, fallback) => { const i = argv.indexOf(name); return i === -1 ? fallback : argv[i + 1]; };
const CONTENDERS = opt('--contenders', 'gatehouse,node').split(',');
const PROTO = opt('--proto', 'h2');
const CONNS = Number(opt('--conns', 512));
const RUNS = Number(opt('--runs', 3));
const SECS = Number(opt('--secs', 6));
const FLOOR_CONNS = opt('--floor-conns', undefined);
const SNAPSHOT = argv.includes('--snapshot');
const KEEP = argv.includes('--keep');
if (!['h1', 'h2'].includes(PROTO) || !(CONNS >= 16) || !(RUNS >= 1) || !(SECS >= 1) || CONTENDERS.some((c) => !['gatehouse', 'node'].includes(c))) {
  console.error('usage: node scripts/bench/gc-per-request.mjs [--contenders gatehouse,node] [--proto h2|h1] [--conns N>=16] [--runs N] [--secs S] [--floor-conns N] [--snapshot] [--keep] [-- NODE_FLAGS...]');
  process.exit(2);
}
const built = ensureBuilt();
if (!built.ok) {
  console.error(built.why);
  process.exit(1);
}
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-gc-per-request-'));
prepareFileBackendDir(WORK);
const LOAD = PROTO === 'h1' ? ['--h1', '-c', String(CONNS)] : ['-c', '16', '-m', String(Math.max(1, Math.round(CONNS / 16)))];

// iproute2's nstat; without it the column reads —
function tcpActiveOpens() {
  try {
    return Number(/TcpActiveOpens\s+(\d+)/.exec(execFileSync('nstat', ['-az', 'TcpActiveOpens'], { encoding: 'utf8' }))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

function start(name, port, backendPort, tag) {
  const flags = ['--trace-gc-nvp', ...(SNAPSHOT ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${WORK}`] : []), ...NODE_FLAGS];
  const logFile = `${WORK}/${name}-${tag}.log`;
  if (name === 'node') {
    return spawnPinned(name, PROXY_CORE, process.execPath, [...flags, ...floorProxyArgs({ file: `${WORK}/www/1k`, backendPort,
      upstreamConnections: FLOOR_CONNS, listen: [PROTO === 'h1' ? '--h1' : '--h2', `${port}:${WORK}/ecdsa.crt:${WORK}/ecdsa.key`] })], logFile);
  }
  fs.writeFileSync(`${WORK}/gatehouse.yaml`, benchGatehouseYaml({ dir: WORK, port, site: proxyRoute(backendPort) }));
  return spawnPinned(name, PROXY_CORE, process.execPath, [...flags, path.join(ROOT, 'bin', 'gatehouse.js'), 'run', '-c', `${WORK}/gatehouse.yaml`], logFile);
}

/** Sums the `--trace-gc-nvp` lines of a log from byte `from` on. */
function gcTotals(file, from) {
  const t = { allocated: 0, promoted: 0, scavenges: 0, scavengeMs: 0, markCompacts: 0, markCompactMs: 0 };
  for (const line of fs.readFileSync(file, 'latin1').slice(from).split('\n')) {
    const kind = / gc=(\w+)/.exec(line)?.[1];
    if (!kind) continue;
    const num = (k) => Number(new RegExp(`\\b${k}=([\\d.]+)`).exec(line)?.[1] ?? 0);
    t.allocated += num('allocated');
    t.promoted += num('promoted');
    if (kind === 's') { t.scavenges += 1; t.scavengeMs += num('pause'); } else { t.markCompacts += 1; t.markCompactMs += num('pause'); }
  }
  return t;
}

async function measure(name, backendPort, tag) {
  const port = await freePort();
  const proc = start(name, port, backendPort, tag);
  try {
    await waitReady(proc, [port]);
    await sleep(300);
    const h2load = (secs) => runToEnd('h2load', 'taskset', ['-c', LOAD_CORE, H2LOAD, ...LOAD, '-t', '1', '-D', String(secs), `https://127.0.0.1:${port}/1k`], (secs + 30) * 1000);
    await h2load(4);
    const mark = fs.statSync(proc.logFile).size;
    const pids = treePids(proc.pid);
    const [ticks0, opens0] = [cpuTicks(pids), tcpActiveOpens()];
    if (SNAPSHOT) setTimeout(() => { try { process.kill(proc.pid, 'SIGUSR2'); } catch { /* gone */ } }, 2000);
    const res = await h2load(SECS);
    const [ticks1, opens1] = [cpuTicks(pids), tcpActiveOpens()];
    const r = parseH2load(res.stdout);
    if (res.code !== 0 || !r.done) throw new Error(`${name}: h2load exit ${res.code ?? res.signal}: ${(res.stderr + res.stdout).slice(-300)}`);
    await sleep(200);
    const gc = gcTotals(proc.logFile, mark);
    const per = (x) => x / r.done;
    return {
      rps: r.rps, us: ticksToUs(ticks1 - ticks0) / r.done, allocKiB: per(gc.allocated) / 1024, promotedKiB: per(gc.promoted) / 1024,
      scavenges: gc.scavenges, scavengeMs: gc.scavengeMs, markCompacts: gc.markCompacts, markCompactMs: gc.markCompactMs, connects: opens1 - opens0,
    };
  } finally {
    await proc.stop();
  }
}

const backendPort = await freePort();
fs.writeFileSync(`${WORK}/backend.conf`, fileBackendConf(WORK, backendPort));
const backend = spawnPinned('backend', PROXY_CORE, NGINX, ['-p', WORK, '-e', `${WORK}/backend-error.log`, '-c', `${WORK}/backend.conf`, '-g', 'daemon off;'], `${WORK}/backend.log`);
let code = 0;
try {
  await waitReady(backend, [backendPort]);
  log(`node ${process.version}; one-box: proxy and backend on core ${PROXY_CORE}, h2load on core ${LOAD_CORE}; ${PROTO === 'h1' ? `HTTP/1.1 -c ${CONNS}` : `HTTP/2 ${LOAD.slice(0, 4).join(' ')}`}, 1 KiB; 4 s to warm, ${SECS} s measured${NODE_FLAGS.length ? `; Node flags ${NODE_FLAGS.join(' ')}` : ''}`);
  log(`${'contender'.padEnd(11)}${'req/s'.padStart(8)}${'µs CPU/req'.padStart(12)}${'KiB alloc/req'.padStart(15)}${'KiB promoted/req'.padStart(18)}${'scavenges (ms)'.padStart(17)}${'mark-compacts (ms)'.padStart(20)}${'connects'.padStart(10)}`);
  for (let run = 1; run <= RUNS; run++) {
    for (const name of run % 2 ? CONTENDERS : [...CONTENDERS].reverse()) {
      const m = await measure(name, backendPort, run);
      log(`${name.padEnd(11)}${fmt(m.rps, 0).padStart(8)}${fmt(m.us, 1).padStart(12)}${fmt(m.allocKiB, 2).padStart(15)}${fmt(m.promotedKiB, 2).padStart(18)}${`${m.scavenges} (${fmt(m.scavengeMs, 0)})`.padStart(17)}${`${m.markCompacts} (${fmt(m.markCompactMs, 0)})`.padStart(20)}${fmt(m.connects, 0).padStart(10)}`);
    }
  }
} catch (err) {
  console.error(err.message);
  code = 1;
} finally {
  await backend.stop();
  await cleanup();
  if (KEEP) log(`work folder kept: ${WORK}`);
  else fs.rmSync(WORK, { recursive: true, force: true });
}
process.exit(code);
