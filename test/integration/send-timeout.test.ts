// `timeouts.send` on HTTP/1.1 and HTTP/2 upstreams (nginx's proxy_send_timeout): a server that stops
// taking the request body gets its connection (HTTP/2: its stream) closed and the client a 504; a
// server that reads slowly, and a client that sends slowly, do not trigger it. Real peers on
// loopback: the gatehouse process, a raw `net` server that stops reading, a Node HTTP server that
// hashes what it reads, and Node HTTP/2 servers (h2c and h2 over TLS) that do either by path.
import { expect } from 'chai';
import crypto from 'node:crypto';
import http from 'node:http';
import http2, { type ServerHttp2Stream } from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { patternChunk, patternSha256 } from '../helpers/echo-backend.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { makeTestCa } from '../helpers/test-ca.js';

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
      // Bodies of several MiB, over the default 1m.
      maxBody: 0,
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

// The HTTP/2 "slow" reader's pace: it stops reading for this long after each 64 KiB. Its stream
// window is the default 64 KiB, so gatehouse waits for a WINDOW_UPDATE at almost every pause.
const H2_SLOW_READ_BYTES = 64 * 1024;
const H2_SLOW_READ_EVERY_MS = 50;

interface HeldStream {
  path: string;
  /** Resolves when the stream closes: its RST_STREAM code, and whether its session was still open then. */
  closed: Promise<{ rstCode: number; sessionOpen: boolean }>;
}

interface H2SendBackend {
  port: number;
  sessions: number;
  held: HeldStream[];
  /** Pauses per `/slow` request. */
  stalls: number[];
  close(): Promise<void>;
}

/**
 * A path ending in `/hold`: takes the request stream and never reads its body, nor answers.
 * `/slow`: reads 64 KiB, then nothing for 50 ms, and again. Anything else: reads at full speed.
 * Answers the body's length and sha256.
 */
