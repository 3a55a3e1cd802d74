// An HTTP/1.1 request with `Connection: Upgrade` that gatehouse does not tunnel (h2c, or a route
// with `upgrade: off`) is served as a plain request, as nginx serves it when the location does not
// proxy with Upgrade/Connection set. Node hands such a request over through its 'upgrade' event with
// the body still on the socket: the body must reach the backend whole, exactly Content-Length
// bytes, and nothing after it may run as a request of its own (smuggling). nginx 1.22 answers the
// same bytes beside it.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginx, startPhpFpm } from '../helpers/cgi-peers.js';
import { patternChunk, startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import type { Peer } from '../helpers/process.js';
import { rawConnect } from '../helpers/raw-client.js';
import crypto from 'node:crypto';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/php');
const H2C = 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n';

/**
 * Writes `parts` (a pause between them, so the body does not all come with the head) and returns
 * everything received until the server closes, or until `waitMs`.
 */
async function exchange(port: number, parts: (string | Buffer)[], waitMs = 3000): Promise<{ status: number; text: string; closed: boolean }> {
  const c = await rawConnect({ port });
  for (const [i, part] of parts.entries()) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100));
    c.write(part);
  }
  let closed = true;
  const { data } = await Promise.race([
    c.closed,
    new Promise<{ data: string }>((r) =>
      setTimeout(() => {
        closed = false;
        c.destroy();
        r({ data: c.received() });
      }, waitMs),
    ),
  ]);
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0), text: data, closed };
}

const sha256 = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');
/** The JSON body of a raw response, de-chunked when it came chunked (nginx's FastCGI answers do). */
function jsonBody(text: string): Record<string, unknown> {
  const at = text.indexOf('\r\n\r\n');
  let body = text.slice(at + 4);
  if (/\r\ntransfer-encoding: chunked\r\n/i.test(text.slice(0, at + 2))) {
    let out = '';
    for (let size = parseInt(body, 16); size > 0; size = parseInt(body, 16)) {
      const start = body.indexOf('\r\n') + 2;
      out += body.slice(start, start + size);
      body = body.slice(start + size + 2);
    }
    body = out;
  }
  return JSON.parse(body) as Record<string, unknown>;
}

