#!/usr/bin/env node
// node scripts/bench/cgi.mjs — php-fpm and uWSGI behind gatehouse vs behind nginx (1 worker).
//
// The same php-fpm pool (pm static, 4 children, a hello-world PHP script) and the same uWSGI app
// (4 processes, a hello-world WSGI app) sit behind both proxies; each proxy runs with its defaults
// (nginx: fastcgi_pass / uwsgi_pass with Debian's fastcgi.conf / uwsgi_params, one connection per
// request; gatehouse: `proxy: fastcgi://…` / `uwsgi://…`). For each backend and concurrency the
// contenders run interleaved (nginx, gatehouse, nginx, …) and the ratio of requests/s within each
// round is taken, then the median over rounds: absolute numbers are noisy on a shared machine,
// ratios within one run much less so.
//
// Two placements, each with freshly started processes:
// - own: each proxy alone on core 0, the backend on the other core, with h2load. This is the situation the
//   target describes ("php-fpm is the bottleneck; the adapter must not be"): the backend's core
//   limits the rate, and a proxy that costs too much per request becomes the limit instead, which
//   the ratio then shows. Target: gatehouse ≥ 0.9x nginx's requests/s.
// - shared: proxy and backend on core 0, h2load on core 1 (the method of scripts/bench.mjs). Every
//   microsecond the proxy spends is taken from the backend, so the ratio measures the adapter's CPU
//   per request against nginx's; no target (see docs/performance.md).
//
//   node scripts/bench/cgi.mjs [--quick] [--runs N] [--only php,uwsgi] [--placement own,shared] [--conc 4,16,64] [--duration S] [--verbose]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  H2LOAD, LOAD_CORE, NGINX, PROXY_CORE, ROOT, cleanup, ensureBuilt, fmt, freePort, isRoot, log, makeCerts, median,
  nginxCommon, nginxHttpCommon, benchGatehouseYaml, parseH2load, runToEnd, setVerbose, sleep, spawnPinned, tlsGet, waitReady,
} from './lib.mjs';

const PHP_FPM = '/usr/sbin/php-fpm8.2';
const UWSGI = '/usr/bin/uwsgi';
const TARGET = 0.9;
const WORKERS = 4;
/** Where the backends run; the proxies always run on PROXY_CORE, h2load on LOAD_CORE. */
const PLACEMENTS = {
  own: { backendCore: LOAD_CORE, label: 'backend on the other core', target: TARGET },
  shared: { backendCore: PROXY_CORE, label: 'backend on the proxy\'s core', target: undefined },
};

function parseArgs(argv) {
  const o = { runs: 3, only: ['php', 'uwsgi'], placements: ['own', 'shared'], conc: [4, 16, 64], duration: 4, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? '';
    if (a === '--quick') Object.assign(o, { runs: 1, duration: 2 });
    else if (a === '--runs') o.runs = Math.max(1, Number(next()) || 1);
    else if (a === '--only') o.only = next().split(',').filter((s) => s === 'php' || s === 'uwsgi');
    else if (a === '--placement') o.placements = next().split(',').filter((s) => s in PLACEMENTS);
    else if (a === '--conc') o.conc = next().split(',').map(Number).filter((n) => n > 0);
    else if (a === '--duration') o.duration = Math.max(1, Number(next()) || 4);
    else if (a === '--verbose' || a === '-v') o.verbose = true;
    else {
      console.error('usage: node scripts/bench/cgi.mjs [--quick] [--runs N] [--only php,uwsgi] [--placement own,shared] [--conc 4,16,64] [--duration S] [--verbose]');
      process.exit(2);
    }
  }
  return o;
}

function writeApps(dir) {
  fs.mkdirSync(`${dir}/www`, { recursive: true });
  fs.writeFileSync(`${dir}/www/hello.php`, '<?php echo "hello from php\\n";\n');
  fs.writeFileSync(`${dir}/app.py`, `def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '16')])
    return [b'hello from wsgi\\n']
`);
  fs.chmodSync(dir, 0o755);
}

