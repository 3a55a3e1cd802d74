// `timeouts.send` on HTTP/1.1 upstreams (nginx's proxy_send_timeout): a server that stops taking the
// request body gets its connection closed and the client a 504; a server that reads slowly, and a
// client that sends slowly, do not trigger it. Real peers on loopback: the gatehouse process, a raw
// `net` server that stops reading, and a Node HTTP server that hashes what it reads.
import { expect } from 'chai';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { patternChunk, patternSha256 } from '../helpers/echo-backend.js';
import { startGatehouse, type Gatehouse } from '../helpers/gatehouse.js';

// The "slow" reader's pace. Not slower: the kernel reports a socket writable again only once about a
// third of its send buffer is free (tcp_poll → __sk_stream_is_writeable; the buffer autotunes to
// tcp_wmem's max, 4 MiB here), so a reader that frees under ~1.3 MiB per `send` period shows the
// writer no progress at all — to gatehouse as to any proxy — and that is a send timeout.
const SLOW_READ_BYTES = 1024 * 1024;
const SLOW_READ_EVERY_MS = 200;

interface StuckConnection {
  socket: net.Socket;
  /** Body bytes read (only after `drainAndWaitForEnd`). */
  received: number;
}

/** Reads the request head, then reads nothing more and never answers. */
async function startStuckBackend(): Promise<{ server: net.Server; port: number; conns: StuckConnection[] }> {
  const conns: StuckConnection[] = [];
  const server = net.createServer((socket) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (head.indexOf('\r\n\r\n') < 0) return;
      socket.off('data', onData);
      socket.pause();
      conns.push({ socket, received: head.length - head.indexOf('\r\n\r\n') - 4 });
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port, conns };
}

/** Reads the rest of what gatehouse sent and resolves when gatehouse's FIN (or RST) arrives. */
function drainAndWaitForEnd(c: StuckConnection, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    c.socket.on('data', (chunk: Buffer) => {
      c.received += chunk.length;
    });
    c.socket.once('end', done);
    c.socket.once('close', done);
    c.socket.resume();
  });
}

/**
 * `/slow`: reads 1 MiB, then nothing for 200 ms, and again; anything else: reads at full speed.
 * Answers the body's length and sha256.
 */
async function startReadingBackend(): Promise<{ server: http.Server; port: number; stalls: number[] }> {
  const stalls: number[] = [];
  const server = http.createServer((req, res) => {
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    let tick = 0;
    const slow = req.url?.startsWith('/slow') ?? false;
    if (slow) stalls.push(0);
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      tick += chunk.length;
      if (slow && tick >= SLOW_READ_BYTES) {
        tick = 0;
        stalls[stalls.length - 1]! += 1;
        req.pause();
        setTimeout(() => req.resume(), SLOW_READ_EVERY_MS);
      }
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${bytes} ${hash.digest('hex')}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port, stalls };
}

interface UploadResult {
  status: number;
  text: string;
  ms: number;
  sent: number;
}

/**
 * POSTs `total` pattern bytes with a Content-Length, honouring back-pressure; `pause` holds the
 * rest of the body back for `ms` once `at` bytes are out. Stops sending when a response arrives.
 */
function upload(port: number, path: string, total: number, pause?: { at: number; ms: number }): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let sent = 0;
    let answered = false;
    const req = http.request({
      host: '127.0.0.1',
      port,
      path,
      method: 'POST',
      agent: false,
      headers: { host: 'send.test', 'content-type': 'application/octet-stream', 'content-length': total },
    });
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), ms: performance.now() - started, sent });
        req.destroy();
      });
    });
    req.on('error', (err) => {
      if (!answered) reject(new Error(`upload failed after ${sent} bytes, ${Math.round(performance.now() - started)} ms: ${err.message}`));
    });
    let paused = false;
    const pump = (): void => {
      while (sent < total && !answered) {
        if (pause && !paused && sent >= pause.at) {
          paused = true;
          setTimeout(pump, pause.ms);
          return;
        }
        const n = Math.min(64 * 1024, total - sent);
        const ok = req.write(patternChunk(n, sent));
        sent += n;
        if (!ok) {
          req.once('drain', pump);
          return;
        }
      }
      if (sent >= total && !answered) req.end();
    };
    pump();
  });
}

