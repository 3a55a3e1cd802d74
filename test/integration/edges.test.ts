// Edges of the proxy core: the access log formats, oversized headers, malformed requests that must
// not take the process down, and TLS session resumption.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { curl } from '../helpers/curl.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { startGatehouse, type Gatehouse } from '../helpers/gatehouse.js';

function rawTls(port: number, servername: string, ca: Buffer, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // Written without a FIN: the server closes after its answer (HTTP/1.0 or Connection: close).
    const socket = tls.connect({ port, host: '127.0.0.1', servername, ca, ALPNProtocols: ['http/1.1'] }, () => socket.write(payload));
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (out += d));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy());
  });
}

describe('proxy core edges (integration)', function () {
  this.timeout(60_000);
  let backend: EchoBackend;
  let combined: Gatehouse;
  let json: Gatehouse;

  before(async () => {
    backend = await startEchoBackend();
    // Uploads of 8 MiB go through `/` (maxBody 0: no limit); /limited/ keeps nginx's default of 1m.
    const sites = [{ hosts: ['e.test'], maxBody: 0, routes: [{ location: '/limited/', proxy: backend.url, maxBody: '1m' }, { location: '/', proxy: backend.url }] }];
    combined = await startGatehouse(({ dir }) => ({ log: { access: path.join(dir, 'access.log'), format: 'combined' }, sites }));
    json = await startGatehouse(({ dir }) => ({ log: { access: path.join(dir, 'access.log'), format: 'json' }, sites }));
  });
  after(async () => {
    await combined?.stop();
    await json?.stop();
    await backend?.close();
  });

  const readLog = async (gh: Gatehouse, pattern: RegExp): Promise<string> => {
    const file = path.join(gh.dir, 'access.log');
    const deadline = Date.now() + 5000;
    for (;;) {
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      const line = text.split('\n').find((l) => pattern.test(l));
      if (line) return line;
      if (Date.now() > deadline) throw new Error(`no access log line matching ${pattern} in:\n${text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it("writes nginx's combined lines (the protocol of the request line included)", async () => {
    await curl([...combined.curlArgs('e.test', '/logged?a=1'), '--http2', '-A', 'agent "x"', '-e', 'https://ref.test/']);
    const line = await readLog(combined, /logged/);
    expect(line).to.match(
      new RegExp(
        String.raw`^127\.0\.0\.1 - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET /logged\?a=1 HTTP/2\.0" 200 \d+ ` +
          String.raw`"https://ref\.test/" "agent \\x22x\\x22"$`,
      ),
    );
  });

  it('writes one JSON object per request when format is json', async () => {
    await curl([...json.curlArgs('e.test', '/as-json'), '--http1.1']);
    const record = JSON.parse(await readLog(json, /as-json/)) as Record<string, unknown>;
    expect(record).to.include({ method: 'GET', target: '/as-json', protocol: 'HTTP/1.1', status: 200, host: 'e.test', tlsVersion: 'TLSv1.3' });
    expect(record.upstreamAddr).to.equal(`127.0.0.1:${backend.port}`);
    expect(record.requestTime).to.be.a('number');
  });

  it('answers 431 to request headers over the limit', async () => {
    const r = await curl([...combined.curlArgs('e.test', '/'), '--http1.1', '-H', `X-Big: ${'a'.repeat(40_000)}`]);
    expect(r.status).to.equal(431);
  });

  it('survives malformed and hostile requests and keeps serving', async () => {
    const ca = fs.readFileSync(combined.caFile);
    const port = combined.httpsPort;
    // HTTP/1.0 without Host (crashed a hand-written Node proxy in docs/performance.md).
    expect(await rawTls(port, 'e.test', ca, 'GET / HTTP/1.0\r\n\r\n')).to.match(/^HTTP\/1\.1 200/);
    expect(await rawTls(port, 'e.test', ca, 'GET / HTTP/1.1\r\n\r\n')).to.match(/^HTTP\/1\.1 400/);
    expect(await rawTls(port, 'e.test', ca, 'GARBAGE\r\n\r\n')).to.match(/^HTTP\/1\.1 400/);
    expect(await rawTls(port, 'e.test', ca, 'GET /%zz HTTP/1.1\r\nHost: e.test\r\n\r\n')).to.match(/^HTTP\/1\.1 400/);
    expect(await rawTls(port, 'e.test', ca, 'GET /%00 HTTP/1.1\r\nHost: e.test\r\n\r\n')).to.match(/^HTTP\/1\.1 400/);
    expect(await rawTls(port, 'e.test', ca, 'GET http://e.test/abs HTTP/1.1\r\nHost: e.test\r\nConnection: close\r\n\r\n')).to.match(/^HTTP\/1\.1 200/);
    // A plain-text request on the TLS port and a half-open handshake.
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.end('GET / HTTP/1.1\r\nHost: e.test\r\n\r\n'));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
      s.resume();
    });
    const r = await curl(combined.curlArgs('e.test', '/still-alive'));
    expect(r.status).to.equal(200);
    expect(combined.peer.output()).to.not.match(/uncaught exception|unhandled rejection/);
  });

  it('answers a malformed pipelined request only after the response in flight, whole', async () => {
    const ca = fs.readFileSync(combined.caFile);
    // nginx reads a pipelined request only once the one before it is answered; Node's parser sees the
    // bad one at once, while the first response is still on its way.
    const out = await rawTls(combined.httpsPort, 'e.test', ca, 'GET /slow/300 HTTP/1.1\r\nHost: e.test\r\n\r\nGARBAGE\r\n\r\n');
    const first = /^HTTP\/1\.1 200 [^]*?\r\n\r\nslow\n/.exec(out);
    expect(first, out).to.not.equal(null);
    expect(out.slice(first![0].length)).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });

  it('answers 400 at once to a request whose chunked body is malformed', async () => {
    const ca = fs.readFileSync(combined.caFile);
    const t0 = Date.now();
    const out = await rawTls(combined.httpsPort, 'e.test', ca, 'POST /echo HTTP/1.1\r\nHost: e.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n');
    expect(out).to.match(/^HTTP\/1\.1 400 /);
    expect(Date.now() - t0).to.be.below(3000);
  });

  describe('request bodies the response does not wait for', () => {
    const upload = Buffer.alloc(8 * 1024 * 1024, 'u');
    let file: string;
    before(() => {
      file = path.join(combined.dir, 'upload.bin');
      fs.writeFileSync(file, upload);
    });

    it('HTTP/1.1: a backend that answers before the body is read; the rest is discarded and the connection serves the next request', async () => {
      const t0 = Date.now();
      const base = `https://e.test:${combined.httpsPort}`;
      const out = await new Promise<string>((resolve, reject) =>
        execFile(
          'curl',
          ['-sS', '--max-time', '30', '--http1.1', '--cacert', combined.caFile, '--resolve', `e.test:${combined.httpsPort}:127.0.0.1`,
            '-H', 'Expect:', '--data-binary', `@${file}`, '-w', '%{http_code} %{num_connects}\n', '-o', '/dev/null', '-o', '/dev/null',
            `${base}/early`, `${base}/after-early`],
          (err, stdout) => (err ? reject(err) : resolve(stdout)),
        ),
      );
      // Before the fix the client stalled with half its upload sent until a timeout (60 s).
      expect(Date.now() - t0).to.be.below(10_000);
      expect(out.trim().split('\n')).to.deep.equal(['200 1', '200 0']); // the second one reused the connection
    });

    it('HTTP/1.1 Expect: 100-continue: no 100 for a body over maxBody, so none is sent; a 100 when the proxy reads it', async () => {
      const over = await curl([...combined.curlArgs('e.test', '/limited/x'), '--http1.1', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, '-v'], 20_000);
      expect(over.status).to.equal(413);
      expect(over.stderr).to.not.match(/< HTTP\/1\.1 100/);
      expect(over.headers.connection).to.deep.equal(['close']);
      const through = await curl([...combined.curlArgs('e.test', '/echo-100'), '--http1.1', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, '-v'], 20_000);
      expect(through.status).to.equal(200);
      expect(through.stderr).to.match(/< HTTP\/1\.1 100 Continue/);
      const seen = backend.seen.find((s) => s.url === '/echo-100');
      expect(seen?.bodyLength).to.equal(upload.length);
    });

    it('HTTP/2 Expect: 100-continue: a 100 when the proxy reads the body, none before a 413', async () => {
      const session = http2.connect(`https://127.0.0.1:${combined.httpsPort}`, { ca: fs.readFileSync(combined.caFile), servername: 'e.test' });
      try {
        const post = (p: string, body: Buffer) =>
          new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
            const stream = session.request({ ':method': 'POST', ':path': p, ':authority': 'e.test', expect: '100-continue', 'content-length': body.length });
            let continued = false;
            let status = 0;
            stream.on('continue', () => {
              continued = true;
              stream.end(body);
            });
            stream.on('response', (h) => (status = Number(h[':status'])));
            stream.on('error', () => undefined);
            stream.on('close', () => resolve({ status, continued }));
            stream.resume();
            setTimeout(() => reject(new Error(`no answer for ${p} within 5 s`)), 5000).unref();
          });
        expect(await post('/echo-h2-100', upload)).to.deep.equal({ status: 200, continued: true });
        expect(backend.seen.find((s) => s.url === '/echo-h2-100')?.bodyLength).to.equal(upload.length);
        expect(await post('/limited/h2-100', upload)).to.deep.equal({ status: 413, continued: false });
      } finally {
        session.close();
      }
    });

    it('HTTP/2: the stream is ended with RST_STREAM NO_ERROR after the complete response; the connection keeps serving', async () => {
      const session = http2.connect(`https://127.0.0.1:${combined.httpsPort}`, { ca: fs.readFileSync(combined.caFile), servername: 'e.test' });
      try {
        const result = await new Promise<{ status: number; body: string; rstCode: number }>((resolve, reject) => {
          const stream = session.request({ ':method': 'POST', ':path': '/early', ':authority': 'e.test' });
          let status = 0;
          let body = '';
          stream.on('response', (h) => (status = Number(h[':status'])));
          stream.setEncoding('utf8');
          stream.on('data', (c: string) => (body += c));
          stream.on('error', () => undefined); // the write side sees the reset
          stream.on('close', () => resolve({ status, body, rstCode: stream.rstCode ?? -1 }));
          stream.end(upload);
          setTimeout(() => reject(new Error('the stream did not close within 10 s')), 10_000).unref();
        });
        expect(result).to.deep.equal({ status: 200, body: 'early\n', rstCode: http2.constants.NGHTTP2_NO_ERROR });
        const next = await new Promise<number>((resolve, reject) => {
          const stream = session.request({ ':path': '/after-h2', ':authority': 'e.test' });
          stream.on('response', (h) => resolve(Number(h[':status'])));
          stream.on('error', reject);
          stream.resume();
        });
        expect(next).to.equal(200);
      } finally {
        session.close();
      }
    });
  });

  it('serves an RSA site its own certificate behind an ECDSA default site', async () => {
    // Regression: Node's SNICallback adds the chosen certificate next to the default one (one per
    // key type), so clients preferring ECDSA used to get the default site's certificate.
    const dir = combined.dir;
    const key = path.join(dir, 'rsa.key');
    const cert = path.join(dir, 'rsa.crt');
    await new Promise<void>((resolve, reject) =>
      execFile(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=rsa.test', '-addext', 'subjectAltName=DNS:rsa.test'],
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    const gh = await startGatehouse(() => ({
      log: { access: 'off' },
      sites: [
        { hosts: ['ec.test'], tls: 'internal', routes: [{ location: '/', return: '200 ec' }] },
        { hosts: ['rsa.test'], tls: { cert, key }, routes: [{ location: '/', return: '200 rsa' }] },
      ],
    }));
    try {
      const san = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ port: gh.httpsPort, host: '127.0.0.1', servername: 'rsa.test', rejectUnauthorized: false }, () => {
          resolve(s.getPeerCertificate().subjectaltname ?? '');
          s.destroy();
        });
        s.on('error', reject);
      });
      expect(san).to.equal('DNS:rsa.test');
      const r = await curl(['--cacert', cert, '--resolve', `rsa.test:${gh.httpsPort}:127.0.0.1`, `https://rsa.test:${gh.httpsPort}/`]);
      expect(r.body.toString()).to.equal('rsa');
    } finally {
      await gh.stop();
    }
  });

  it('resumes TLS sessions (tickets)', async () => {
    const ca = fs.readFileSync(combined.caFile);
    const connect = (session?: Buffer) =>
      new Promise<{ reused: boolean; session: Buffer | undefined }>((resolve, reject) => {
        let ticket: Buffer | undefined;
        const s = tls.connect({ port: combined.httpsPort, host: '127.0.0.1', servername: 'e.test', ca, session, maxVersion: 'TLSv1.2' }, () => {
          const reused = s.isSessionReused();
          s.end();
          s.once('close', () => resolve({ reused, session: ticket ?? s.getSession() }));
        });
        s.on('session', (t: Buffer) => (ticket = t));
        s.on('error', reject);
        s.resume();
      });
    const first = await connect();
    expect(first.reused).to.equal(false);
    const second = await connect(first.session);
    expect(second.reused).to.equal(true);
  });
});
