// issue 19: PROXY protocol v1 and v2 on listeners, behind Debian's haproxy 2.6 (mode tcp,
// send-proxy / send-proxy-v2). haproxy listens on 127.0.0.1 and connects to gatehouse from
// 127.0.0.1; clients connect to haproxy from 127.0.0.2 and 127.0.0.3 (curl --interface), so only
// the header can tell gatehouse who they are. What a refused connection looks like is compared with
// real nginx 1.22 (`listen ... proxy_protocol`).
import { expect } from 'chai';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { Duplex } from 'node:stream';
import path from 'node:path';
import tls from 'node:tls';
import { parse } from 'yaml';
import { curl } from '../helpers/curl.js';
import { startEchoBackend, type EchoBackend, type SeenRequest } from '../helpers/echo-backend.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { startHaproxy, type Haproxy } from '../helpers/haproxy.js';
import { freePort } from '../helpers/ports.js';
import { startNginx } from '../helpers/cgi-peers.js';
import type { Peer } from '../helpers/process.js';
import { parseProxyHeader } from '../../src/listener/proxy-protocol.js';

/** What a client got on one raw connection: the bytes, and whether the server closed it. */
interface RawAnswer {
  bytes: string;
  closedByServer: boolean;
}

/** Writes `parts` (with `gapMs` between them) and reads until the server closes or `waitMs` passes. */
function rawExchange(port: number, parts: Array<string | Buffer>, gapMs = 0, waitMs = 3000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let bytes = '';
    let closedByServer = false;
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('connect', async () => {
      for (const [i, p] of parts.entries()) {
        if (i > 0 && gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        if (!socket.destroyed) socket.write(p);
      }
    });
    socket.on('data', (d: Buffer) => (bytes += d.toString('latin1')));
    socket.on('end', () => (closedByServer = true));
    socket.on('error', () => (closedByServer = true));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ bytes, closedByServer });
    });
  });
}

/**
 * What haproxy sends to a server, connection by connection, up to the end of the request head: its
 * PROXY header as it is on the wire. (haproxy also connects for the probes that wait for its ports.)
 */
async function startCapture(): Promise<{ port: number; got: Buffer[]; close(): void }> {
  const got: Buffer[] = [];
  const server = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      // Kept before the socket closes, so it is there by the time the client's curl has returned.
      // (v2's signature itself holds a CRLF CRLF: look after the header.)
      const h = parseProxyHeader(buf);
      if (h.kind === 'header' && buf.indexOf('\r\n\r\n', h.length) !== -1) {
        got.push(buf);
        s.destroy();
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, got, close: () => server.close() };
}

