#!/usr/bin/env node
// issue 19: does mTLS cost anything for sites without it? Full TLS handshakes (with SNI, one HTTP/1.1
// GET each) against a site without clientAuth, paired: a baseline build without mTLS support, this
// build with the same config, and this build with an mTLS site added beside it (every handshake then
// looks up its SNI site's clientAuth). The variants alternate within each run, so that load from
// other processes on the machine falls on all of them alike; the medians are compared.
//
//   node scripts/bench/mtls-handshake.mjs --base DIR [--runs 5] [--secs 3] [--clients 16]
//
// DIR is a built checkout of the commit before mTLS (bin/gatehouse.js → dist). gatehouse is pinned
// to core 0 and the client (tls.connect loops, in this process's child) to core 1. Reported per
// variant: handshakes per second and gatehouse's CPU time per handshake (from /proc, so the client's
// share of the machine does not count).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LOAD_CORE, PROXY_CORE, ROOT, CLK_TCK, cleanup, fmt, log, makeCerts, median, numberArg, readStat, runToEnd, sleep, spawnPinned, waitReady } from './lib.mjs';
import { freePort } from '../free-port.mjs';

const argv = process.argv.slice(2);
const baseAt = argv.indexOf('--base');
const base = baseAt === -1 ? undefined : path.resolve(argv[baseAt + 1]);
if (!base || !fs.existsSync(path.join(base, 'dist'))) {
  console.error('usage: node scripts/bench/mtls-handshake.mjs --base DIR [--runs N] [--secs S] [--clients C] (DIR: a built checkout without mTLS)');
  process.exit(2);
}
const runs = numberArg(argv, '--runs', 5);
const secs = numberArg(argv, '--secs', 3);
const clients = numberArg(argv, '--clients', 16);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-bench-mtls-'));
makeCerts(work);

function config(port, withMtls) {
  const site = (host, extra = '') => `  - hosts: [${host}]\n    tls: { cert: ${work}/ecdsa.crt, key: ${work}/ecdsa.key${extra} }\n    routes: [{ location: /, return: '200 ok' }]\n`;
  return `listen: { https: 127.0.0.1:${port} }\nstorage: ${work}/certs\nlog: { access: off, level: error }\nsites:\n${site('bench.test')}${withMtls ? site('mtls.test', `, clientAuth: { mode: optional_no_ca }`) : ''}`;
}

/** The client: `clients` loops of tls.connect (no session reuse: every handshake is full) for `secs`. */
const CLIENT = `
const tls = require('node:tls');
const [port, secs, clients] = process.argv.slice(1).map(Number);
const end = Date.now() + secs * 1000;
let done = 0, failed = 0;
function one() {
  if (Date.now() >= end) return Promise.resolve();
  return new Promise((resolve) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'bench.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      s.write('GET / HTTP/1.1\\r\\nHost: bench.test\\r\\nConnection: close\\r\\n\\r\\n');
    });
    let got = '';
    s.on('data', (d) => { got += d; });
    s.on('error', () => {});
    s.on('close', () => { if (got.startsWith('HTTP/1.1 200')) done++; else failed++; resolve(); });
  }).then(one);
}
Promise.all(Array.from({ length: clients }, one)).then(() => console.log(JSON.stringify({ done, failed })));
`;

async function measure(variant) {
  const port = await freePort();
  const file = path.join(work, `${variant.name}.yaml`);
  fs.writeFileSync(file, config(port, variant.mtls));
  const gh = spawnPinned(`gatehouse-${variant.name}`, PROXY_CORE, process.execPath, [path.join(variant.root, 'bin/gatehouse.js'), 'run', '-c', file], path.join(work, `${variant.name}.log`), { cwd: work });
  try {
    await waitReady(gh, [port]);
    // Warm-up (JIT, first contexts): not counted.
    await runToEnd('warm', 'taskset', ['-c', LOAD_CORE, process.execPath, '-e', CLIENT, String(port), '1', String(clients)], 30_000);
    const t0 = readStat(gh.pid).ticks;
    const r = await runToEnd('client', 'taskset', ['-c', LOAD_CORE, process.execPath, '-e', CLIENT, String(port), String(secs), String(clients)], (secs + 30) * 1000);
    const ticks = readStat(gh.pid).ticks - t0;
    const { done, failed } = JSON.parse(r.stdout.trim().split('\n').pop());
    return { perSec: done / secs, cpuUs: done ? (ticks * 1e6) / CLK_TCK / done : null, failed };
  } finally {
    await gh.stop(3000);
  }
}

const variants = [
  { name: 'baseline', root: base, mtls: false },
  { name: 'this', root: ROOT, mtls: false },
  { name: 'this+mtls-site', root: ROOT, mtls: true },
];
const results = Object.fromEntries(variants.map((v) => [v.name, []]));
try {
  for (let r = 0; r < runs; r++) {
    // Rotate the order each run, so no variant always follows the same one.
    const order = variants.map((_, i) => variants[(i + r) % variants.length]);
    for (const v of order) {
      const m = await measure(v);
      results[v.name].push(m);
      log(`run ${r + 1}/${runs} ${v.name.padEnd(15)} ${fmt(m.perSec, 0)} handshakes/s, ${fmt(m.cpuUs, 0)} µs CPU each${m.failed ? `, ${m.failed} failed` : ''}`);
      await sleep(200);
    }
  }
  const baseRate = median(results.baseline.map((m) => m.perSec));
  const baseCpu = median(results.baseline.map((m) => m.cpuUs));
  log('\nmedians (ratio of the medians to baseline; then the median of the per-run ratios, each run measuring all variants back to back):');
  for (const v of variants) {
    const rate = median(results[v.name].map((m) => m.perSec));
    const cpu = median(results[v.name].map((m) => m.cpuUs));
    const pairedRate = median(results[v.name].map((m, i) => m.perSec / results.baseline[i].perSec));
    const pairedCpu = median(results[v.name].map((m, i) => m.cpuUs / results.baseline[i].cpuUs));
    log(`  ${v.name.padEnd(15)} ${fmt(rate, 0)} handshakes/s (${fmt((rate / baseRate) * 100, 1)}%; paired ${fmt(pairedRate * 100, 1)}%), ${fmt(cpu, 0)} µs CPU/handshake (${fmt((cpu / baseCpu) * 100, 1)}%; paired ${fmt(pairedCpu * 100, 1)}%)`);
  }
} finally {
  await cleanup();
  fs.rmSync(work, { recursive: true, force: true });
}
