#!/usr/bin/env node
// Compression memory benchmark: gatehouse compresses a 10 MB text body, proxied and static, for a
// fast client and for a slow one (back-pressure), and its peak RSS growth is read from /proc while
// the client downloads. Target: under 20 MB of growth, i.e. the body is streamed, never held.
//
//   node scripts/bench/compress.mjs [--build] [--verbose]
//
// gatehouse is pinned to the proxy core, the backend and the client run in this process (load core).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  PROXY_CORE, ROOT, cleanup, cpuTicks, ensureBuilt, fmt, freePort, log, makeCerts, memKiB, setVerbose, sleep, spawnPinned, ticksToUs, waitReady,
} from './lib.mjs';

const TARGET_MB = 20;
const BODY_BYTES = 10 * 1024 * 1024;
const args = new Set(process.argv.slice(2));
setVerbose(args.has('--verbose'));

/**
 * Words from a small vocabulary in pseudo-random order: about 10:1 with gzip, like logs or JSON, so the
 * compressed stream is big enough for buffering to show (a repeated line compresses 1000:1 and hides it).
 */
function textChunk(offset, size) {
  const words = ['proxy', 'stream', 'header', 'client', 'buffer', 'window', 'gatehouse', 'brotli', 'deflate', 'upstream',
    'request', 'response', 'memory', 'socket', 'the', 'a', 'of', 'and', 'to', 'in', 'is', 'that', 'with', 'for'];
  let x = (offset / 64) | 0 || 1;
  let s = '';
  while (s.length < size) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    s += words[x % words.length] + ((x >> 8) % 13 === 0 ? '.\n' : ' ');
  }
  return Buffer.from(s.slice(0, size));
}

function* bodyChunks() {
  for (let off = 0; off < BODY_BYTES; off += 64 * 1024) yield textChunk(off, Math.min(64 * 1024, BODY_BYTES - off));
}

const expectedSha = (() => {
  const h = crypto.createHash('sha256');
  for (const c of bodyChunks()) h.update(c);
  return h.digest('hex');
})();

