#!/usr/bin/env node
// issue 19: PROXY protocol must cost nothing on listeners that do not use it (target: new TLS
// connections per second within 5% of the build before it). Paired, interleaved runs of the same
// client against two gatehouses pinned to the proxy core: BEFORE (a build of the commit given by
// --before DIR, e.g. `git archive BASE | tar -x -C DIR` + `npm run build` there) and AFTER (this
// tree's dist), both serving `return 200` on a plain TLS listener; AFTER also has a proxyProtocol
// listener, measured for information with a v2 header in front of each ClientHello.
// Each connection: TCP connect, [PROXY v2 header], TLS 1.3 handshake (ECDSA P-256), one HTTP/1.1
// GET, close. The client runs on the load core with CONCURRENCY connections in flight.
// Read the CPU time per connection (from /proc, the server's process tree): on a shared machine the
// connection rate moves with everyone else's load, the CPU a connection costs far less.
//   node scripts/bench/proxy-protocol.mjs --before DIR [--runs N] [--conns N] [--build]
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {
  LOAD_CORE, PROXY_CORE, ROOT, cleanup, cpuTicks, ensureBuilt, fmt, freePort, log, makeCerts, median, numberArg, runToEnd, spawnPinned, ticksToUs, treePids, waitReady,
} from './lib.mjs';

const argv = process.argv.slice(2);
const CONCURRENCY = 8;

