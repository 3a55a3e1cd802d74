#!/usr/bin/env node
// What nginx's request model costs (issue 17): CPU per request of a route with two rewrites, a
// map lookup, an allow list and basic auth (bcrypt, verified once and then cached) against a plain
// proxy route to the same backend file. Target: at most 1.15x. One gatehouse (pinned to the proxy
// core, with the nginx backend) has both routes; h2load (on the load core) hits each in turn,
// interleaved; gatehouse's CPU ticks over each step divided by its requests is what is compared.
//   node scripts/bench/request-model.mjs [--runs N] [--requests N] [--build]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  H2LOAD, LOAD_CORE, NGINX, PROXY_CORE, ROOT, cleanup, cpuTicks, ensureBuilt, fmt, freePort, log, makeCerts, median,
  parseH2load, runToEnd, spawnPinned, ticksToUs, tlsGet, waitReady,
  fileBackendConf, numberArg, benchGatehouseYaml,
} from './lib.mjs';

const argv = process.argv.slice(2);
const arg = (name, fallback) => numberArg(argv, name, fallback);
const RUNS = arg('--runs', 5);
const REQUESTS = arg('--requests', 20000);
const TARGET = 1.15;
const USER = 'bench';
const PASSWORD = 'correct horse battery staple';

const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-bench-model-'));

function backendConf(port) {
  return fileBackendConf(WORK, port);
}

// The model route: /model/1k → (rewrite 1) /model/v1/1k → (rewrite 2, break) /model/files/1k,
// proxied as rewritten (after `break` nginx sends the whole new URI, not the URI part); the map
// decides a header, the allow list admits loopback, basic auth checks a bcrypt entry.
function gatehouseYaml(port, backendPort) {
  const top = `maps:
  $client_kind:
    from: $http_user_agent
    default: other
    values: { '~*h2load': bench, curl: curl }
`;
  return benchGatehouseYaml({ dir: WORK, port, top, site: `    compress: off
    routes:
      - { location: /plain/, proxy: "http://127.0.0.1:${backendPort}/" }
      - location: /model/
        rewrite:
          - '^/model/(\\w+)$ /model/v1/$1'
          - '^/model/v1/(.*)$ /model/files/$1 break'
        access: [ { allow: 127.0.0.1 }, { deny: all } ]
        auth: { realm: bench, htpasswd: ${WORK}/htpasswd }
        headers: { request: { set: { X-Client-Kind: $client_kind } } }
        proxy: "http://127.0.0.1:${backendPort}/"
` });
}

async function h2load(port, p, ghPids, extraArgs = []) {
  const t0 = cpuTicks(ghPids());
  const res = await runToEnd('h2load', 'taskset', ['-c', LOAD_CORE, H2LOAD, '-c', '16', '-m', '32', '-t', '1', '-n', String(REQUESTS), ...extraArgs, `https://127.0.0.1:${port}${p}`], 120_000);
  const ticks = cpuTicks(ghPids()) - t0;
  const r = parseH2load(res.stdout);
  if (res.code !== 0 || !r.rps) throw new Error(`h2load ${p}: exit ${res.code ?? res.signal}${res.timedOut ? ' (timed out)' : ''}: ${(res.stderr + res.stdout).slice(-400)}`);
  if (r.status?.['2xx'] !== r.done) throw new Error(`h2load ${p}: not every response was 2xx: ${JSON.stringify(r.status)}`);
  return ticksToUs(ticks) / r.done;
}

async function main() {
  for (const bin of [NGINX, H2LOAD]) if (!fs.existsSync(bin)) throw new Error(`${bin} is needed`);
  const built = ensureBuilt(argv.includes('--build'));
  if (!built.ok) throw new Error(built.why);
  makeCerts(WORK);
  fs.mkdirSync(path.join(WORK, 'www', 'model', 'files'), { recursive: true });
  fs.mkdirSync(path.join(WORK, 'tmp'));
  fs.writeFileSync(path.join(WORK, 'www', '1k'), Buffer.alloc(1024, 0x61));
  fs.writeFileSync(path.join(WORK, 'www', 'model', 'files', '1k'), Buffer.alloc(1024, 0x62));
  const hp = spawnSync('htpasswd', ['-nbB', '-C', '10', USER, PASSWORD], { encoding: 'utf8' });
  if (hp.status !== 0) throw new Error(`htpasswd (apache2-utils) is needed: ${hp.stderr}`);
  fs.writeFileSync(path.join(WORK, 'htpasswd'), hp.stdout);
  const backendPort = await freePort();
  const port = await freePort();
  fs.writeFileSync(path.join(WORK, 'backend.conf'), backendConf(backendPort));
  fs.writeFileSync(path.join(WORK, 'gatehouse.yaml'), gatehouseYaml(port, backendPort));
  const backend = spawnPinned('backend', PROXY_CORE, NGINX, ['-p', WORK, '-e', `${WORK}/backend-error.log`, '-c', `${WORK}/backend.conf`, '-g', 'daemon off;'], `${WORK}/backend.log`);
  await waitReady(backend, [backendPort]);
  const gh = spawnPinned('gatehouse', PROXY_CORE, process.execPath, [path.join(ROOT, 'bin', 'gatehouse.js'), 'run', '-c', `${WORK}/gatehouse.yaml`], `${WORK}/gatehouse.log`);
  await waitReady(gh, [port]);
  const ghPids = () => gh.pids();

  const auth = `authorization: Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const denied = await tlsGet(port, '/model/1k');
  if (denied.status !== 401) throw new Error(`the model route does not ask for a password: ${denied.error ?? denied.head}`);
  log(`node ${process.version}; gatehouse + nginx backend on core ${PROXY_CORE}, h2load on core ${LOAD_CORE}; load average ${os.loadavg()[0].toFixed(2)}`);
  log(`h2load -c 16 -m 32 -n ${REQUESTS} per step, ${RUNS} interleaved runs, 1 KiB body; CPU of the gatehouse process per request`);
  const steps = {
    plain: () => h2load(port, '/plain/1k', ghPids),
    model: () => h2load(port, '/model/1k', ghPids, ['-H', auth]),
  };
  // Warm-up: backend connections, JIT, and the one bcrypt verification the cache then answers.
  await steps.plain();
  await steps.model();
  const rows = { plain: [], model: [] };
  for (let run = 1; run <= RUNS; run++) {
    for (const route of run % 2 ? ['plain', 'model'] : ['model', 'plain']) rows[route].push(await steps[route]());
  }
  log('');
  log('route      ' + rows.plain.map((_, i) => `run ${i + 1}`.padStart(12)).join('') + '      median');
  for (const route of ['plain', 'model']) {
    log(`${route.padEnd(10)} ${rows[route].map((x) => `${fmt(x, 1)} µs`.padStart(12)).join('')}${`${fmt(median(rows[route]), 1)} µs`.padStart(12)}`);
  }
  const ratio = median(rows.model) / median(rows.plain);
  log('');
  log(`ratio model/plain CPU per request ${ratio.toFixed(3)} target ≤ ${TARGET.toFixed(2)} ${ratio <= TARGET ? 'PASS' : 'MISS'}`);
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
