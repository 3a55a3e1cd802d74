// Tunnels (an HTTP/1.1 Upgrade, a WebSocket over HTTP/2's extended CONNECT) once bridged to the
// upstream: no byte in either direction for `tunnelIdle` (default 60 s, nginx's
// proxy_read_timeout) closes both sides; bytes one way only keep it open; a client that stops
// reading is cut by send_timeout. The upstream is a raw socket that answers the handshake, then is
// silent, talks, or floods, and records when gatehouse closed it.
//
// The 60 s default is proven with the default, not a shortened value: those tunnels open in
// before() and the last test waits for them, so the other tests run inside that minute. The same
// minute proves two client timers at their defaults too (nginx's client_header_timeout and
// client_body_timeout, 60 s): a connection that sends nothing, and a body that stops.
import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http2, { type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { startGatehouse, type Gatehouse } from '../helpers/gatehouse.js';
import { loopbackLookup } from '../helpers/ports.js';
import { rawConnect, startSilentServer, type RawClient, type SilentServer } from '../helpers/raw-client.js';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

interface UpstreamConn {
  path: string;
  received: number;
  closedAt: number | undefined;
  closed: Promise<void>;
}

/** A WebSocket upstream by hand: 101 with the right accept, then by path: silent, `talk` (a byte every 600 ms) or `flood`. */
async function startRawWsUpstream(): Promise<{ port: number; conns: UpstreamConn[]; close(): void }> {
  const conns: UpstreamConn[] = [];
  const server = net.createServer((socket) => {
    let head = '';
    let done: () => void = () => undefined;
    const conn: UpstreamConn = { path: '', received: 0, closedAt: undefined, closed: new Promise<void>((r) => (done = r)) };
    socket.on('error', () => undefined);
    socket.on('close', () => {
      conn.closedAt = performance.now();
      done();
    });
    const onHead = (d: Buffer): void => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onHead);
      conn.path = head.split(' ')[1] ?? '';
      conns.push(conn);
      const key = /\r\nsec-websocket-key: *([^\r]+)/i.exec(head)?.[1] ?? '';
      const accept = crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      socket.on('data', (c: Buffer) => (conn.received += c.length));
      if (conn.path.endsWith('/talk')) {
        const t = setInterval(() => socket.write('t'), 600);
        socket.once('close', () => clearInterval(t));
      } else if (conn.path.endsWith('/flood')) {
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const pump = (): void => {
          while (!socket.destroyed && socket.write(chunk));
          if (!socket.destroyed) socket.once('drain', pump);
        };
        pump();
      }
    };
    socket.on('data', onHead);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    conns,
    close: () => server.close(),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An HTTP/1.1 WebSocket handshake over plain TCP; resolves once the 101 is in. */
async function openH1(port: number, host: string, p: string, noRead = false): Promise<RawClient> {
  const c = await rawConnect({ port, noRead });
  c.write(`GET ${p} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  if (noRead) return c;
  for (let i = 0; i < 100 && !c.received().includes('\r\n\r\n'); i++) await sleep(20);
  expect(c.received()).to.match(/^HTTP\/1\.1 101 /);
  return c;
}

const isOpen = (c: RawClient): boolean => !c.socket.destroyed && !c.socket.readableEnded;

describe('tunnel idle timer and send timeout (integration)', function () {
  this.timeout(30_000);
  let upstream: Awaited<ReturnType<typeof startRawWsUpstream>>;
  let gh: Gatehouse;
  let session: ClientHttp2Session;
  /** Tunnels on routes without tunnelIdle, and when their last byte crossed. */
  let defaultH1: RawClient;
  let defaultH2: ClientHttp2Stream;
  let defaultH2Closed: Promise<number>;
  let defaultSince: number;
  /** The client timers at their defaults: a connection that sends nothing, a body that stops. */
  let silent: SilentServer;
  let mute: RawClient;
  let muteSince: number;
  let stalled: RawClient;
  let stalledSince: number;

  const h2Ws = (p: string): { stream: ClientHttp2Stream; closed: Promise<number> } => {
    const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': p, ':authority': `w.test:${gh.httpsPort}`, 'sec-websocket-version': '13' });
    stream.on('error', () => undefined);
    stream.resume();
    return { stream, closed: new Promise<number>((r) => stream.once('close', () => r(performance.now()))) };
  };

  before(async () => {
    upstream = await startRawWsUpstream();
    silent = await startSilentServer();
    const proxy = `http://127.0.0.1:${upstream.port}`;
    const routes = [
      { location: '/short/', proxy, tunnelIdle: '2s' },
      { location: '/', proxy },
    ];
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      // send_timeout at the top level: a plain-HTTP connection keeps the default site's timers (no SNI).
      timeouts: { send: '2s' },
      sites: [
        { hosts: ['p.test'], tls: 'off', routes },
        { hosts: ['w.test'], routes },
        // The tunnel timer is long here, so only send_timeout can close a stalled client's tunnel.
        { hosts: ['n.test'], tls: 'off', routes: [{ location: '/', proxy, tunnelIdle: '30s' }] },
        // A backend that never answers: the request body is read and forwarded until the client stops.
        { hosts: ['b.test'], tls: 'off', routes: [{ location: '/', proxy: `http://127.0.0.1:${silent.port}` }] },
      ],
    }));
    mute = await rawConnect({ port: gh.httpPort });
    muteSince = performance.now();
    stalled = await rawConnect({ port: gh.httpPort });
    stalled.write('POST /upload HTTP/1.1\r\nHost: b.test\r\nContent-Length: 100\r\n\r\n0123456789');
    stalledSince = performance.now();
    session = http2.connect(`https://w.test:${gh.httpsPort}`, { ca: fs.readFileSync(gh.caFile), lookup: loopbackLookup });
    session.on('error', () => undefined);
    await new Promise<void>((r) => session.once('remoteSettings', () => r()));

    // The default's tunnels: one byte each way, then nothing.
    defaultH1 = await openH1(gh.httpPort, 'p.test', '/default-h1');
    defaultH1.write('x');
    const h2 = h2Ws('/default-h2');
    defaultH2 = h2.stream;
    defaultH2Closed = h2.closed;
    await new Promise<void>((r) => defaultH2.once('response', () => r()));
    defaultH2.write('x');
    await sleep(200);
    defaultSince = performance.now();
  });

  after(async () => {
    session?.close();
    mute?.destroy();
    stalled?.destroy();
    await gh?.stop();
    upstream?.close();
    await silent?.close();
  });

  it('tunnelIdle: 2s closes an idle HTTP/1.1 tunnel, client and upstream side', async () => {
    const c = await openH1(gh.httpPort, 'p.test', '/short/idle');
    const since = performance.now();
    const { ms } = await c.closed;
    const idle = performance.now() - since;
    expect(idle, `closed after ${ms} ms`).to.be.within(1400, 4000);
    const up = upstream.conns.find((u) => u.path === '/short/idle');
    await up?.closed;
    expect(up?.closedAt).to.not.equal(undefined);
  });

  it('bytes in one direction only keep a tunnel open: client to upstream, and upstream to client', async () => {
    const [quietUp, quietClient] = await Promise.all([openH1(gh.httpPort, 'p.test', '/short/up'), openH1(gh.httpPort, 'p.test', '/short/talk')]);
    // The client sends on one tunnel (the upstream answers nothing); the upstream talks on the other.
    quietUp.drip('u', 600);
    await sleep(4500);
    expect(isOpen(quietUp), 'client→upstream bytes only').to.equal(true);
    expect(isOpen(quietClient), 'upstream→client bytes only').to.equal(true);
    expect(upstream.conns.find((u) => u.path === '/short/up')?.received).to.be.greaterThan(4);
    expect(quietClient.received()).to.match(/ttt/);
    quietUp.destroy();
    quietClient.destroy();
  });

  it('tunnelIdle applies to WebSockets over HTTP/2 (the stream is reset, the upstream closed)', async () => {
    const { stream, closed } = h2Ws('/short/h2');
    await new Promise<void>((r) => stream.once('response', () => r()));
    const since = performance.now();
    const at = await closed;
    expect(at - since).to.be.within(1400, 4000);
    expect(session.closed || session.destroyed, 'the session itself stays').to.equal(false);
    await upstream.conns.find((u) => u.path === '/short/h2')?.closed;
  });

  it('send_timeout: a client that stops reading a tunnel is closed, and so is its upstream', async () => {
    const c = await openH1(gh.httpPort, 'n.test', '/flood', true);
    const started = performance.now();
    await sleep(200);
    const up = upstream.conns.find((u) => u.path === '/flood');
    expect(up, 'the upstream got the handshake').to.not.equal(undefined);
    await Promise.race([up?.closed, sleep(10_000)]);
    expect(up?.closedAt, 'upstream closed').to.not.equal(undefined);
    // 2 s of no progress, once the buffers between are full, and up to one sweep late.
    expect((up?.closedAt ?? Infinity) - started).to.be.lessThan(8000);
    c.destroy();
  });

  it('the default is 60 s (nginx proxy_read_timeout): idle tunnels over HTTP/1.1 and HTTP/2 close then, not before', async function () {
    this.timeout(80_000);
    // Still open at 55 s after their last byte.
    await sleep(Math.max(0, defaultSince + 55_000 - performance.now()));
    expect(isOpen(defaultH1), 'HTTP/1.1 tunnel at 55 s').to.equal(true);
    expect(defaultH2.closed, 'HTTP/2 tunnel at 55 s').to.equal(false);
    const [h1At, h2At] = await Promise.all([defaultH1.closed.then(() => performance.now()), defaultH2Closed]);
    expect(h1At - defaultSince).to.be.within(58_500, 63_000);
    expect(h2At - defaultSince).to.be.within(58_500, 63_000);
    await Promise.all(['/default-h1', '/default-h2'].map((p) => upstream.conns.find((u) => u.path === p)?.closed));
  });

  it('client_header_timeout and client_body_timeout at their defaults: 60 s, then close (the body with 408)', async function () {
    this.timeout(20_000);
    const [muteAt, body] = await Promise.all([mute.closed.then(() => performance.now()), stalled.closed.then((c) => ({ at: performance.now(), data: c.data }))]);
    expect(muteAt - muteSince, 'a connection that sent nothing').to.be.within(59_000, 63_000);
    expect(body.at - stalledSince, 'a body that stopped').to.be.within(59_000, 63_000);
    expect(body.data).to.match(/^HTTP\/1\.1 408 /);
  });
});