describe('PROXY protocol behind haproxy (integration)', function () {
  this.timeout(60_000);
  const dir = tempDir('gh-pp-');
  let backend: EchoBackend;
  let gh: Gatehouse;
  let haproxy: Haproxy;
  let nginx: Peer;
  let capture1: Awaited<ReturnType<typeof startCapture>>;
  let capture2: Awaited<ReturnType<typeof startCapture>>;
  const ports = { http: 0, https: 0, untrusted: 0, nginx: 0 };
  const accessLog = path.join(dir, 'access.log');

  before(async () => {
    backend = await startEchoBackend();
    capture1 = await startCapture();
    capture2 = await startCapture();
    for (const k of Object.keys(ports) as Array<keyof typeof ports>) ports[k] = await freePort();
    gh = await startGatehouse(() => ({
      listen: {
        http: [
          { address: `127.0.0.1:${ports.http}`, proxyProtocol: true, trusted: ['127.0.0.1'] },
          // haproxy (127.0.0.1) is not among this listener's balancers.
          { address: `127.0.0.1:${ports.untrusted}`, proxyProtocol: true, trusted: ['10.0.0.0/8', '::1'] },
        ],
        https: { address: `127.0.0.1:${ports.https}`, proxyProtocol: true, trusted: ['127.0.0.0/30'] },
      },
      // Behind the balancer, a proxy at 127.0.0.4 is trusted for X-Forwarded-For: applied after the header.
      trustedProxies: ['127.0.0.4'],
      log: { access: accessLog },
      // The header waits under client_header_timeout (from accept), as nginx's proxy_protocol read does:
      // the same 3s on both sides for the comparison below (the default, 60s, would be the same test, slower).
      timeouts: { header: '3s' },
      sites: [
        {
          hosts: ['pp.test'],
          default: true,
          tls: 'internal',
          redirect: 'off',
          routes: [
            // 1r/m: nothing leaks out of the bucket while the test runs, so counts are exact.
            { location: '/limited/', proxy: backend.url, rateLimit: { rate: '1r/m', burst: 1 } },
            { location: '/only-2/', proxy: backend.url, access: [{ allow: '127.0.0.2' }, { deny: 'all' }] },
            { location: '/', proxy: backend.url },
          ],
        },
      ],
    }));
    haproxy = await startHaproxy(dir, [
      { name: 'v1http', to: ports.http, send: 'send-proxy' },
      { name: 'v2http', to: ports.http, send: 'send-proxy-v2' },
      { name: 'v1https', to: ports.https, send: 'send-proxy' },
      { name: 'v2https', to: ports.https, send: 'send-proxy-v2' },
      { name: 'untrusted', to: ports.untrusted, send: 'send-proxy-v2' },
      { name: 'noheader', to: ports.http, send: '' },
      { name: 'capture1', to: capture1.port, send: 'send-proxy' },
      { name: 'capture2', to: capture2.port, send: 'send-proxy-v2' },
    ]);
    nginx = await startNginx(
      dir,
      `client_header_timeout 3s;
  server { listen 127.0.0.1:${ports.nginx} proxy_protocol; set_real_ip_from 127.0.0.1; real_ip_header proxy_protocol;
    location / { return 200 "$remote_addr\\n"; } }`,
      ports.nginx,
    );
  });

  after(async () => {
    await haproxy?.stop();
    await nginx?.stop();
    await gh?.stop();
    await backend?.close();
    capture1?.close();
    capture2?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const viaHttp = (route: string, p: string, client = '127.0.0.2', extra: string[] = []) =>
    curl(['--interface', client, ...extra, `http://pp.test:${haproxy.ports[route]}${p}`, '--resolve', `pp.test:${haproxy.ports[route]}:127.0.0.1`]);
  const viaHttps = (route: string, p: string, client = '127.0.0.2', extra: string[] = []) =>
    curl(['--interface', client, '--cacert', gh.caFile, ...extra, '--resolve', `pp.test:${haproxy.ports[route]}:127.0.0.1`, `https://pp.test:${haproxy.ports[route]}${p}`]);
  const seen = (url: string): SeenRequest | undefined => backend.seen.find((s) => s.url === url);

  it('reads haproxy\'s own v1 and v2 headers (captured on the wire) as the client connecting to it', async () => {
    await viaHttp('capture1', '/c1');
    await viaHttp('capture2', '/c2');
    for (const [capture, version, p] of [[capture1, 1, '/c1'], [capture2, 2, '/c2']] as const) {
      const bytes = capture.got.find((b) => b.includes(`GET ${p} `));
      expect(bytes, `haproxy sent ${p}`).to.not.equal(undefined);
      const h = parseProxyHeader(bytes!);
      expect(h.kind === 'header' && [h.version, h.source?.address]).to.deep.equal([version, '127.0.0.2']);
      // The request follows the header, untouched.
      expect(bytes!.toString('latin1', h.kind === 'header' ? h.length : 0)).to.match(new RegExp(`^GET ${p} HTTP/1\\.1\r\n`));
    }
  });

  for (const route of ['v1http', 'v2http'] as const) {
    it(`${route}: the upstream sees the client, not haproxy, in X-Forwarded-For and X-Real-IP`, async () => {
      const r = await viaHttp(route, `/who/${route}`);
      expect(r.status).to.equal(200);
      const s = seen(`/who/${route}`);
      expect(s?.headers['x-forwarded-for']).to.equal('127.0.0.2');
      expect(s?.headers['x-real-ip']).to.equal('127.0.0.2');
    });
  }

  for (const [route, proto, version] of [
    ['v1https', '--http2', '2'],
    ['v2https', '--http2', '2'],
    ['v2https', '--http1.1', '1.1'],
  ] as const) {
    it(`${route} ${proto}: TLS passed through haproxy, the client address from the header`, async () => {
      const p = `/tls/${route}/${version}`;
      const r = await viaHttps(route, p, '127.0.0.3', [proto]);
      expect([r.status, r.httpVersion], r.stderr).to.deep.equal([200, version]);
      expect(seen(p)?.headers['x-real-ip']).to.equal('127.0.0.3');
      expect(seen(p)?.headers['x-forwarded-for']).to.equal('127.0.0.3');
    });
  }

  it('writes the header\'s address as $remote_addr in the access log', async () => {
    await viaHttp('v2http', '/logged/v2');
    await viaHttps('v1https', '/logged/v1tls', '127.0.0.3', ['--http2']);
    const deadline = Date.now() + 5000;
    let log = '';
    while (Date.now() < deadline) {
      log = fs.existsSync(accessLog) ? fs.readFileSync(accessLog, 'utf8') : '';
      if (log.includes('/logged/v1tls')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(log).to.match(/^127\.0\.0\.2 - - \[[^\]]+\] "GET \/logged\/v2 HTTP\/1\.1" 200 /m);
    expect(log).to.match(/^127\.0\.0\.3 - - \[[^\]]+\] "GET \/logged\/v1tls HTTP\/2\.0" 200 /m);
    expect(log).to.not.match(/^127\.0\.0\.1 /m);
  });

  it('counts rate limits per client behind the balancer: two clients, two buckets', async () => {
    const a: number[] = [];
    for (let i = 0; i < 3; i++) a.push((await viaHttp(i % 2 ? 'v1http' : 'v2http', `/limited/a${i}`, '127.0.0.2')).status);
    expect(a, '127.0.0.2: rate 1 + burst 1, then 429').to.deep.equal([200, 200, 429]);
    const b = await viaHttps('v2https', '/limited/b', '127.0.0.3', ['--http2']);
    expect(b.status, '127.0.0.3 has its own bucket, although haproxy connects from 127.0.0.1 for both').to.equal(200);
  });

  it('applies trustedProxies on top of the header: a trusted proxy behind the balancer passes its client on', async () => {
    const r = await viaHttp('v2http', '/xff/trusted', '127.0.0.4', ['-H', 'X-Forwarded-For: 203.0.113.9']);
    expect(r.status).to.equal(200);
    expect(seen('/xff/trusted')?.headers['x-real-ip']).to.equal('203.0.113.9');
    // 127.0.0.2 is not a trusted proxy: its X-Forwarded-For is kept as a hop, the client is still 127.0.0.2.
    await viaHttp('v2http', '/xff/untrusted', '127.0.0.2', ['-H', 'X-Forwarded-For: 203.0.113.9']);
    expect(seen('/xff/untrusted')?.headers['x-real-ip']).to.equal('127.0.0.2');
  });

  it('matches allow/deny against the header\'s address', async () => {
    expect((await viaHttp('v1http', '/only-2/x', '127.0.0.2')).status).to.equal(200);
    expect((await viaHttps('v2https', '/only-2/y', '127.0.0.3', ['--http2'])).status).to.equal(403);
  });

  it('refuses a peer that is not in trusted, even with a valid header, and logs it', async () => {
    const r = await viaHttp('untrusted', '/untrusted');
    expect(r.status).to.equal(0);
    expect(seen('/untrusted')).to.equal(undefined);
    await gh.peer.waitForOutput(/PROXY protocol: refused connection from 127\.0\.0\.1: not in the listener's trusted list/, 5000);
  });

  it('refuses a trusted peer without a header (haproxy without send-proxy, curl straight to the listener), and logs it', async () => {
    const viaBalancer = await viaHttp('noheader', '/noheader');
    expect(viaBalancer.status).to.equal(0);
    const direct = await curl([`http://127.0.0.1:${ports.http}/direct`]);
    expect(direct.status).to.equal(0);
    const directTls = await curl(['--cacert', gh.caFile, '--resolve', `pp.test:${ports.https}:127.0.0.1`, `https://pp.test:${ports.https}/direct-tls`]);
    expect(directTls.status).to.equal(0);
    expect([seen('/noheader'), seen('/direct'), seen('/direct-tls')]).to.deep.equal([undefined, undefined, undefined]);
    await gh.peer.waitForOutput(/PROXY protocol: broken header from 127\.0\.0\.1: not a PROXY protocol header/, 5000);
  });

  it('takes a header split across reads, then TLS over the same connection', async () => {
    const socket = net.connect({ port: ports.https, host: '127.0.0.1' });
    await new Promise((r) => socket.once('connect', r));
    socket.write('PROXY TCP6 2001:db8::7 ::1 4');
    await new Promise((r) => setTimeout(r, 100));
    socket.write('4444 443\r\n');
    const t = tls.connect({ socket, servername: 'pp.test', ca: fs.readFileSync(gh.caFile), ALPNProtocols: ['http/1.1'] });
    const answer = await new Promise<string>((resolve, reject) => {
      let got = '';
      t.on('secureConnect', () => t.write('GET /split HTTP/1.1\r\nHost: pp.test\r\nConnection: close\r\n\r\n'));
      t.on('data', (d: Buffer) => (got += d.toString()));
      t.on('end', () => resolve(got));
      t.on('error', reject);
    });
    expect(answer).to.match(/^HTTP\/1\.1 200 /);
    expect(seen('/split')?.headers['x-real-ip']).to.equal('2001:db8::7');
  });

  it('takes a header and the ClientHello in one segment, and serves HTTP/2 on it', async () => {
    const raw = net.connect({ port: ports.https, host: '127.0.0.1' });
    await new Promise((r) => raw.once('connect', r));
    // The TLS client writes through this stream; its first write (the ClientHello) goes out in one
    // socket write with the header in front, as a balancer that coalesces them would send it.
    let first = true;
    const header = Buffer.from('PROXY TCP4 198.51.100.5 127.0.0.1 5555 443\r\n');
    const wrapper = new Duplex({
      write(chunk: Buffer, _enc, cb) {
        raw.write(first ? Buffer.concat([header, chunk]) : chunk, cb);
        first = false;
      },
      read() {
        raw.resume();
      },
      final(cb) {
        raw.end();
        cb();
      },
      destroy(err, cb) {
        raw.destroy();
        cb(err);
      },
    });
    raw.on('data', (d: Buffer) => {
      if (!wrapper.push(d)) raw.pause();
    });
    raw.on('end', () => wrapper.push(null));
    const session = http2.connect(`https://pp.test:${ports.https}`, {
      createConnection: () => tls.connect({ socket: wrapper, servername: 'pp.test', ca: fs.readFileSync(gh.caFile), ALPNProtocols: ['h2'] }),
    });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':path': '/coalesced', ':authority': 'pp.test' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.resume();
        req.end();
      });
      expect(status).to.equal(200);
    } finally {
      session.close();
      raw.destroy();
    }
    expect(seen('/coalesced')?.headers['x-real-ip']).to.equal('198.51.100.5');
  });

  it('a reload (SIGHUP) gives a kept listener its new trusted list, without a rebind', async () => {
    const config = parse(fs.readFileSync(gh.configFile, 'utf8')) as { listen: { http: Array<{ trusted: string[] }> } };
    config.listen.http[1]!.trusted = ['127.0.0.1'];
    gh.writeConfig(config);
    const reloads = (gh.peer.output().match(/configuration reloaded/g) ?? []).length;
    process.kill(gh.peer.pid, 'SIGHUP');
    const deadline = Date.now() + 10_000;
    while ((gh.peer.output().match(/configuration reloaded/g) ?? []).length === reloads) {
      if (Date.now() > deadline) throw new Error(`no reload:\n${gh.peer.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await viaHttp('untrusted', '/now-trusted');
    expect(r.status).to.equal(200);
    expect(seen('/now-trusted')?.headers['x-real-ip']).to.equal('127.0.0.2');
  });

  describe('refused connections, compared with nginx 1.22 (listen ... proxy_protocol)', () => {
    const cases: Array<[string, Array<string | Buffer>]> = [
      ['no header (a plain request)', ['GET / HTTP/1.1\r\nHost: pp.test\r\nConnection: close\r\n\r\n']],
      ['a broken v1 header', ['PROXY TCP4 1.2.3\r\nGET / HTTP/1.1\r\nHost: pp.test\r\n\r\n']],
      // Version 3: nginx "unknown PROXY protocol version". (An unknown v2 *command* nginx skips as LOCAL;
      // gatehouse closes, as proxy-protocol.txt §2.2 tells a receiver to: see the codec's unit tests.)
      ['a v2 signature with version 3', [Buffer.concat([Buffer.from('0d0a0d0a000d0a515549540a', 'hex'), Buffer.from([0x31, 0x11, 0, 12]), Buffer.alloc(12)])]],
    ];
    for (const [what, parts] of cases) {
      it(`closes at once without an answer: ${what}`, async () => {
        const [fromNginx, fromGatehouse] = await Promise.all([rawExchange(ports.nginx, parts), rawExchange(ports.http, parts)]);
        expect(fromNginx).to.deep.equal({ bytes: '', closedByServer: true });
        expect(fromGatehouse).to.deep.equal(fromNginx);
      });
    }

    it('closes a connection that sends nothing after client_header_timeout, without an answer', async () => {
      const started = Date.now();
      const [fromNginx, fromGatehouse] = await Promise.all([rawExchange(ports.nginx, [], 0, 8000), rawExchange(ports.http, [], 0, 8000)]);
      const took = Date.now() - started;
      expect(fromNginx).to.deep.equal({ bytes: '', closedByServer: true });
      expect(fromGatehouse).to.deep.equal(fromNginx);
      // 3s, and the guard's sweep fires up to one period (500 ms) late.
      expect(took).to.be.within(2900, 5000);
    });

    it('waits for the rest of a header a balancer split (nginx 1.22 wants it in one read), within the same timeout', async () => {
      const started = Date.now();
      const fromGatehouse = await rawExchange(ports.http, ['PROXY TCP4 192.0.2.', '45 127.0.0.1 5555 80\r\nGET /late HTTP/1.1\r\nHost: pp.test\r\nConnection: close\r\n\r\n'], 500);
      expect(fromGatehouse.bytes).to.match(/^HTTP\/1\.1 200 /);
      expect(seen('/late')?.headers['x-real-ip']).to.equal('192.0.2.45');
      const stalled = await rawExchange(ports.http, ['PROXY TCP4 192.0.2.'], 0, 8000);
      expect(stalled).to.deep.equal({ bytes: '', closedByServer: true });
      expect(Date.now() - started).to.be.within(2900 + 500, 5500);
    });

    it('serves a valid v1 header with the request in the same segment, both with the header\'s address', async () => {
      const req = 'PROXY TCP4 192.0.2.44 127.0.0.1 5555 80\r\nGET /same HTTP/1.1\r\nHost: pp.test\r\nConnection: close\r\n\r\n';
      const [fromNginx, fromGatehouse] = await Promise.all([rawExchange(ports.nginx, [req]), rawExchange(ports.http, [req])]);
      expect(fromNginx.bytes).to.match(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\n192\.0\.2\.44\n$/);
      expect(fromGatehouse.bytes).to.match(/^HTTP\/1\.1 200 /);
      expect(seen('/same')?.headers['x-real-ip']).to.equal('192.0.2.44');
    });
  });
});
