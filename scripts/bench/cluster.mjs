#!/usr/bin/env node
// HTTP/2 throughput of gatehouse as one process vs. the pm2 cluster from ecosystem.config.js (one
// worker per core), on a 1 KiB static file. Target: cluster ≥ 1.6x the single process.
//
// Method: h2load with the shape of the core bench's HTTP/2 step (one thread, 16 connections × 32
// streams, as in performance.md's anchors), 2 s warm-up, 10 s measured, against the same config;
// single and cluster alternate ROUNDS times and the ratio is the median of the per-round ratios. Nothing is
// pinned: the cluster is meant to use every core, and h2load shares them with it in both setups, so
// the ratio understates what a separate load generator would see (at 32 × 10, h2load costs twice
// the CPU per request and the ratio drops by about 0.1). pm2 runs from node_modules with a private
// PM2_HOME (never a global pm2). Usage: node scripts/bench/cluster.mjs [--rounds N] [--verbose]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  H2LOAD, Proc, ROOT, cleanup, coreTicks, cpuTicks, elapsed, idleCores, ensureBuilt, fmt, freePort, gatehouseNodeArgs, log, makeCerts, median, onInterrupt, parseH2load,
  runToEnd, setVerbose, ticksToUs, tlsGet, treePids, vlog, waitReady,
} from './lib.mjs';

const TARGET = 1.6;
const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf('--rounds') + 1]) || 5;
setVerbose(args.includes('--verbose'));

// Each setup runs as shipped: the single process with Node's defaults, the cluster with the node_args
// of ecosystem.config.js (--single-threaded-gc). GATEHOUSE_NODE_ARGS, when set, replaces both, so a
// tuning flag is compared on equal terms.
const NODE_ARGS = gatehouseNodeArgs();
const PM2 = path.join(ROOT, 'node_modules/pm2/bin/pm2');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-bench-cluster-'));
const pm2Home = path.join(dir, 'pm2');
const pm2 = (argv, env = {}) => spawnSync(process.execPath, [PM2, ...argv], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PM2_HOME: pm2Home, ...env }, timeout: 120_000 });
const pm2Kill = () => pm2(['kill']);
onInterrupt(pm2Kill);

async function setup() {
  makeCerts(dir);
  fs.mkdirSync(path.join(dir, 'www'));
  fs.writeFileSync(path.join(dir, 'www', '1k'), 'x'.repeat(1024));
  const port = await freePort();
  const config = path.join(dir, 'gatehouse.yaml');
  fs.writeFileSync(config, `listen: { https: "127.0.0.1:${port}" }
storage: ${dir}/storage
log: { access: off }
sites:
  - hosts: [bench.test, 127.0.0.1]
    tls: { cert: ${dir}/ecdsa.crt, key: ${dir}/ecdsa.key }
    routes:
      - location: /
        root: ${dir}/www
`);
  return { port, config };
}

/** h2load's result plus how many cores the gatehouse processes `pids` used meanwhile (from /proc). */
async function h2load(port, pids) {
  const t0 = Date.now();
  const c0 = cpuTicks(pids);
  const m0 = coreTicks();
  const r = await runToEnd('h2load', H2LOAD, ['-t', '1', '-c', '16', '-m', '32', '--warm-up-time', '2', '-D', '10', `https://127.0.0.1:${port}/1k`], 60_000);
  const parsed = parseH2load(r.stdout);
  vlog(r.stdout.split('\n').filter((l) => /finished|requests:|status codes/.test(l)).join(' | '));
  if (!parsed.rps || parsed.failed) throw new Error(`h2load failed: ${r.stdout.slice(-800)}${r.stderr}`);
  const wallMs = Date.now() - t0;
  // The idle cores tell "no core was free" from "a core was free and the cluster did not use it".
  return { ...parsed, cores: ticksToUs(cpuTicks(pids) - c0) / 1000 / wallMs, idleCores: idleCores(m0, coreTicks(), wallMs) };
}