function fpmConf(dir, port) {
  return `[global]
pid = ${dir}/fpm.pid
error_log = ${dir}/fpm.log
daemonize = no
[bench]
${isRoot ? 'user = root\ngroup = root' : ''}
listen = 127.0.0.1:${port}
listen.backlog = 511
pm = static
pm.max_children = ${WORKERS}
`;
}

function nginxConf(dir, port, fpmPort, uwsgiPort) {
  return `${nginxCommon(dir, 'nginx', 4096)}
http {
${nginxHttpCommon(dir, 'nginx')}
  server {
    listen 127.0.0.1:${port} ssl http2;
    server_name bench.test;
    ssl_certificate ${dir}/ecdsa.crt;
    ssl_certificate_key ${dir}/ecdsa.key;
    root ${dir}/www;
    location ~ \\.php$ { include /etc/nginx/fastcgi.conf; fastcgi_pass 127.0.0.1:${fpmPort}; }
    location /py/ { include /etc/nginx/uwsgi_params; uwsgi_pass 127.0.0.1:${uwsgiPort}; }
  }
}
`;
}

function gatehouseYaml(dir, port, fpmPort, uwsgiPort) {
  return benchGatehouseYaml({ dir, port, hosts: 'bench.test', site: `    routes:
      - { location: "~ \\\\.php$", proxy: "fastcgi://127.0.0.1:${fpmPort}", root: ${dir}/www }
      - { location: /py/, proxy: "uwsgi://127.0.0.1:${uwsgiPort}" }
` });
}

async function h2load(port, urlPath, c, seconds) {
  const res = await runToEnd('h2load', 'taskset', ['-c', LOAD_CORE, H2LOAD, '-c', String(c), '-m', '1', '-t', '1',
    `--warm-up-time=1`, '-D', String(seconds), `https://127.0.0.1:${port}${urlPath}`,
    '--header', ':authority: bench.test'], (seconds + 20) * 1000);
  const r = parseH2load(res.stdout);
  if (res.timedOut) r.error = 'h2load timed out';
  else if (r.rps == null) r.error = `no h2load summary: ${(res.stdout + res.stderr).slice(-300)}`;
  else if (r.status && r.status['2xx'] !== r.done) r.error = `${r.done - r.status['2xx']} non-2xx of ${r.done}`;
  return r;
}

