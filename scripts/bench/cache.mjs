#!/usr/bin/env node
// The HTTP cache's speed target: cached 1 KiB responses served at least 1.5x the proxied rate.
// One gatehouse (pinned to the proxy core, with the nginx backend) has two routes to the same
// backend file: /cached/ with `cache: 10m` and /plain/ without. h2load (on the load core) hits
// each in turn, interleaved, several runs; the ratio of medians is what to read (absolute numbers
// are noisy while others use the machine).
// Requests are counted (-n), not timed (-D): h2load -D can hang at the end of a step.
//   node scripts/bench/cache.mjs [--runs N] [--requests N] [--build]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  H2LOAD, LOAD_CORE, NGINX, PROXY_CORE, ROOT, cleanup, ensureBuilt, fmt, freePort, log, median,
  parseH2load, runToEnd, spawnPinned, tlsGet, waitReady,
  fileBackendConf, prepareFileBackendDir, numberArg, benchGatehouseYaml,
} from './lib.mjs';

const argv = process.argv.slice(2);
const arg = (name, fallback) => numberArg(argv, name, fallback);
const RUNS = arg('--runs', 3);
const REQUESTS = arg('--requests', 10000);
const TARGET = 1.5;

const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-bench-cache-'));

function backendConf(port) {
  return fileBackendConf(WORK, port, 'location / { add_header Cache-Control "max-age=3600"; }');
}

function gatehouseYaml(port, backendPort) {
  return benchGatehouseYaml({ dir: WORK, port, site: `    compress: off
    routes:
      - { location: /cached/, proxy: "http://127.0.0.1:${backendPort}/", cache: 10m }
      - { location: /plain/, proxy: "http://127.0.0.1:${backendPort}/" }
` });
}

async function h2load(port, p) {
  const res = await runToEnd('h2load', 'taskset', ['-c', LOAD_CORE, H2LOAD, '-c', '16', '-m', '32', '-t', '1', '-n', String(REQUESTS), `https://127.0.0.1:${port}${p}`], 120_000);
  const r = parseH2load(res.stdout);
  if (res.code !== 0 || !r.rps) throw new Error(`h2load ${p}: exit ${res.code ?? res.signal}${res.timedOut ? ' (timed out)' : ''}: ${(res.stderr + res.stdout).slice(-400)}`);
  if (r.status?.['2xx'] !== r.done) throw new Error(`h2load ${p}: not every response was 2xx: ${JSON.stringify(r.status)}`);
  return r.rps;
}

async function main() {
  for (const bin of [NGINX, H2LOAD]) if (!fs.existsSync(bin)) throw new Error(`${bin} is needed`);
  const built = ensureBuilt(argv.includes('--build'));
  if (!built.ok) throw new Error(built.why);
  prepareFileBackendDir(WORK);
  const backendPort = await freePort();
  const port = await freePort();
  fs.writeFileSync(path.join(WORK, 'backend.conf'), backendConf(backendPort));
  fs.writeFileSync(path.join(WORK, 'gatehouse.yaml'), gatehouseYaml(port, backendPort));
  const backend = spawnPinned('backend', PROXY_CORE, NGINX, ['-p', WORK, '-e', `${WORK}/backend-error.log`, '-c', `${WORK}/backend.conf`, '-g', 'daemon off;'], `${WORK}/backend.log`);
  await waitReady(backend, [backendPort]);
  const gh = spawnPinned('gatehouse', PROXY_CORE, process.execPath, [path.join(ROOT, 'bin', 'gatehouse.js'), 'run', '-c', `${WORK}/gatehouse.yaml`], `${WORK}/gatehouse.log`);
  await waitReady(gh, [port]);

  const check = await tlsGet(port, '/cached/1k');
  const hit = await tlsGet(port, '/cached/1k');
  if (check.status !== 200 || hit.body?.length !== 1024 || !/cache-status: gatehouse; hit/i.test(hit.head ?? '')) {
    throw new Error(`the cached route does not hit: ${hit.error ?? hit.head}`);
  }
  log(`node ${process.version}; gatehouse + nginx backend on core ${PROXY_CORE}, h2load on core ${LOAD_CORE}; load average ${os.loadavg()[0].toFixed(2)}`);
  log(`h2load -c 16 -m 32 -n ${REQUESTS} per step, ${RUNS} interleaved runs, 1 KiB body`);
  // Warm-up: connections to the backend, JIT, and the cache entry.
  await h2load(port, '/plain/1k');
  await h2load(port, '/cached/1k');
  const rows = { cached: [], plain: [] };
  for (let run = 1; run <= RUNS; run++) {
    for (const route of run % 2 ? ['plain', 'cached'] : ['cached', 'plain']) {
      rows[route].push(await h2load(port, `/${route}/1k`));
    }
  }
  log('');
  log('route      ' + rows.plain.map((_, i) => `run ${i + 1}`.padStart(12)).join('') + '      median');
  for (const route of ['plain', 'cached']) {
    log(`${route === 'plain' ? 'proxied' : 'cached '}    ${rows[route].map((x) => `${fmt(x, 0)} r/s`.padStart(12)).join('')}${`${fmt(median(rows[route]), 0)} r/s`.padStart(12)}`);
  }
  const ratio = median(rows.cached) / median(rows.plain);
  log('');
  log(`ratio cached/proxied ${ratio.toFixed(2)} target ${TARGET.toFixed(2)} ${ratio >= TARGET ? 'PASS' : 'MISS'}`);
}

main()
  .catch((err) => {
    console.error(`bench: ${err.message}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    fs.rmSync(WORK, { recursive: true, force: true });
  });