async function sane(port) {
  const r = await tlsGet(port, '/1k');
  if (r.status !== 200 || r.body.length !== 1024) throw new Error(`sanity check: ${r.error ?? `status ${r.status}, ${r.body?.length} bytes`}`);
}

async function single({ port, config }) {
  const p = new Proc('gatehouse', process.execPath, [...NODE_ARGS, path.join(ROOT, 'bin/gatehouse.js'), 'run', '-c', config], { logFile: path.join(dir, 'single.log') });
  try {
    await waitReady(p, [port], 30_000);
    await sane(port);
    return await h2load(port, treePids(p.pid));
  } finally {
    await p.stop();
  }
}

async function cluster({ port, config }) {
  const started = pm2(['start', path.join(ROOT, 'ecosystem.config.js'), '--only', 'gatehouse'], { GATEHOUSE_CONFIG: config });
  if (started.status !== 0) throw new Error(`pm2 start: ${started.stdout}${started.stderr}`);
  try {
    const list = JSON.parse(pm2(['jlist']).stdout);
    const online = list.filter((p) => p.name === 'gatehouse' && p.pm2_env.status === 'online').length;
    vlog(`pm2: ${online} workers online`);
    await sane(port);
    const pids = list.filter((p) => p.name === 'gatehouse').map((p) => p.pid);
    return { ...(await h2load(port, pids)), workers: online };
  } finally {
    pm2Kill();
  }
}

async function main() {
  const built = ensureBuilt();
  if (!built.ok) throw new Error(built.why);
  const setupInfo = await setup();
  log(`${elapsed()} gatehouse single process vs pm2 cluster (${os.cpus().length} cores), HTTP/2 GET 1 KiB, ${ROUNDS} rounds`);
  const rows = [];
  for (let i = 0; i < ROUNDS; i++) {
    const s = await single(setupInfo);
    const c = await cluster(setupInfo);
    rows.push({ single: s.rps, cluster: c.rps, workers: c.workers, singleCores: s.cores, clusterCores: c.cores });
    log(`${elapsed()} round ${i + 1}: single ${fmt(s.rps, 0)} req/s on ${fmt(s.cores, 2)} cores, cluster of ${c.workers} ${fmt(c.rps, 0)} req/s on ${fmt(c.cores, 2)} cores with ${fmt(c.idleCores, 2)} idle (${fmt(c.rps / s.rps, 2)}x); load average ${fmt(os.loadavg()[0], 1)}`);
  }
  const ms = median(rows.map((r) => r.single));
  const mc = median(rows.map((r) => r.cluster));
  log('');
  // Cores used tells a busy machine from a slow cluster: a cluster that got no more CPU cannot scale.
  log('| setup | req/s (median) | cores used (median) | req/s per core |');
  log('|---|---|---|---|');
  const sc = median(rows.map((r) => r.singleCores));
  const cc = median(rows.map((r) => r.clusterCores));
  log(`| single process | ${fmt(ms, 0)} | ${fmt(sc, 2)} | ${fmt(ms / sc, 0)} |`);
  log(`| pm2 cluster of ${rows[0].workers} | ${fmt(mc, 0)} | ${fmt(cc, 2)} | ${fmt(mc / cc, 0)} |`);
  // The median of the per-round ratios, as the other benches take it: each round's single and
  // cluster runs are back to back, so machine drift between rounds cancels out.
  const ratio = median(rows.map((r) => r.cluster / r.single));
  log(`ratio of the medians ${fmt(mc / ms, 2)}`);
  log(`ratio cluster/single ${fmt(ratio, 2)} target ${fmt(TARGET, 2)} ${ratio >= TARGET ? 'PASS' : 'MISS'}`);
}

main()
  .catch((err) => {
    console.error(`bench: ${err.message}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    pm2Kill();
    await cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
