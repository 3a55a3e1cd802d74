// nginx's client timers in gatehouse (security review F1, F2): every probe here held a connection
// for ever before. The timers are set to 2-3 s in this config so the group runs in seconds; that
// they default to nginx's 60 s / 75 s is proven by test/unit/config/client.test.ts, and the same
// probes against nginx 1.22 with the same timers are compared below.
import { expect } from 'chai';
import fs from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import { startNginx } from '../helpers/cgi-peers.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import type { Peer } from '../helpers/process.js';
import { closesWithin, rawConnect, startSilentServer, type SilentServer } from '../helpers/raw-client.js';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SLOW_READER = fileURLToPath(new URL('../fixtures/clients/slow-reader.py', import.meta.url));

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()))));
}

const HEADER_S = 2;
const BODY_S = 2;
const SEND_S = 2;
const KEEPALIVE_S = 3;
/** The guard sweeps every 0.5 s and Node checks heads every 1 s: a timer fires up to this late. */
const SLACK_MS = 1500;
const BIG = 32 * 1024 * 1024;
const STEADY = 8 * 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('client timeouts (integration)', function () {
  this.timeout(60_000);
  let dir: string;
  let backend: EchoBackend;
  let silent: SilentServer;
  let gh: Gatehouse;
  let ca: Buffer;

  before(async () => {
    dir = tempDir('gh-timeouts-');
    const www = path.join(dir, 'www');
    fs.mkdirSync(path.join(www, 'static'), { recursive: true });
    fs.writeFileSync(path.join(www, 'static', 'big.bin'), Buffer.alloc(BIG, 'b'));
    fs.writeFileSync(path.join(www, 'static', 'mid.bin'), Buffer.alloc(1024 * 1024, 'm'));
    fs.writeFileSync(path.join(www, 'static', 'steady.bin'), Buffer.alloc(STEADY, 's'));
    backend = await startEchoBackend();
    silent = await startSilentServer();
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      timeouts: { header: `${HEADER_S}s`, body: `${BODY_S}s`, send: `${SEND_S}s`, keepalive: `${KEEPALIVE_S}s` },
      sites: [
        {
          hosts: ['a.test'],
          routes: [
            { location: '/static/', root: www },
            { location: '/silent/', proxy: `http://127.0.0.1:${silent.port}` },
            { location: '/', proxy: backend.url },
          ],
        },
        // A site's own timers: by SNI for the connection (keep-alive), by Host for its requests (body).
        {
          hosts: ['quick.test'],
          timeouts: { keepalive: '1s', body: '1s' },
          routes: [
            { location: '= /ka', return: 204 },
            { location: '/', proxy: `http://127.0.0.1:${silent.port}` },
          ],
        },
      ],
    }));
    ca = fs.readFileSync(gh.caFile);
  });
  after(async () => {
    await gh?.stop();
    await backend?.close();
    await silent?.close();
  });

  const tlsOpts = () => ({ port: gh.httpsPort, tls: { servername: 'a.test', ca } });

  describe('client_header_timeout', () => {
    it('answers 408 to a head dripped one line at a time (Slowloris), counted from accept', async () => {
      const c = await rawConnect(tlsOpts());
      c.write('GET / HTTP/1.1\r\nHost: a.test\r\n');
      c.drip('X-a: b\r\n', 300);
      const { ms, data } = await closesWithin(c, HEADER_S * 1000 + SLACK_MS + 1000);
      expect(data).to.match(/^HTTP\/1\.1 408 /);
      expect(ms).to.be.within(HEADER_S * 1000 - 100, HEADER_S * 1000 + SLACK_MS);
    });

    it('closes a TLS connection that sends no request, and a plain one that sends nothing at all', async () => {
      const t = await rawConnect(tlsOpts());
      const p = await rawConnect({ port: gh.httpPort });
      const [tc, pc] = await Promise.all([closesWithin(t, HEADER_S * 1000 + SLACK_MS + 1000), closesWithin(p, HEADER_S * 1000 + SLACK_MS + 1000)]);
      expect(tc.ms).to.be.within(HEADER_S * 1000 - 100, HEADER_S * 1000 + SLACK_MS);
      expect(pc.ms).to.be.within(HEADER_S * 1000 - 100, HEADER_S * 1000 + SLACK_MS);
    });

    it('bounds the TLS handshake from accept: a ClientHello dripped one byte at a time is cut', async () => {
      const c = await rawConnect({ port: gh.httpsPort });
      // A handshake record announcing 16000 bytes, then one byte every 300 ms: each byte used to
      // restart the 10 s pre-handshake timer.
      c.write(Buffer.from([0x16, 0x03, 0x01, 0x3e, 0x80]));
      c.drip(Buffer.from([0x01]), 300);
      const { ms } = await closesWithin(c, HEADER_S * 1000 + SLACK_MS + 1000);
      expect(ms).to.be.within(HEADER_S * 1000 - 100, HEADER_S * 1000 + SLACK_MS);
    });

    it('after a response, the next head is timed from its first byte (keep-alive first)', async () => {
      const c = await rawConnect(tlsOpts());
      c.write('GET /first HTTP/1.1\r\nHost: a.test\r\n\r\n');
      await sleep(1500);
      expect(c.received()).to.match(/^HTTP\/1\.1 200 /);
      const started = performance.now();
      c.write('GET /second HTTP/1.1\r\n');
      c.drip('X-a: b\r\n', 300);
      const { data } = await closesWithin(c, HEADER_S * 1000 + SLACK_MS + 2000);
      const took = performance.now() - started;
      expect(data).to.match(/HTTP\/1\.1 408 /);
      expect(took).to.be.within(HEADER_S * 1000 - 100, HEADER_S * 1000 + SLACK_MS);
    });
  });

  describe('keepalive_timeout', () => {
    it('keeps an idle HTTP/1.1 connection past the header timeout, and closes it after keep-alive', async () => {
      const c = await rawConnect(tlsOpts());
      c.write('GET /ka HTTP/1.1\r\nHost: a.test\r\n\r\n');
      const { ms } = await closesWithin(c, KEEPALIVE_S * 1000 + SLACK_MS + 2000);
      expect(c.received()).to.match(/^HTTP\/1\.1 200 /);
      // Node closes one second after the keep-alive it advertises (Keep-Alive: timeout=3), against races.
      expect(ms).to.be.within(KEEPALIVE_S * 1000 - 100, KEEPALIVE_S * 1000 + 1000 + SLACK_MS);
    });

    it('closes an HTTP/2 session with no open stream after keep-alive, not while a stream is open', async () => {
      const session = http2.connect(`https://127.0.0.1:${gh.httpsPort}`, { ca, servername: 'a.test' });
      const started = performance.now();
      const closed = new Promise<number>((r) => session.on('close', () => r(performance.now() - started)));
      session.on('error', () => undefined);
      // A request the backend answers after 4 s: the session is busy past keep-alive and stays.
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':path': '/slow/4000', ':authority': 'a.test' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.resume();
      });
      expect(status).to.equal(200);
      const idleFrom = performance.now() - started;
      const ms = await Promise.race([closed, sleep(KEEPALIVE_S * 1000 + 4000).then(() => -1)]);
      expect(ms, 'closed').to.not.equal(-1);
      expect(ms - idleFrom).to.be.within(KEEPALIVE_S * 1000 - 600, KEEPALIVE_S * 1000 + SLACK_MS + 500);
    });
  });

  describe('send_timeout', () => {
    it('closes an HTTP/1.1 connection whose client reads nothing', async () => {
      const c = await rawConnect({ ...tlsOpts(), noRead: true });
      c.write('GET /static/big.bin HTTP/1.1\r\nHost: a.test\r\n\r\n');
      // A client that reads nothing cannot see the close either: look once the timer has run.
      await sleep(SEND_S * 1000 + SLACK_MS + 1000);
      let got = 0;
      c.socket.on('data', (d: Buffer) => (got += d.length));
      c.socket.resume();
      await closesWithin(c, 5000);
      expect(got, 'bytes received before the close').to.be.below(BIG);
    });

    it('keeps a client that reads slowly but steadily, to the last byte', async () => {
      // 64 KiB every 50 ms through a 32 KiB receive buffer: about 6 s for 8 MiB, three send timeouts,
      // with the server's writes waiting on the client all along. The whole file must come: a cut
      // connection still delivers what the kernel holds (4 MiB of send buffer here at most), never all.
      const out = await run('/usr/bin/python3', [SLOW_READER, String(gh.httpsPort), 'a.test', '/static/steady.bin', '32768', '65536', '0.05', '30', String(STEADY)]);
      const result = JSON.parse(out) as { alive: boolean; got: number; after: number; error: string | null };
      expect(result, out).to.include({ alive: true });
      expect(result.got, out).to.be.at.least(STEADY);
      expect(result.after, 'it took longer than the send timeout, several times').to.be.above(SEND_S * 2);
    });

    it('resets an HTTP/2 stream stuck behind a zero flow-control window; the session then goes idle and closes', async () => {
      const session = http2.connect(`https://127.0.0.1:${gh.httpsPort}`, { ca, servername: 'a.test', settings: { initialWindowSize: 0 } });
      session.on('error', () => undefined);
      const started = performance.now();
      const sessionClosed = new Promise<number>((r) => session.on('close', () => r(performance.now() - started)));
      const stream = session.request({ ':path': '/static/big.bin', ':authority': 'a.test' });
      stream.on('error', () => undefined);
      stream.pause();
      const rst = await new Promise<{ code: number; ms: number }>((resolve) => stream.on('close', () => resolve({ code: stream.rstCode ?? -1, ms: performance.now() - started })));
      expect(rst.code).to.equal(http2.constants.NGHTTP2_INTERNAL_ERROR);
      expect(rst.ms).to.be.within(SEND_S * 1000 - 100, SEND_S * 1000 + SLACK_MS + 500);
      const ms = await Promise.race([sessionClosed, sleep(KEEPALIVE_S * 1000 + 4000).then(() => -1)]);
      expect(ms, 'session closed').to.not.equal(-1);
    });
  });

  describe('client_body_timeout', () => {
    it('HTTP/1.1: 408 for a body that stops, and the upstream connection is not held past it', async () => {
      const before = silent.connections.length;
      const c = await rawConnect(tlsOpts());
      c.write('POST /silent/upload HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100\r\n\r\n0123456789');
      const { ms, data } = await closesWithin(c, BODY_S * 1000 + SLACK_MS + 2000);
      expect(data).to.match(/^HTTP\/1\.1 408 /);
      expect(ms).to.be.within(BODY_S * 1000 - 100, BODY_S * 1000 + SLACK_MS);
      const upstream = silent.connections[before];
      expect(upstream?.data).to.match(/^POST \/silent\/upload HTTP\/1\.1\r\n[\s\S]*\r\n\r\n0123456789$/);
      await sleep(300);
      expect(upstream?.closedAt, 'upstream connection closed').to.not.equal(undefined);
    });

    it('HTTP/2: 408 on the stream for a body that stops', async () => {
      const session = http2.connect(`https://127.0.0.1:${gh.httpsPort}`, { ca, servername: 'a.test' });
      session.on('error', () => undefined);
      try {
        const started = performance.now();
        const stream = session.request({ ':method': 'POST', ':path': '/silent/h2', ':authority': 'a.test', 'content-length': '100' }, { endStream: false });
        stream.on('error', () => undefined);
        stream.write(Buffer.alloc(10, 'x'));
        const status = await new Promise<number>((resolve) => stream.on('response', (h) => resolve(Number(h[':status']))));
        expect(status).to.equal(408);
        expect(performance.now() - started).to.be.within(BODY_S * 1000 - 100, BODY_S * 1000 + SLACK_MS);
      } finally {
        session.destroy();
      }
    });

    it('a body that keeps coming, however slowly, is not cut', async () => {
      const c = await rawConnect(tlsOpts());
      c.write('POST /echo HTTP/1.1\r\nHost: a.test\r\nContent-Length: 6\r\n\r\n');
      for (const ch of 'abcdef') {
        await sleep(800);
        c.write(ch);
      }
      await sleep(500);
      expect(c.received()).to.match(/^HTTP\/1\.1 200 /);
      c.destroy();
    });
  });

  describe("a site's own timers", () => {
    it('keep-alive and body timers of the site the connection and the request are for', async () => {
      const c = await rawConnect({ port: gh.httpsPort, tls: { servername: 'quick.test', ca } });
      c.write('POST /x HTTP/1.1\r\nHost: quick.test\r\nContent-Length: 10\r\n\r\n01234');
      const { ms, data } = await closesWithin(c, 1000 + SLACK_MS + 1000);
      expect(data).to.match(/^HTTP\/1\.1 408 /);
      expect(ms).to.be.within(1000 - 100, 1000 + SLACK_MS);
      const ka = await rawConnect({ port: gh.httpsPort, tls: { servername: 'quick.test', ca } });
      ka.write('GET /ka HTTP/1.1\r\nHost: quick.test\r\n\r\n');
      const closed = await closesWithin(ka, KEEPALIVE_S * 1000);
      expect(ka.received()).to.match(/^HTTP\/1\.1 204 /);
      // Node closes one second after the keep-alive it advertises; the top level's would be 3 s + 1 s.
      expect(closed.ms).to.be.within(1000 - 100, 1000 + 1000 + SLACK_MS);
    });
  });

  describe('the same probes against nginx 1.22 with the same timers', () => {
    let nginx: Peer;
    let port: number;
    let log: string;
    before(async () => {
      port = await freePort();
      const ndir = tempDir('gh-timeouts-nginx-');
      log = path.join(ndir, 'access.log');
      nginx = await startNginx(
        ndir,
        `client_header_timeout ${HEADER_S}s; client_body_timeout ${BODY_S}s; keepalive_timeout ${KEEPALIVE_S}s; send_timeout ${SEND_S}s;
  server { listen 127.0.0.1:${port}; access_log ${log};
    location /silent/ { proxy_pass http://127.0.0.1:${silent.port}; proxy_request_buffering off; }
    location / { return 200 "ok\\n"; } }`,
        port,
      );
    });
    after(async () => {
      await nginx?.stop();
    });

    it('Slowloris, an idle connection and a stopped body: nginx closes at the same time (and logs 408)', async () => {
      const loris = await rawConnect({ port });
      loris.write('GET / HTTP/1.1\r\nHost: a.test\r\n');
      loris.drip('X-a: b\r\n', 300);
      const idle = await rawConnect({ port });
      const body = await rawConnect({ port });
      body.write('POST /silent/upload HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100\r\n\r\n0123456789');
      const results = await Promise.all([loris, idle, body].map((c) => closesWithin(c, 6000)));
      for (const r of results) expect(r.ms).to.be.within(HEADER_S * 1000 - 100, HEADER_S * 1000 + SLACK_MS);
      // nginx closes without an answer; gatehouse answers 408 first (tested above).
      for (const r of results) expect(r.data).to.equal('');
      const statuses = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => / (\d{3}) /.exec(l)?.[1]);
      expect(statuses).to.deep.equal(['408', '408']);
    });

    it('keep-alive: nginx closes an idle connection after keepalive_timeout', async () => {
      const c = await rawConnect({ port });
      c.write('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n');
      const { ms } = await closesWithin(c, 8000);
      expect(ms).to.be.within(KEEPALIVE_S * 1000 - 100, KEEPALIVE_S * 1000 + SLACK_MS);
    });
  });
});
