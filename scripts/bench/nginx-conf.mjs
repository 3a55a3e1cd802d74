#!/usr/bin/env node
// A .conf and its adapted YAML cost the same (issue 18: CPU per request within 3%). One nginx server
// block (TLS, a proxied location with forwarded headers, a regex location for static files) is run by
// two gatehouse processes: one reads the .conf itself, the other the YAML `gatehouse adapt` wrote
// from it; both on the proxy core with the nginx backend, h2load on the load core, interleaved runs,
// each process' CPU ticks over a step divided by its requests.
//   node scripts/bench/nginx-conf.mjs [--runs N] [--requests N] [--build] [--keep]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  H2LOAD, LOAD_CORE, NGINX, PROXY_CORE, ROOT, cleanup, cpuTicks, ensureBuilt, fmt, freePort, log, median,
  parseH2load, runToEnd, spawnPinned, ticksToUs, waitReady,
  fileBackendConf, prepareFileBackendDir, numberArg,
} from './lib.mjs';

const argv = process.argv.slice(2);
const arg = (name, fallback) => numberArg(argv, name, fallback);
const RUNS = arg('--runs', 5);
const REQUESTS = arg('--requests', 20000);
const TARGET = 0.03;

const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-bench-conf-'));

function backendConf(port) {
  return fileBackendConf(WORK, port);
}

// The tutorial's shape: an upstream with keepalive, forwarded headers, a static regex location.
function siteConf(port, backendPort) {
  return `upstream app {
    server 127.0.0.1:${backendPort};
    keepalive 16;
}
server {
    listen 127.0.0.1:${port} ssl;
    http2 on;
    server_name bench.test 127.0.0.1;
    ssl_certificate ${WORK}/ecdsa.crt;
    ssl_certificate_key ${WORK}/ecdsa.key;
    access_log off;
    gzip off;
    location / {
        proxy_pass http://app;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
    }
    location ~* \\.(css|js|png)$ {
        root ${WORK}/www;
        expires 7d;
    }
}
`;
}

async function h2load(port, pids, extra) {
  const t0 = cpuTicks(pids());
  const res = await runToEnd('h2load', 'taskset', ['-c', LOAD_CORE, H2LOAD, ...extra, '-t', '1', '-n', String(REQUESTS), `https://127.0.0.1:${port}/1k`], 120_000);
  const ticks = cpuTicks(pids()) - t0;
  const r = parseH2load(res.stdout);
  if (res.code !== 0 || !r.rps) throw new Error(`h2load: exit ${res.code ?? res.signal}: ${(res.stderr + res.stdout).slice(-400)}`);
  if (r.status?.['2xx'] !== r.done) throw new Error(`h2load: not every response was 2xx: ${JSON.stringify(r.status)}`);
  return ticksToUs(ticks) / r.done;
}

async function main() {
  for (const bin of [NGINX, H2LOAD]) if (!fs.existsSync(bin)) throw new Error(`${bin} is needed`);
  const built = ensureBuilt(argv.includes('--build'));
  if (!built.ok) throw new Error(built.why);
  prepareFileBackendDir(WORK);
  const backendPort = await freePort();
  const confPort = await freePort();
  const yamlPort = await freePort();
  fs.writeFileSync(path.join(WORK, 'backend.conf'), backendConf(backendPort));
  fs.writeFileSync(path.join(WORK, 'site.conf'), siteConf(confPort, backendPort));
  fs.writeFileSync(path.join(WORK, 'for-yaml.conf'), siteConf(yamlPort, backendPort));
  const cli = path.join(ROOT, 'bin', 'gatehouse.js');
  const adapted = spawnSync(process.execPath, [cli, 'adapt', `${WORK}/for-yaml.conf`, '-o', `${WORK}/site.yaml`], { encoding: 'utf8' });
  if (adapted.status !== 0) throw new Error(`gatehouse adapt failed: ${adapted.stderr}`);
  const backend = spawnPinned('backend', PROXY_CORE, NGINX, ['-p', WORK, '-e', `${WORK}/backend-error.log`, '-c', `${WORK}/backend.conf`, '-g', 'daemon off;'], `${WORK}/backend.log`);
  await waitReady(backend, [backendPort]);
  const fromConf = spawnPinned('gatehouse-conf', PROXY_CORE, process.execPath, [cli, 'run', '-c', `${WORK}/site.conf`], `${WORK}/gatehouse-conf.log`);
  const fromYaml = spawnPinned('gatehouse-yaml', PROXY_CORE, process.execPath, [cli, 'run', '-c', `${WORK}/site.yaml`], `${WORK}/gatehouse-yaml.log`);
  await waitReady(fromConf, [confPort]);
  await waitReady(fromYaml, [yamlPort]);
  log(`node ${process.version}; two gatehouse processes + nginx backend on core ${PROXY_CORE}, h2load on core ${LOAD_CORE}; load average ${os.loadavg()[0].toFixed(2)}`);
  log(`h2load -n ${REQUESTS} per step (HTTP/2: -c 16 -m 32; HTTP/1.1: -c 64), ${RUNS} interleaved runs, 1 KiB body; CPU of each gatehouse process per request`);
  const contenders = { conf: { port: confPort, pids: () => fromConf.pids() }, yaml: { port: yamlPort, pids: () => fromYaml.pids() } };
  // HTTP/1.1 without pipelining, as browsers send it (and as the core h1 step of npm run bench).
  const protocols = { 'HTTP/2': ['-c', '16', '-m', '32'], 'HTTP/1.1': ['--h1', '-c', '64', '-m', '1'] };
  for (const [proto, extra] of Object.entries(protocols)) {
    for (const c of Object.values(contenders)) await h2load(c.port, c.pids, extra); // warm-up
    const rows = { conf: [], yaml: [] };
    for (let run = 1; run <= RUNS; run++) {
      for (const name of run % 2 ? ['conf', 'yaml'] : ['yaml', 'conf']) rows[name].push(await h2load(contenders[name].port, contenders[name].pids, extra));
    }
    log('');
    log(`${proto.padEnd(10)} ${rows.conf.map((_, i) => `run ${i + 1}`.padStart(12)).join('')}      median`);
    for (const name of ['conf', 'yaml']) log(`${name.padEnd(10)} ${rows[name].map((x) => `${fmt(x, 1)} µs`.padStart(12)).join('')}${`${fmt(median(rows[name]), 1)} µs`.padStart(12)}`);
    const diff = median(rows.yaml) / median(rows.conf) - 1;
    log(`${proto}: yaml/conf CPU per request ${(1 + diff).toFixed(3)}, target within ±${(TARGET * 100).toFixed(0)}% ${Math.abs(diff) <= TARGET ? 'PASS' : 'MISS'}`);
  }
}

main()
  .catch((err) => {
    console.error(`bench: ${err.message}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    if (argv.includes('--keep')) log(`kept ${WORK}`);
    else fs.rmSync(WORK, { recursive: true, force: true });
  });
