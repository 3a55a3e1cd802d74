// WebSockets over HTTP/2 (RFC 8441): a Node http2 client opens an extended CONNECT stream through
// the real gatehouse, which bridges it to an HTTP/1.1 Upgrade on a `ws` echo server. WebSocket
// frames are written and parsed by hand, so the test sees the bytes on the stream.
import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { startGatehouse, type Gatehouse } from '../helpers/gatehouse.js';
import { startH2WsEcho, type H2WsEcho } from '../helpers/h2-ws-echo.js';
import { freePort, loopbackLookup } from '../helpers/ports.js';

/** A client frame (RFC 6455 §5.2): FIN set, masked, payload under 64 KiB. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = crypto.randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, mask, masked]);
}

interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** Reads server frames (unmasked) off a stream. */
class FrameReader {
  private buf = Buffer.alloc(0);
  private readonly frames: Frame[] = [];
  private waiter: (() => void) | undefined;
  ended = false;

  constructor(stream: ClientHttp2Stream) {
    stream.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.parse();
    });
    stream.on('end', () => {
      this.ended = true;
      this.waiter?.();
    });
  }

  private parse(): void {
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0] as number;
      const b1 = this.buf[1] as number;
      if (b1 & 0x80) throw new Error('server frames must not be masked');
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (this.buf.length < off + len) return;
      this.frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload: this.buf.subarray(off, off + len) });
      this.buf = this.buf.subarray(off + len);
      this.waiter?.();
    }
  }

  async next(timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.ended) throw new Error('stream ended before a frame');
      if (Date.now() > deadline) throw new Error('no frame in time');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.frames.shift() as Frame;
  }
}

describe('WebSockets over HTTP/2, RFC 8441 (integration)', function () {
  this.timeout(30_000);
  let backend: EchoBackend;
  let badAccept: http.Server;
  let gh: Gatehouse;
  let session: ClientHttp2Session;

  before(async () => {
    backend = await startEchoBackend();
    // Answers 101 with a wrong Sec-WebSocket-Accept: gatehouse must not bridge it.
    badAccept = http.createServer();
    badAccept.on('upgrade', (_req, socket) => {
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm9wZQ==\r\n\r\n');
    });
    await new Promise<void>((resolve) => badAccept.listen(0, '127.0.0.1', resolve));
    const deadPort = await freePort();
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      sites: [
        {
          hosts: ['w.test'],
          routes: [
            { location: '/ws', proxy: backend.url },
            { location: '/bad', proxy: `http://127.0.0.1:${(badAccept.address() as AddressInfo).port}` },
            { location: '/dead', proxy: `http://127.0.0.1:${deadPort}` },
            { location: '/', return: '200 not a websocket' },
          ],
        },
      ],
    }));
    session = http2.connect(`https://w.test:${gh.httpsPort}`, { ca: fs.readFileSync(gh.caFile), lookup: loopbackLookup });
    session.on('error', () => undefined);
    await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
  });

  after(async () => {
    session?.close();
    await gh?.stop();
    await backend?.close();
    await new Promise<void>((resolve) => badAccept?.close(() => resolve()));
  });

  const connectWs = (p: string, extra: Record<string, string> = {}) => {
    const stream = session.request({
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':path': p,
      ':authority': `w.test:${gh.httpsPort}`,
      'sec-websocket-version': '13',
      ...extra,
    });
    stream.on('error', () => undefined);
    const response = new Promise<IncomingHttpHeaders>((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('close', () => reject(new Error(`stream closed (rst ${stream.rstCode})`)));
    });
    return { stream, response };
  };

  it('offers SETTINGS_ENABLE_CONNECT_PROTOCOL', () => {
    expect(session.remoteSettings.enableConnectProtocol).to.equal(true);
  });

  it('bridges an extended CONNECT to a ws echo server: 200, text and binary frames both ways, close handshake', async () => {
    const seenBefore = backend.seen.length;
    const { stream, response } = connectWs('/ws?room=1', { 'sec-websocket-protocol': 'chat' });
    const reader = new FrameReader(stream);
    const head = await response;
    expect(head[':status']).to.equal(200);
    expect(head['sec-websocket-accept']).to.equal(undefined);
    expect(head.upgrade).to.equal(undefined);

    stream.write(clientFrame(0x1, Buffer.from('hello over h2')));
    const echo = await reader.next();
    expect(echo.opcode).to.equal(0x1);
    expect(echo.payload.toString()).to.equal('echo:hello over h2');

    const bin = crypto.randomBytes(3000);
    stream.write(clientFrame(0x2, bin));
    const binEcho = await reader.next();
    expect(binEcho.opcode).to.equal(0x2);
    expect(binEcho.payload.equals(bin)).to.equal(true);

    // Close handshake (RFC 6455 §5.5.1): the server answers with a close frame and ends.
    stream.write(clientFrame(0x8, Buffer.from([0x03, 0xe8])));
    const close = await reader.next();
    expect(close.opcode).to.equal(0x8);
    expect(close.payload.readUInt16BE(0)).to.equal(1000);
    stream.end();
    await new Promise<void>((resolve) => stream.once('close', () => resolve()));
    expect(reader.ended).to.equal(true);
    // The upgrade never reached the backend's request handler (it is not a plain GET).
    expect(backend.seen.length).to.equal(seenBefore);
  });

  it('runs several WebSockets at once on one HTTP/2 connection', async () => {
    const socks = [0, 1, 2, 3, 4].map(() => connectWs('/ws'));
    const readers = socks.map((s) => new FrameReader(s.stream));
    for (const s of socks) expect((await s.response)[':status']).to.equal(200);
    socks.forEach((s, i) => s.stream.write(clientFrame(0x1, Buffer.from(`n${i}`))));
    const texts = await Promise.all(readers.map(async (r) => (await r.next()).payload.toString()));
    expect(texts).to.deep.equal(['echo:n0', 'echo:n1', 'echo:n2', 'echo:n3', 'echo:n4']);
    for (const s of socks) s.stream.close();
  });

  it('answers 502 when the upstream is down or its handshake is wrong', async () => {
    for (const p of ['/dead', '/bad']) {
      const { stream, response } = connectWs(p);
      stream.resume();
      expect((await response)[':status']).to.equal(502);
      // The refused tunnel is over: the stream closes without the client ending it.
      await new Promise<void>((resolve) => stream.once('close', () => resolve()));
    }
  });

  it('refuses plain CONNECT with 405', async () => {
    const stream = session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' });
    stream.on('error', () => undefined);
    stream.resume();
    const head = await new Promise<IncomingHttpHeaders>((resolve) => stream.once('response', resolve));
    expect(head[':status']).to.equal(405);
    await new Promise<void>((resolve) => stream.once('close', () => resolve()));
  });

  it('keeps HTTP/1.1 Upgrade working (ws client over TLS)', async () => {
    const ws = new WebSocket(`wss://w.test:${gh.httpsPort}/ws`, { ca: fs.readFileSync(gh.caFile), lookup: loopbackLookup });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('h1'));
      ws.on('message', (d) => resolve(String(d)));
      ws.on('error', reject);
    });
    ws.close();
    expect(reply).to.equal('echo:h1');
  });
});