describe('upstream timeouts.send on HTTP/1.1 (integration)', function () {
  this.timeout(60_000);
  let stuck: Awaited<ReturnType<typeof startStuckBackend>>;
  let reading: Awaited<ReturnType<typeof startReadingBackend>>;
  let gh: Gatehouse;

  before(async () => {
    stuck = await startStuckBackend();
    reading = await startReadingBackend();
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      upstreams: {
        stuck: { servers: [`http://127.0.0.1:${stuck.port}`], timeouts: { send: '1s' } },
        stuckNoRetry: { servers: [`http://127.0.0.1:${stuck.port}`], retries: 0, timeouts: { send: '1s' } },
        // maxFails 0: a failure of one case must not mark the server down for the next.
        slowReader: { servers: [`http://127.0.0.1:${reading.port}`], maxFails: 0, timeouts: { send: '1s' } },
        fastReader: { servers: [`http://127.0.0.1:${reading.port}`], maxFails: 0, timeouts: { send: '1s' } },
      },
      sites: [
        {
          hosts: ['send.test'],
          tls: 'off',
          routes: [
            { location: '/stuck/', proxy: 'stuck' },
            { location: '/stuck-no-retry/', proxy: 'stuckNoRetry' },
            { location: '/slow/', proxy: 'slowReader' },
            { location: '/', proxy: 'fastReader' },
          ],
        },
      ],
    }));
  });

  after(async () => {
    await gh?.stop();
    for (const c of stuck?.conns ?? []) c.socket.destroy();
    await new Promise((r) => stuck?.server.close(r));
    reading?.server.closeAllConnections();
    await new Promise((r) => reading?.server.close(r));
  });

  for (const path of ['/stuck/upload', '/stuck-no-retry/upload']) {
    it(`504 and the upstream connection closed when the server stops reading the body (${path})`, async () => {
      const before = stuck.conns.length;
      const total = 64 * 1024 * 1024;
      const res = await upload(gh.httpPort, path, total);
      expect(res.status, res.text).to.equal(504);
      expect(res.ms).to.be.lessThan(8_000);
      expect(res.sent).to.be.lessThan(total);
      expect(stuck.conns.length).to.equal(before + 1);
      const logged = new RegExp(`upstream 127\\.0\\.0\\.1:${stuck.port}: upstream send timed out.*${path}`, 'g');
      const deadline = Date.now() + 5_000;
      while ((gh.peer.output().match(logged) ?? []).length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(gh.peer.output().match(logged), 'error log says why').to.have.length(1);
      // The connection is gone: what gatehouse had sent ends with its FIN, well short of the body.
      const conn = stuck.conns[stuck.conns.length - 1]!;
      expect(await drainAndWaitForEnd(conn, 10_000), 'gatehouse closed the upstream connection').to.equal(true);
      expect(conn.received).to.be.lessThan(total);
    });
  }

  it('200 with the whole body when the server reads slowly but steadily (200 ms pauses)', async () => {
    const total = 16 * 1024 * 1024;
    const res = await upload(gh.httpPort, '/slow/upload', total);
    expect(res.status, res.text).to.equal(200);
    expect(res.text).to.equal(`${total} ${patternSha256(total)}`);
    expect(reading.stalls[reading.stalls.length - 1]).to.be.at.least(total / SLOW_READ_BYTES - 1);
    // Twice the limit in total: the limit is per write, not for the whole request.
    expect(res.ms).to.be.greaterThan(2_000);
  });

  it('200 when the client is the slow side (a 1.5 s pause mid-body)', async () => {
    const total = 4 * 1024 * 1024;
    const res = await upload(gh.httpPort, '/fast/upload', total, { at: total / 2, ms: 1_500 });
    expect(res.status, res.text).to.equal(200);
    expect(res.text).to.equal(`${total} ${patternSha256(total)}`);
    expect(res.ms).to.be.greaterThan(1_500);
  });
});
