#!/usr/bin/env node
// Static files: requests/s for one 1 KiB file served by gatehouse (`root:`) and by nginx (`root`),
// each pinned to the proxy core, h2load pinned to the load core, over HTTP/1.1 and HTTP/2 with TLS.
// Both have a 1 s open-file cache (nginx: open_file_cache valid=1s, the equivalent of gatehouse's
// lookup cache), so neither pays for stat/open per request. A third contender, Node's floor
// (node-floor.mjs: bare Node servers answering the file's bytes from memory with the same
// validators), shows how near any Node server can come to the target. Contenders alternate within
// each round, so machine noise hits all; the ratio is the median of the per-round ratios.
//
//   node scripts/bench/static.mjs [--rounds N] [--duration S] [--build] [--verbose]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  H2LOAD, LOAD_CORE, NGINX, PROXY_CORE, ROOT, cleanup, cpuTicks, ensureBuilt, fmt, log, makeCerts, median,
  nginxCommon, nginxHttpCommon, benchGatehouseYaml, parseH2load, runToEnd, setVerbose, sleep, spawnPinned, tlsGet, ticksToUs, waitReady, freePort,
} from './lib.mjs';

const TARGET = 0.7;
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(argv[i + 1]);
};
const ROUNDS = opt('rounds', 3);
/** nginx, Node's floor, gatehouse: each round starts with the next one. */
const CONTENDERS = ['nginx', 'node', 'gatehouse'];
const DURATION = opt('duration', 5);
setVerbose(argv.includes('--verbose'));

const STEPS = {
  h1: { label: 'HTTP/1.1 keep-alive (h2load --h1 -c 64)', args: ['--h1', '-c', '64', '-t', '1'] },
  h2: { label: 'HTTP/2 multiplexed (h2load -c 16 -m 32)', args: ['-c', '16', '-m', '32', '-t', '1'] },
};

function nginxConf(dir, port) {
  return `${nginxCommon(dir, 'nginx', 16384)}
http {
${nginxHttpCommon(dir, 'nginx')}
  default_type application/octet-stream;
  ssl_protocols TLSv1.2 TLSv1.3;
  open_file_cache max=1000 inactive=20s;
  open_file_cache_valid 1s;
  etag on;
  server {
    listen 127.0.0.1:${port} ssl http2;
    server_name bench.test;
    ssl_certificate ${dir}/ecdsa.crt;
    ssl_certificate_key ${dir}/ecdsa.key;
    root ${dir}/www;
    location / { }
  }
}
`;
}

function gatehouseYaml(dir, port) {
  return benchGatehouseYaml({ dir, port, site: `    compress: off
    routes:
      - { location: /, root: ${dir}/www }
` });
}

async function load(port, step) {
  const res = await runToEnd(`h2load-${step}`, 'taskset',
    ['-c', LOAD_CORE, H2LOAD, ...STEPS[step].args, '-D', String(DURATION), '--warm-up-time=1', `https://127.0.0.1:${port}/1k.bin`],
    (DURATION + 25) * 1000);
  const r = parseH2load(res.stdout);
  if (res.code !== 0 || r.rps == null) throw new Error(`h2load ${step} failed: ${res.stderr.slice(-300)}${res.stdout.slice(-300)}`);
  if (r.status && r.status['2xx'] !== r.done) throw new Error(`h2load ${step}: not all 2xx: ${JSON.stringify(r.status)}`);
  return r;
}