describe('WebSockets to HTTP/2 upstreams: extended CONNECT on h2c:// (integration)', function () {
  this.timeout(30_000);
  let echo: H2WsEcho;
  let noConnect: H2WsEcho;
  let gh: Gatehouse;
  let session: ClientHttp2Session;

  before(async () => {
    [echo, noConnect] = await Promise.all([startH2WsEcho(true), startH2WsEcho(false)]);
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      sites: [
        {
          hosts: ['w.test'],
          routes: [
            { location: '/ws', proxy: `h2c://127.0.0.1:${echo.port}` },
            { location: '/old', proxy: `h2c://127.0.0.1:${noConnect.port}` },
          ],
        },
      ],
    }));
    session = http2.connect(`https://w.test:${gh.httpsPort}`, { ca: fs.readFileSync(gh.caFile), lookup: loopbackLookup });
    session.on('error', () => undefined);
    await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
  });

  after(async () => {
    session?.close();
    await gh?.stop();
    await Promise.all([echo?.close(), noConnect?.close()]);
  });

  const wsOpen = (p: string) => new WebSocket(`wss://w.test:${gh.httpsPort}${p}`, ['chat'], { ca: fs.readFileSync(gh.caFile), lookup: loopbackLookup });

  it('bridges an HTTP/1.1 Upgrade (ws client) to an extended CONNECT stream: text, binary, close', async () => {
    const before = echo.connects.length;
    const ws = wsOpen('/ws?room=2');
    const got: Array<string | Buffer> = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => ws.send('hello'));
      ws.on('message', (data, isBinary) => {
        got.push(isBinary ? (data as Buffer) : String(data));
        if (got.length === 1) ws.send(Buffer.from([1, 2, 3]));
        else ws.close(1000);
      });
      ws.on('close', () => resolve());
      ws.on('error', reject);
    });
    expect(got[0]).to.equal('echo:hello');
    expect(Buffer.isBuffer(got[1]) && (got[1] as Buffer).equals(Buffer.from([1, 2, 3]))).to.equal(true);
    expect(ws.protocol).to.equal('chat');
    const head = echo.connects[before];
    expect(head).to.include({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/ws?room=2', 'sec-websocket-protocol': 'chat' });
    expect(head?.['sec-websocket-key']).to.equal(undefined);
  });

  it('bridges an RFC 8441 CONNECT from an HTTP/2 client to the upstream', async () => {
    const stream = session.request({
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':path': '/ws',
      ':authority': `w.test:${gh.httpsPort}`,
      'sec-websocket-version': '13',
    });
    stream.on('error', () => undefined);
    const reader = new FrameReader(stream);
    const head = await new Promise<IncomingHttpHeaders>((resolve) => stream.once('response', resolve));
    expect(head[':status']).to.equal(200);
    stream.write(clientFrame(0x1, Buffer.from('over h2 twice')));
    expect((await reader.next()).payload.toString()).to.equal('echo:over h2 twice');
    stream.write(clientFrame(0x8, Buffer.from([0x03, 0xe8])));
    expect((await reader.next()).opcode).to.equal(0x8);
    stream.end();
    await new Promise<void>((resolve) => stream.once('close', () => resolve()));
  });

  it('answers 502 when the upstream does not offer SETTINGS_ENABLE_CONNECT_PROTOCOL, and logs why', async () => {
    const ws = wsOpen('/old');
    const status = await new Promise<number>((resolve, reject) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('opened')));
      ws.on('error', () => undefined);
    });
    expect(status).to.equal(502);
    expect(noConnect.connects).to.have.length(0);
    await gh.peer.waitForOutput(/SETTINGS_ENABLE_CONNECT_PROTOCOL/);
  });
});