/** The backend: writes the body as fast as gatehouse takes it (no Content-Length: chunked). */
function startBackend() {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    const it = bodyChunks();
    const pump = () => {
      for (let n = it.next(); !n.done; n = it.next()) {
        if (!res.write(n.value)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** One download; a slow client stops reading for `pauseMs` after every 256 KiB it receives. */
function download(port, ca, reqPath, encoding, pauseMs) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = https.get({ host: '127.0.0.1', port, path: reqPath, servername: 'bench.test', ca, headers: { 'accept-encoding': encoding }, agent: false }, (res) => {
      const coding = res.headers['content-encoding'] ?? 'identity';
      const decoder = coding === 'br' ? zlib.createBrotliDecompress() : coding === 'gzip' ? zlib.createGunzip() : null;
      const hash = crypto.createHash('sha256');
      let wire = 0;
      let sincePause = 0;
      (decoder ?? res).on('data', (c) => hash.update(c));
      res.on('data', (c) => {
        wire += c.length;
        if (decoder) decoder.write(c);
        sincePause += c.length;
        if (pauseMs > 0 && sincePause >= 256 * 1024) {
          sincePause = 0;
          res.pause();
          setTimeout(() => res.resume(), pauseMs);
        }
      });
      res.on('end', () => {
        const done = () => resolve({ status: res.statusCode, coding, wire, ok: hash.digest('hex') === expectedSha, ms: performance.now() - t0 });
        if (decoder) {
          decoder.on('end', done);
          decoder.end();
        } else done();
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function main() {
  const built = ensureBuilt(args.has('--build'));
  if (!built.ok) throw new Error(built.why);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-compress-'));
  makeCerts(dir);
  fs.mkdirSync(path.join(dir, 'www', 'static'), { recursive: true });
  const file = fs.openSync(path.join(dir, 'www', 'static', 'big.txt'), 'w');
  for (const c of bodyChunks()) fs.writeSync(file, c);
  fs.closeSync(file);
  const backend = await startBackend();
  const port = await freePort();
  const config = {
    listen: { https: `127.0.0.1:${port}` },
    storage: path.join(dir, 'certs'),
    log: { access: 'off' },
    sites: [{
      hosts: ['bench.test'],
      tls: { cert: path.join(dir, 'ecdsa.crt'), key: path.join(dir, 'ecdsa.key') },
      routes: [
        { location: '/static/', root: path.join(dir, 'www') },
        { location: '/', proxy: `http://127.0.0.1:${backend.address().port}` },
      ],
    }],
  };
  fs.writeFileSync(path.join(dir, 'gatehouse.json'), JSON.stringify(config));
  const gh = spawnPinned('gatehouse', PROXY_CORE, process.execPath, [path.join(ROOT, 'bin', 'gatehouse.js'), 'run', '-c', path.join(dir, 'gatehouse.json')],
    path.join(dir, 'gatehouse.log'));
  try {
    await waitReady(gh, [port]);
    const ca = fs.readFileSync(path.join(dir, 'ecdsa.crt'));
    // Warm-up: JIT, TLS session, zlib and brotli code and their first allocations.
    for (const enc of ['br', 'gzip']) await download(port, ca, '/proxy', enc, 0);
    await sleep(500);
    const cases = [
      ['proxied', '/proxy', 'br', 0], ['proxied', '/proxy', 'gzip', 0], ['proxied', '/proxy', 'identity', 0],
      ['static', '/static/big.txt', 'br', 0], ['static', '/static/big.txt', 'gzip', 0],
      ['proxied, slow client', '/proxy', 'br', 40], ['proxied, slow client', '/proxy', 'gzip', 40],
      ['static, slow client', '/static/big.txt', 'br', 40],
    ];
    const rows = [];
    for (const [what, p, enc, pauseMs] of cases) {
      const base = memKiB(gh.pids()).rss;
      const ticks0 = cpuTicks(gh.pids());
      let peak = base;
      const timer = setInterval(() => { peak = Math.max(peak, memKiB(gh.pids()).rss); }, 10);
      const r = await download(port, ca, p, enc, pauseMs);
      clearInterval(timer);
      peak = Math.max(peak, memKiB(gh.pids()).rss);
      const cpuMs = ticksToUs(cpuTicks(gh.pids()) - ticks0) / 1000;
      if (r.status !== 200 || !r.ok) throw new Error(`${what} ${enc}: status ${r.status}, body ${r.ok ? 'ok' : 'differs from the original'}`);
      rows.push({ what, enc: r.coding, wire: r.wire, ms: r.ms, cpuMs, baseMB: base / 1024, growthMB: (peak - base) / 1024 });
      await sleep(300);
    }
    log(`\n10 MB text body (${fmt(BODY_BYTES / 1048576, 0)} MiB), gatehouse pinned to core ${PROXY_CORE}; RSS from /proc every 10 ms\n`);
    // Wall time moves with whatever else runs on the core; gatehouse's own CPU time does not.
    log('case                     coding     on the wire   ratio    wall time  gatehouse CPU   RSS before   peak growth');
    for (const r of rows) {
      log(`${r.what.padEnd(24)} ${r.enc.padEnd(9)} ${fmt(r.wire / 1048576, 2).padStart(8)} MiB  ${fmt(BODY_BYTES / r.wire, 2).padStart(5)}:1  ${fmt(r.ms, 0).padStart(8)} ms  ${fmt(r.cpuMs, 0).padStart(9)} ms  ${fmt(r.baseMB, 1).padStart(7)} MB  ${fmt(r.growthMB, 1).padStart(8)} MB`);
    }
    const worst = Math.max(...rows.map((r) => r.growthMB));
    log(`\nratio peak RSS growth ${fmt(worst, 1)} MB / body 10 MB = ${fmt(worst / 10, 2)}   target < ${TARGET_MB} MB   ${worst < TARGET_MB ? 'PASS' : 'MISS'}`);
  } finally {
    await gh.stop();
    backend.close();
    await cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(async (err) => {
  console.error(`bench/compress: ${err.message}`);
  await cleanup();
  process.exit(1);
});