async function startH2SendBackend(tls?: { key: Buffer; cert: Buffer }): Promise<H2SendBackend> {
  // 65535 is the default; spelled out because the test depends on a small stream window.
  const settings: http2.Settings = { initialWindowSize: 65535 };
  const server = tls ? http2.createSecureServer({ ...tls, allowHTTP1: false, settings }) : http2.createServer({ settings });
  const backend: H2SendBackend = { port: 0, sessions: 0, held: [], stalls: [], close: async () => undefined };
  const open = new Set<http2.Http2Session>();
  server.on('session', (session) => {
    backend.sessions++;
    open.add(session);
    session.on('error', () => undefined);
    session.once('close', () => open.delete(session));
  });
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    stream.on('error', () => undefined);
    const p = String(headers[':path']);
    if (p.endsWith('/hold')) {
      stream.pause();
      const session = stream.session;
      backend.held.push({
        path: p,
        closed: new Promise((resolve) =>
          stream.once('close', () => resolve({ rstCode: stream.rstCode ?? -1, sessionOpen: session !== undefined && !session.closed && !session.destroyed })),
        ),
      });
      return;
    }
    const slow = p.endsWith('/slow');
    if (slow) backend.stalls.push(0);
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    let tick = 0;
    stream.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      tick += chunk.length;
      if (slow && tick >= H2_SLOW_READ_BYTES) {
        tick = 0;
        backend.stalls[backend.stalls.length - 1]! += 1;
        stream.pause();
        setTimeout(() => stream.resume(), H2_SLOW_READ_EVERY_MS);
      }
    });
    stream.on('end', () => {
      if (stream.closed) return;
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end(`${bytes} ${hash.digest('hex')}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  backend.port = (server.address() as net.AddressInfo).port;
  backend.close = () =>
    new Promise<void>((resolve) => {
      for (const s of open) s.destroy();
      server.close(() => resolve());
    });
  return backend;
}

describe('upstream timeouts.send on HTTP/2: h2c:// and h2:// (integration)', function () {
  this.timeout(60_000);
  let clear: H2SendBackend;
  let secure: H2SendBackend;
  let gh: Gatehouse;

  before(async () => {
    const ca = makeTestCa(path.join(tempDir('gh-send-h2-'), 'ca'));
    const cert = ca.issue('backend', ['backend.internal']);
    clear = await startH2SendBackend();
    secure = await startH2SendBackend({ key: cert.key, cert: cert.cert });
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      // Bodies of several MiB, over the default 1m.
      maxBody: 0,
      upstreams: {
        // maxFails 0: a failure of one case must not mark the server down for the next.
        h2c: { servers: [`h2c://127.0.0.1:${clear.port}`], maxFails: 0, timeouts: { send: '1s' } },
        h2: { servers: [`h2://127.0.0.1:${secure.port}`], maxFails: 0, tls: { ca: ca.caFile, servername: 'backend.internal' }, timeouts: { send: '1s' } },
      },
      sites: [
        {
          hosts: ['send.test'],
          tls: 'off',
          routes: [
            { location: '/h2c/', proxy: 'h2c' },
            { location: '/h2/', proxy: 'h2' },
          ],
        },
      ],
    }));
  });

  after(async () => {
    await gh?.stop();
    await Promise.all([clear?.close(), secure?.close()]);
  });

  for (const [scheme, backend] of [
    ['h2c', () => clear],
    ['h2', () => secure],
  ] as const) {
    it(`${scheme}: 504 and only the upstream stream reset (CANCEL) when the server stops reading the body`, async () => {
      const b = backend();
      const heldBefore = b.held.length;
      const total = 32 * 1024 * 1024;
      const res = await upload(gh.httpPort, `/${scheme}/upload/hold`, total);
      expect(res.status, res.text).to.equal(504);
      expect(res.ms).to.be.lessThan(8_000);
      expect(res.sent).to.be.lessThan(total);
      expect(b.held.length).to.equal(heldBefore + 1);
      const logged = new RegExp(`upstream 127\\.0\\.0\\.1:${b.port}: upstream send timed out.*/${scheme}/upload/hold`, 'g');
      const deadline = Date.now() + 5_000;
      while ((gh.peer.output().match(logged) ?? []).length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(gh.peer.output().match(logged), 'error log says why').to.have.length(1);
      const closed = await Promise.race([b.held[b.held.length - 1]!.closed, new Promise<undefined>((r) => setTimeout(r, 5_000))]);
      expect(closed, 'the server saw its stream closed').to.not.equal(undefined);
      expect(closed?.rstCode).to.equal(http2.constants.NGHTTP2_CANCEL);
      expect(closed?.sessionOpen, 'the session outlives the stream').to.equal(true);
      // The next request goes over the same session.
      const sessions = b.sessions;
      const next = await upload(gh.httpPort, `/${scheme}/after`, 1024);
      expect(next.status, next.text).to.equal(200);
      expect(next.text).to.equal(`1024 ${patternSha256(1024)}`);
      expect(b.sessions).to.equal(sessions);
    });

    it(`${scheme}: 200 with the whole body when the server reads slowly but steadily (50 ms pauses)`, async () => {
      const b = backend();
      const total = 4 * 1024 * 1024;
      const res = await upload(gh.httpPort, `/${scheme}/upload/slow`, total);
      expect(res.status, res.text).to.equal(200);
      expect(res.text).to.equal(`${total} ${patternSha256(total)}`);
      // About one pause per 64 KiB (fewer when DATA chunks overshoot a 64 KiB mark).
      expect(b.stalls[b.stalls.length - 1]).to.be.at.least(total / H2_SLOW_READ_BYTES / 2);
      // Twice the limit in total: the limit is per wait, not for the whole request.
      expect(res.ms).to.be.greaterThan(2_000);
    });
  }

  it('h2c: 200 when the client is the slow side (a 1.5 s pause mid-body)', async () => {
    const total = 4 * 1024 * 1024;
    const res = await upload(gh.httpPort, '/h2c/upload', total, { at: total / 2, ms: 1_500 });
    expect(res.status, res.text).to.equal(200);
    expect(res.text).to.equal(`${total} ${patternSha256(total)}`);
    expect(res.ms).to.be.greaterThan(1_500);
  });
});