async function main() {
  for (const bin of [NGINX, H2LOAD]) if (!fs.existsSync(bin)) throw new Error(`${bin} is missing`);
  const built = ensureBuilt(argv.includes('--build'));
  if (!built.ok) throw new Error(built.why);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-bench-static-'));
  fs.mkdirSync(path.join(dir, 'www'));
  fs.mkdirSync(path.join(dir, 'tmp'));
  fs.writeFileSync(path.join(dir, 'www', '1k.bin'), Buffer.alloc(1024, 'x'));
  makeCerts(dir);
  const ports = { nginx: await freePort(), gatehouse: await freePort(), nodeH1: await freePort(), nodeH2: await freePort() };
  fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConf(dir, ports.nginx));
  fs.writeFileSync(path.join(dir, 'gatehouse.yaml'), gatehouseYaml(dir, ports.gatehouse));
  const procs = {
    nginx: spawnPinned('nginx', PROXY_CORE, NGINX, ['-p', dir, '-e', `${dir}/nginx-error.log`, '-c', `${dir}/nginx.conf`, '-g', 'daemon off;'], `${dir}/nginx.log`),
    gatehouse: spawnPinned('gatehouse', PROXY_CORE, process.execPath, [path.join(ROOT, 'bin', 'gatehouse.js'), 'run', '-c', `${dir}/gatehouse.yaml`], `${dir}/gatehouse.log`),
    node: spawnPinned('node-floor', PROXY_CORE, process.execPath, [path.join(ROOT, 'scripts', 'bench', 'node-floor.mjs'), `${dir}/www/1k.bin`,
      '--h1', `${ports.nodeH1}:${dir}/ecdsa.crt:${dir}/ecdsa.key`, '--h2', `${ports.nodeH2}:${dir}/ecdsa.crt:${dir}/ecdsa.key`], `${dir}/node-floor.log`),
  };
  // The floor serves HTTP/1.1 and HTTP/2 on separate ports (see node-floor.mjs).
  const portFor = (name, step) => (name === 'node' ? (step === 'h1' ? ports.nodeH1 : ports.nodeH2) : ports[name]);
  for (const name of CONTENDERS) {
    const own = name === 'node' ? [ports.nodeH1, ports.nodeH2] : [ports[name]];
    await waitReady(procs[name], own);
    await sleep(300);
    const r = await tlsGet(own[0], '/1k.bin');
    if (r.status !== 200 || r.body?.length !== 1024) throw new Error(`${name} sanity check: ${r.error ?? `status ${r.status}, ${r.body?.length} bytes`}`);
  }
  log(`static 1 KiB file, ${ROUNDS} rounds of ${DURATION}s per contender and protocol (proxy core ${PROXY_CORE}, load core ${LOAD_CORE})`);
  const fresh = () => ({ rps: { nginx: [], node: [], gatehouse: [] }, cpu: { nginx: [], node: [], gatehouse: [] }, ratio: [], floor: [], overFloor: [] });
  const results = { h1: fresh(), h2: fresh() };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const step of Object.keys(STEPS)) {
      const rps = {};
      // Rotate who goes first, so a drift in machine load does not favour one side.
      const order = CONTENDERS.map((_, i) => CONTENDERS[(i + round) % CONTENDERS.length]);
      for (const name of order) {
        const pids = procs[name].pids();
        const t0 = cpuTicks(pids);
        const r = await load(portFor(name, step), step);
        rps[name] = r.rps;
        results[step].rps[name].push(r.rps);
        results[step].cpu[name].push(ticksToUs(cpuTicks(pids) - t0) / r.done);
      }
      results[step].ratio.push(rps.gatehouse / rps.nginx);
      results[step].floor.push(rps.node / rps.nginx);
      results[step].overFloor.push(rps.gatehouse / rps.node);
      log(`  round ${round} ${step}: nginx ${fmt(rps.nginx, 0)} req/s, node ${fmt(rps.node, 0)}, gatehouse ${fmt(rps.gatehouse, 0)}; ` +
        `gatehouse/nginx ${fmt(rps.gatehouse / rps.nginx, 2)}, node/nginx ${fmt(rps.node / rps.nginx, 2)}`);
    }
  }
  log('');
  log('| step | nginx req/s | node req/s | gatehouse req/s | nginx CPU µs/req | node CPU µs/req | gatehouse CPU µs/req | gatehouse/nginx | node/nginx | gatehouse/node |');
  log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const verdicts = [];
  for (const step of Object.keys(STEPS)) {
    const s = results[step];
    const ratio = median(s.ratio);
    const floor = median(s.floor);
    const cells = CONTENDERS.map((n) => fmt(median(s.rps[n]), 0)).concat(CONTENDERS.map((n) => fmt(median(s.cpu[n]), 0)));
    log(`| ${STEPS[step].label} | ${cells.join(' | ')} | ${fmt(ratio, 2)} | ${fmt(floor, 2)} | ${fmt(median(s.overFloor), 2)} |`);
    const reach = floor < TARGET ? 'below the target: no Node server reaches it' : floor < TARGET * 1.1 ? 'within 10% of the target' : 'above the target';
    verdicts.push(`ratio ${step} static 1k gatehouse/nginx ${fmt(ratio, 2)} target ${TARGET} ${ratio >= TARGET ? 'PASS' : 'MISS'} (Node's floor ${fmt(floor, 2)}, ${reach})`);
  }
  log('');
  for (const v of verdicts) log(v);
  await cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch(async (err) => {
  console.error(`bench static: ${err.message}`);
  await cleanup();
  process.exit(1);
});