/** Client mode (spawned pinned to the load core): PORT CONNS HEADER(0|1) → one JSON line. */
async function client(port, conns, withHeader) {
  // v2, PROXY, TCP over IPv4, 203.0.113.7:40000 → 127.0.0.1:443 (haproxy's layout).
  const header = Buffer.from(['0d0a0d0a000d0a515549540a', '21', '11', '000c', 'cb007107', '7f000001', '9c40', '01bb'].join(''), 'hex');
  let started = 0;
  let failed = 0;
  const one = () => new Promise((resolve) => {
    const raw = net.connect({ port, host: '127.0.0.1' }, () => {
      if (withHeader) raw.write(header);
      const s = tls.connect({ socket: raw, servername: 'bench.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
      s.on('secureConnect', () => s.write('GET / HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n'));
      let got = '';
      s.on('data', (d) => (got += d.toString('latin1')));
      s.on('error', () => undefined);
      s.on('close', () => {
        if (!got.startsWith('HTTP/1.1 200 ')) failed++;
        resolve();
      });
    });
    raw.on('error', () => undefined);
  });
  const worker = async () => {
    while (started < conns) {
      started++;
      await one();
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const ms = performance.now() - t0;
  process.stdout.write(`${JSON.stringify({ rate: (conns * 1000) / ms, failed })}\n`);
}

function yaml(work, https) {
  return `listen: { https: [${https.join(', ')}] }
storage: ${work}/certs
log: { access: off, level: error }
sites:
  - hosts: [bench.test]
    default: true
    tls: { cert: ${work}/ecdsa.crt, key: ${work}/ecdsa.key }
    compress: off
    routes: [{ location: /, return: 200 ok }]
`;
}

/** Connections/s seen by the client, and the server's CPU µs per connection. */
async function measure(proc, port, conns, withHeader) {
  const pids = treePids(proc.pid);
  const t0 = cpuTicks(pids);
  const res = await runToEnd('client', 'taskset', ['-c', LOAD_CORE, process.execPath, path.join(ROOT, 'scripts/bench/proxy-protocol.mjs'), '--client', String(port), String(conns), withHeader ? '1' : '0'], 300_000);
  const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}');
  if (res.code !== 0 || !out.rate || out.failed > 0) throw new Error(`client on ${port}: exit ${res.code}, ${res.stdout} ${res.stderr.slice(-400)}`);
  return { rate: out.rate, cpuUs: ticksToUs(cpuTicks(pids) - t0) / conns };
}

async function main() {
  const beforeAt = argv.indexOf('--before');
  const before = beforeAt === -1 ? undefined : argv[beforeAt + 1];
  if (!before || !fs.existsSync(path.join(before, 'bin', 'gatehouse.js'))) throw new Error('--before DIR: a built checkout of the commit to compare with');
  const runs = numberArg(argv, '--runs', 5);
  const conns = numberArg(argv, '--conns', 2000);
  const built = ensureBuilt(argv.includes('--build'));
  if (!built.ok) throw new Error(built.why);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-bench-pp-'));
  makeCerts(work);
  const ports = { before: await freePort(), after: await freePort(), afterPp: await freePort() };
  fs.mkdirSync(path.join(work, 'b'));
  fs.mkdirSync(path.join(work, 'a'));
  fs.writeFileSync(path.join(work, 'b', 'gatehouse.yaml'), yaml(path.join(work, 'b'), [`"127.0.0.1:${ports.before}"`]).replaceAll(`${work}/b/ecdsa`, `${work}/ecdsa`));
  fs.writeFileSync(
    path.join(work, 'a', 'gatehouse.yaml'),
    yaml(path.join(work, 'a'), [`"127.0.0.1:${ports.after}"`, `{ address: "127.0.0.1:${ports.afterPp}", proxyProtocol: true, trusted: [127.0.0.1] }`]).replaceAll(`${work}/a/ecdsa`, `${work}/ecdsa`),
  );
  const gb = spawnPinned('before', PROXY_CORE, process.execPath, [path.join(before, 'bin', 'gatehouse.js'), 'run', '-c', `${work}/b/gatehouse.yaml`], `${work}/before.log`);
  const ga = spawnPinned('after', PROXY_CORE, process.execPath, [path.join(ROOT, 'bin', 'gatehouse.js'), 'run', '-c', `${work}/a/gatehouse.yaml`], `${work}/after.log`);
  await waitReady(gb, [ports.before]);
  await waitReady(ga, [ports.after, ports.afterPp]);
  log(`node ${process.version}; both gatehouses on core ${PROXY_CORE}, client on core ${LOAD_CORE} (${CONCURRENCY} in flight); load average ${os.loadavg()[0].toFixed(2)}`);
  log(`${conns} connections per step (connect, TLS 1.3 ECDSA handshake, GET, close), ${runs} interleaved runs`);
  const procs = { before: gb, after: ga, afterPp: ga };
  const step = (side, n) => measure(procs[side], ports[side], n, side === 'afterPp');
  // Warm-up: JIT and session state on both sides.
  for (const side of ['before', 'after', 'afterPp']) await step(side, 300);
  const rows = { before: [], after: [], afterPp: [] };
  for (let run = 1; run <= runs; run++) {
    // Alternate which goes first, so a drift in machine load does not favour one side.
    const order = run % 2 ? ['before', 'after', 'afterPp'] : ['afterPp', 'after', 'before'];
    for (const side of order) rows[side].push(await step(side, conns));
    const show = (side) => `${fmt(rows[side].at(-1).cpuUs, 0)} µs (${fmt(rows[side].at(-1).rate, 0)}/s)`;
    log(`run ${run}: CPU per connection: before ${show('before')}, after ${show('after')}, after with PROXY v2 ${show('afterPp')}`);
  }
  const med = (side, key) => median(rows[side].map((r) => r[key]));
  const [b, a, p] = [med('before', 'cpuUs'), med('after', 'cpuUs'), med('afterPp', 'cpuUs')];
  // Paired: each run's after/before, taken minutes apart at most, then the median of those ratios.
  const ratio = median(rows.after.map((r, i) => r.cpuUs / rows.before[i].cpuUs));
  log(`median CPU per connection: before ${fmt(b, 0)} µs, after ${fmt(a, 0)} µs (paired median ${fmt((ratio - 1) * 100, 1)}%), after with a PROXY v2 header ${fmt(p, 0)} µs (${fmt((p / a - 1) * 100, 1)}% vs without)`);
  log(`median connections/s: before ${fmt(med('before', 'rate'), 0)}, after ${fmt(med('after', 'rate'), 0)}, after with PROXY v2 ${fmt(med('afterPp', 'rate'), 0)}`);
  log(ratio <= 1.05 ? 'PASS: a listener without proxyProtocol costs the same (within 5%)' : 'FAIL: after costs more than 5% over before');
  await cleanup();
  fs.rmSync(work, { recursive: true, force: true });
  if (ratio > 1.05) process.exitCode = 1;
}

if (argv[0] === '--client') {
  await client(Number(argv[1]), Number(argv[2]), argv[3] === '1');
} else {
  main().catch(async (err) => {
    console.error(err);
    await cleanup();
    process.exit(2);
  });
}