describe('a refused Upgrade keeps its request body (integration)', function () {
  this.timeout(60_000);
  let backend: EchoBackend;
  let fpm: Peer;
  let gh: Gatehouse;
  let nginx: Peer;
  let nginxPort: number;

  before(async () => {
    const dir = tempDir('gh-upgrade-body-');
    const www = path.join(dir, 'www');
    fs.cpSync(FIXTURES, www, { recursive: true });
    const fpmPort = await freePort();
    [backend, fpm] = await Promise.all([startEchoBackend(), startPhpFpm(dir, [{ name: 'tcp', listen: `127.0.0.1:${fpmPort}` }])]);
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      sites: [
        {
          hosts: ['a.test'],
          tls: 'off',
          routes: [
            { location: '~ \\.php$', proxy: `fastcgi://127.0.0.1:${fpmPort}`, root: www },
            { location: '/off/', proxy: backend.url, upgrade: 'off' },
            { location: '/', proxy: backend.url },
          ],
        },
        { hosts: ['slow.test'], tls: 'off', timeouts: { body: '1s' }, routes: [{ location: '/', proxy: backend.url }] },
      ],
    }));
    nginxPort = await freePort();
    nginx = await startNginx(
      tempDir('gh-upgrade-body-nginx-'),
      `server { listen 127.0.0.1:${nginxPort}; server_name a.test; root ${www};
    location / { proxy_pass ${backend.url}; }
    location ~ \\.php$ { include fastcgi.conf; fastcgi_pass 127.0.0.1:${fpmPort}; } }`,
      nginxPort,
    );
  });
  after(async () => {
    await gh?.stop();
    await nginx?.stop();
    await fpm?.stop();
    await backend?.close();
  });

  const post = (p: string, body: Buffer, extra = ''): (string | Buffer)[] => [
    Buffer.concat([Buffer.from(`POST ${p} HTTP/1.1\r\nHost: a.test\r\n${H2C}Content-Length: ${body.length}\r\n${extra}\r\n`), body.subarray(0, 100)]),
    body.subarray(100),
  ];

  it('POST with Upgrade: h2c: the HTTP backend gets exactly the body, as from nginx', async () => {
    const body = patternChunk(300_000);
    const [ours, theirs] = await Promise.all([exchange(gh.httpPort, post('/gh-h2c', body)), exchange(nginxPort, post('/ng-h2c', body, 'Connection: close\r\n'))]);
    expect(theirs.status, theirs.text.slice(0, 200)).to.equal(200);
    expect(ours.status, ours.text.slice(0, 200)).to.equal(200);
    for (const url of ['/gh-h2c', '/ng-h2c']) {
      const seen = backend.seen.filter((s) => s.url === url);
      expect(seen, url).to.have.length(1);
      expect(seen[0]?.bodyLength, url).to.equal(body.length);
      expect(seen[0]?.bodySha256, url).to.equal(sha256(body));
      expect(seen[0]?.headers.upgrade, url).to.equal(undefined);
    }
    // Framing on the Upgrade path is written by hand: the connection is not reused.
    expect(ours.closed).to.equal(true);
    expect(ours.text).to.match(/\r\nconnection: close\r\n/i);
  });

  it('upgrade: off: a WebSocket handshake with a body is a plain POST, body whole', async () => {
    const body = patternChunk(5000, 7);
    const ws = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
    const r = await exchange(gh.httpPort, [Buffer.concat([Buffer.from(`POST /off/ws HTTP/1.1\r\nHost: a.test\r\n${ws}Content-Length: ${body.length}\r\n\r\n`), body])]);
    expect(r.status, r.text.slice(0, 200)).to.equal(200);
    const seen = backend.seen.find((s) => s.url === '/off/ws');
    expect(seen?.bodyLength).to.equal(body.length);
    expect(seen?.bodySha256).to.equal(sha256(body));
  });

  it('FastCGI (php-fpm) reads the same body as through nginx', async () => {
    const body = patternChunk(40_000, 3);
    const [ours, theirs] = await Promise.all([exchange(gh.httpPort, post('/body.php', body)), exchange(nginxPort, post('/body.php', body, 'Connection: close\r\n'))]);
    expect(theirs.status, theirs.text.slice(0, 300)).to.equal(200);
    expect(ours.status, ours.text.slice(0, 300)).to.equal(200);
    const want = { length: body.length, sha256: sha256(body), contentLength: String(body.length) };
    expect(jsonBody(theirs.text)).to.deep.equal(want);
    expect(jsonBody(ours.text)).to.deep.equal(want);
  });

  it('bytes after the body are never run as a request of their own (nginx runs them once, as the next request)', async () => {
    const body = Buffer.from('a=1&b=2');
    const next = 'GET /smuggled-gh HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n';
    const head = (p: string): string => `POST ${p} HTTP/1.1\r\nHost: a.test\r\n${H2C}Content-Length: ${body.length}\r\n\r\n`;
    const ours = await exchange(gh.httpPort, [head('/first-gh') + body.toString() + next]);
    const theirs = await exchange(nginxPort, [head('/first-ng') + body.toString() + next.replace('-gh', '-ng')]);
    // nginx: two answers on one connection, the second for the pipelined GET.
    expect(theirs.text.match(/HTTP\/1\.1 200/g)).to.have.length(2);
    expect(backend.seen.filter((s) => s.url === '/smuggled-ng')).to.have.length(1);
    // gatehouse: one answer, then the connection closes; the GET is dropped, never mis-framed.
    expect(ours.status).to.equal(200);
    expect(ours.text.match(/HTTP\/1\.1 /g)).to.have.length(1);
    expect(ours.closed).to.equal(true);
    expect(backend.seen.filter((s) => s.url === '/smuggled-gh')).to.have.length(0);
    const first = backend.seen.find((s) => s.url === '/first-gh');
    expect(first?.bodyLength).to.equal(body.length);
    expect(first?.bodySha256).to.equal(sha256(body));
  });

  it('a body declared but never finished: a body smaller than Content-Length is not passed as whole', async () => {
    // The client declares 100 bytes, sends 10 and closes its side: nothing complete reaches the backend.
    const c = await rawConnect({ port: gh.httpPort });
    c.write(`POST /short-gh HTTP/1.1\r\nHost: a.test\r\n${H2C}Content-Length: 100\r\n\r\n0123456789`);
    c.socket.end();
    await c.closed;
    await new Promise((r) => setTimeout(r, 300));
    expect(backend.seen.filter((s) => s.url === '/short-gh' && s.bodyLength === 100)).to.have.length(0);
  });

  it('Transfer-Encoding: chunked with Upgrade: 400 and close (nginx decodes it: gatehouse does not parse chunks by hand)', async () => {
    const req = (p: string, extra = ''): string => `POST ${p} HTTP/1.1\r\nHost: a.test\r\n${H2C}Transfer-Encoding: chunked\r\n${extra}\r\n5\r\nhello\r\n0\r\n\r\n`;
    const [ours, theirs] = await Promise.all([exchange(gh.httpPort, [req('/chunked-gh')]), exchange(nginxPort, [req('/chunked-ng', 'Connection: close\r\n')])]);
    expect(theirs.status).to.equal(200);
    expect(backend.seen.find((s) => s.url === '/chunked-ng')?.bodyLength).to.equal(5);
    expect(ours.status).to.equal(400);
    expect(ours.closed).to.equal(true);
    expect(backend.seen.filter((s) => s.url === '/chunked-gh')).to.have.length(0);
  });

  it('maxBody (1m by default) refuses a larger Content-Length with 413, as nginx does', async () => {
    const req = (extra = ''): string => `POST /big HTTP/1.1\r\nHost: a.test\r\n${H2C}Content-Length: 2000000\r\n${extra}\r\n0123456789`;
    const [ours, theirs] = await Promise.all([exchange(gh.httpPort, [req()]), exchange(nginxPort, [req('Connection: close\r\n')], 1000)]);
    expect(theirs.status).to.equal(413);
    expect(ours.status).to.equal(413);
    expect(ours.closed).to.equal(true);
  });

  it('client_body_timeout applies: a body that stops gets 408 and the connection closes', async () => {
    const c = await rawConnect({ port: gh.httpPort });
    c.write(`POST /stalled HTTP/1.1\r\nHost: slow.test\r\n${H2C}Content-Length: 100\r\n\r\n0123456789`);
    const started = performance.now();
    const { data } = await Promise.race([c.closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`open after 5 s: ${c.received()}`)), 5000))]);
    expect(data).to.match(/^HTTP\/1\.1 408 /);
    expect(performance.now() - started).to.be.lessThan(4000);
  });
});
