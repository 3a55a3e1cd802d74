// Helper for `npm run bench` (scripts/bench.mjs): opens many TLS keep-alive connections to a proxy, sends one
// HTTP/1.1 GET on each, and holds them open so the parent can read the proxy's memory.
// Usage: node idle-client.mjs PORT SERVERNAME PATH
// Commands on stdin, one per line; each answers one JSON line on stdout:
//   warm N   open N connections, one GET each, close them all
//   open N   open N connections (at most CONCURRENCY handshakes at a time), one GET each, keep them
//   status   how many of the kept connections are still open
//   close    destroy all connections and exit
import tls from 'node:tls';
import readline from 'node:readline';

const [port, servername, reqPath] = [Number(process.argv[2]), process.argv[3] || 'bench.test', process.argv[4] || '/1k'];
const CONCURRENCY = 64;
const held = new Set();
let closedByPeer = 0;

function oneConnection(keep) {
  return new Promise((resolve) => {
    let settled = false;
    let ok = false;
    let buf = Buffer.alloc(0);
    let need = -1; // total bytes of head + body once the head is parsed
    let chunked = false;
    const finish = (result, err) => {
      if (settled) return;
      settled = true;
      resolve({ ok: result, err });
    };
    const s = tls.connect({
      host: '127.0.0.1', port, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'],
    });
    s.setTimeout(20000, () => s.destroy(new Error('timeout')));
    s.on('secureConnect', () => {
      s.write(`GET ${reqPath} HTTP/1.1\r\nHost: ${servername}\r\nUser-Agent: gatehouse-bench-idle\r\n\r\n`);
    });
    s.on('data', (d) => {
      if (ok) return;
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      if (need < 0) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const status = Number(head.split(' ', 2)[1]);
        if (status !== 200) { s.destroy(); finish(false, `status ${status}`); return; }
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
        need = m ? end + 4 + Number(m[1]) : end + 4;
      }
      const complete = chunked ? buf.subarray(buf.length - 5).toString('latin1') === '0\r\n\r\n' : buf.length >= need;
      if (complete) {
        ok = true;
        buf = null;
        s.setTimeout(0);
        if (keep) held.add(s);
        else s.destroy();
        finish(true);
      }
    });
    s.on('error', (e) => finish(false, e.message));
    s.on('close', () => {
      if (held.delete(s)) closedByPeer++;
      finish(ok, ok ? undefined : 'closed before the response was complete');
    });
  });
}

async function openMany(n, keep) {
  const t0 = Date.now();
  let next = 0;
  let okCount = 0;
  let errors = 0;
  const errorSamples = new Map();
  async function lane() {
    while (next < n) {
      next++;
      const r = await oneConnection(keep);
      if (r.ok) okCount++;
      else {
        errors++;
        errorSamples.set(r.err, (errorSamples.get(r.err) || 0) + 1);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, lane));
  return { ok: okCount, errors, errorSamples: Object.fromEntries([...errorSamples].slice(0, 5)), ms: Date.now() - t0, open: held.size };
}

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  try {
    if (cmd === 'warm') out(await openMany(Number(arg), false));
    else if (cmd === 'open') out(await openMany(Number(arg), true));
    else if (cmd === 'status') out({ open: held.size, closedByPeer });
    else if (cmd === 'close') {
      for (const s of held) s.destroy();
      out({ closed: true });
      process.exit(0);
    } else out({ error: `unknown command ${cmd}` });
  } catch (e) {
    out({ error: String(e && e.message || e) });
  }
});
rl.on('close', () => process.exit(0));