/** Starts both backends and both proxies for one placement and measures every kind and concurrency. */
async function measurePlacement(o, placementName) {
  const placement = PLACEMENTS[placementName];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-cgi-'));
  fs.mkdirSync(`${dir}/tmp`);
  makeCerts(dir);
  writeApps(dir);
  const [fpmPort, uwsgiPort, nginxPort, ghPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  log(`${placement.label}: proxies on core ${PROXY_CORE}, backends on core ${placement.backendCore}, h2load on core ${LOAD_CORE}; work dir ${dir}`);

  fs.writeFileSync(`${dir}/fpm.conf`, fpmConf(dir, fpmPort));
  const fpm = spawnPinned('php-fpm', placement.backendCore, PHP_FPM, ['-F', '-O', ...(isRoot ? ['-R'] : []), '-y', `${dir}/fpm.conf`], `${dir}/fpm.out`);
  const uwsgi = spawnPinned('uwsgi', placement.backendCore, UWSGI, ['--plugin', 'python3', '--socket', `127.0.0.1:${uwsgiPort}`, '--wsgi-file', `${dir}/app.py`,
    '--master', '--processes', String(WORKERS), '--die-on-term', '--need-app', '--strict', '--disable-logging', '--listen', '128'], `${dir}/uwsgi.log`);
  fs.writeFileSync(`${dir}/nginx.conf`, nginxConf(dir, nginxPort, fpmPort, uwsgiPort));
  const nginx = spawnPinned('nginx', PROXY_CORE, NGINX, ['-p', dir, '-e', `${dir}/nginx-error.log`, '-c', `${dir}/nginx.conf`, '-g', 'daemon off;'], `${dir}/nginx.out`);
  fs.writeFileSync(`${dir}/gatehouse.yaml`, gatehouseYaml(dir, ghPort, fpmPort, uwsgiPort));
  const gh = spawnPinned('gatehouse', PROXY_CORE, process.execPath, [path.join(ROOT, 'bin', 'gatehouse.js'), 'run', '-c', `${dir}/gatehouse.yaml`], `${dir}/gatehouse.log`);
  const procs = [fpm, uwsgi, nginx, gh];
  await Promise.all([waitReady(fpm, [fpmPort]), waitReady(uwsgi, [uwsgiPort]), waitReady(nginx, [nginxPort]), waitReady(gh, [ghPort])]);
  await sleep(500);

  const paths = { php: '/hello.php', uwsgi: '/py/hello' };
  const contenders = { nginx: nginxPort, gatehouse: ghPort };
  for (const kind of o.only) {
    for (const [name, port] of Object.entries(contenders)) {
      const r = await tlsGet(port, paths[kind]);
      if (r.status !== 200 || !/^hello/.test(r.body?.toString() ?? '')) throw new Error(`${name} ${paths[kind]}: ${r.error ?? `${r.status} ${r.body}`}`);
    }
  }

  const rows = [];
  for (const kind of o.only) {
    for (const c of o.conc) {
      const rps = { nginx: [], gatehouse: [] };
      const ratios = [];
      const errors = [];
      for (let run = 0; run < o.runs; run++) {
        const round = {};
        for (const [name, port] of Object.entries(contenders)) {
          const r = await h2load(port, paths[kind], c, o.duration);
          if (r.error) errors.push(`${name}: ${r.error}`);
          round[name] = r.rps;
          rps[name].push(r.rps);
        }
        if (round.nginx && round.gatehouse) ratios.push(round.gatehouse / round.nginx);
      }
      const ratio = median(ratios);
      const pass = placement.target === undefined ? undefined : ratio != null && ratio >= placement.target && errors.length === 0;
      rows.push({ placement: placementName, kind, c, nginx: median(rps.nginx), gatehouse: median(rps.gatehouse), ratio, pass, errors });
      log(`  ${kind} c=${c}: nginx ${fmt(median(rps.nginx), 0)} req/s, gatehouse ${fmt(median(rps.gatehouse), 0)} req/s, ratio ${fmt(ratio, 2)}${errors.length ? ` (errors: ${errors.join('; ')})` : ''}`);
    }
  }
  await Promise.all(procs.map((p) => p.stop(3000)));
  if (!o.verbose) fs.rmSync(dir, { recursive: true, force: true });
  return rows;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  setVerbose(o.verbose);
  for (const bin of [NGINX, H2LOAD, PHP_FPM, UWSGI]) {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing (apt-get install nginx nghttp2-client php-fpm uwsgi uwsgi-plugin-python3)`);
  }
  const built = ensureBuilt();
  if (!built.ok) throw new Error(built.why);
  log(`gatehouse cgi bench — ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const rows = [];
  for (const placement of o.placements) rows.push(...(await measurePlacement(o, placement)));

  log('');
  log(`${'placement'.padEnd(10)}${'backend'.padEnd(8)}${'conc'.padStart(6)}${'nginx req/s'.padStart(14)}${'gatehouse req/s'.padStart(18)}${'ratio'.padStart(8)}`);
  for (const r of rows) {
    log(`${r.placement.padEnd(10)}${r.kind.padEnd(8)}${String(r.c).padStart(6)}${fmt(r.nginx, 0).padStart(14)}${fmt(r.gatehouse, 0).padStart(18)}${fmt(r.ratio, 2).padStart(8)}`);
  }
  for (const r of rows) {
    const where = PLACEMENTS[r.placement].label;
    const verdict = r.pass === undefined ? 'no target: the adapter\'s CPU shares the backend\'s core' : `target ${TARGET}x ${r.pass ? 'PASS' : 'MISS'}`;
    log(`ratio ${r.kind} c=${r.c} (${where}) ${fmt(r.ratio, 2)}x ${verdict}${r.errors.length ? ' (errors)' : ''}`);
  }
  await cleanup();
  process.exitCode = rows.every((r) => r.pass !== false) ? 0 : 1;
}

main().catch(async (err) => {
  console.error(`bench: ${err.message}`);
  await cleanup();
  process.exit(2);
});
