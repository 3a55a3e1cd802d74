// What a request must look like before it is routed or forwarded (security review F5, F6, F9, F12,
// F13): Host as nginx validates it (stricter on the port), one Host only, the absolute-form target's
// authority, HTTP/2's host and method, forwarding headers no client can forge (underscore names,
// CGI), and only WebSocket tunnelled. nginx 1.22 answers the same raw requests where it defines the
// behaviour; where gatehouse is deliberately stricter the test says so.
import { expect } from 'chai';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selfSignedCert, startNginx, startPhpFpm } from '../helpers/cgi-peers.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import type { Peer } from '../helpers/process.js';
import { rawConnect } from '../helpers/raw-client.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/php');

/** One raw request over plain TCP; the status line's code and the whole answer. */
async function rawStatus(port: number, request: string): Promise<{ status: number; text: string }> {
  const c = await rawConnect({ port });
  // Asked to close after the answer, so that the answer is all there is to wait for.
  c.write(/\r\nconnection:/i.test(request) ? request : request.replace(/\r\n\r\n$/, '\r\nConnection: close\r\n\r\n'));
  const { data } = await Promise.race([c.closed, new Promise<{ data: string }>((r) => setTimeout(() => (c.destroy(), r({ data: c.received() })), 2000))]);
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0), text: data };
}

describe('request validation (integration)', function () {
  this.timeout(60_000);
  let dir: string;
  let backend: EchoBackend;
  let fpm: Peer;
  let fpmPort: number;
  let gh: Gatehouse;
  let nginx: Peer;
  let nginxPort: number;
  let nginxH2Port: number;

  before(async () => {
    dir = tempDir('gh-validate-');
    const www = path.join(dir, 'www');
    fs.cpSync(FIXTURES, www, { recursive: true });
    fpmPort = await freePort();
    [backend, fpm] = await Promise.all([startEchoBackend(), startPhpFpm(dir, [{ name: 'tcp', listen: `127.0.0.1:${fpmPort}` }])]);
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      sites: [
        // Plain HTTP for a.test and b.test, so that the raw probes compare with nginx on one port.
        {
          hosts: ['a.test'],
          tls: 'off',
          routes: [
            { location: '~ \\.php$', proxy: `fastcgi://127.0.0.1:${fpmPort}`, root: www },
            { location: '/ws-off/', proxy: backend.url, upgrade: 'off' },
            { location: '/', proxy: backend.url },
          ],
        },
        { hosts: ['b.test'], tls: 'off', routes: [{ location: '/', return: '200 b.test' }] },
        { hosts: ['u.test'], tls: 'off', underscoresInHeaders: true, routes: [{ location: '/', proxy: backend.url }] },
        {
          hosts: ['secure.test'],
          routes: [
            { location: '/echo/', proxy: backend.url },
            { location: '/', return: '200 secure' },
          ],
        },
      ],
    }));
    nginxPort = await freePort();
    nginxH2Port = await freePort();
    const { cert, key } = selfSignedCert(dir);
    nginx = await startNginx(
      tempDir('gh-validate-nginx-'),
      `server { listen 127.0.0.1:${nginxPort} default_server; server_name a.test; location / { return 200 "a $host\\n"; }
    location ~ \\.php$ { root ${www}; include fastcgi.conf; fastcgi_pass 127.0.0.1:${fpmPort}; } }
  server { listen 127.0.0.1:${nginxPort}; server_name b.test; location / { return 200 "b $host\\n"; } }
  server { listen 127.0.0.1:${nginxH2Port} ssl http2; server_name a.test; ssl_certificate ${cert}; ssl_certificate_key ${key}; location / { return 200 "a $host\\n"; } }`,
      nginxPort,
    );
  });
  after(async () => {
    await gh?.stop();
    await nginx?.stop();
    await fpm?.stop();
    await backend?.close();
  });

  describe('Host (F5): the same answers as nginx, except a port that is not digits', () => {
    const cases: Array<[string, string, number]> = [
      ['a path in the port', 'GET / HTTP/1.1\r\nHost: a.test:x/../../evil\r\n\r\n', 400],
      ['a space in the port', 'GET / HTTP/1.1\r\nHost: a.test: x\r\n\r\n', 400],
      ['two Host lines', 'GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n', 400],
      ['an empty Host', 'GET / HTTP/1.1\r\nHost: \r\n\r\n', 400],
      ['two dots in a row', 'GET / HTTP/1.1\r\nHost: a..test\r\n\r\n', 400],
      ['HTTP/1.0 without Host', 'GET / HTTP/1.0\r\n\r\n', 200],
      ['a trailing dot and a port', 'GET / HTTP/1.1\r\nHost: b.test.:80\r\n\r\n', 200],
      ['an IPv6 literal', 'GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n', 200],
      ['an absolute-form target wins over Host', 'GET http://b.test/abs HTTP/1.1\r\nHost: a.test\r\n\r\n', 200],
    ];
    for (const [name, request, status] of cases) {
      it(`${name}: ${status}`, async () => {
        const [ours, theirs] = await Promise.all([rawStatus(gh.httpPort, request), rawStatus(nginxPort, request)]);
        expect(theirs.status, `nginx: ${theirs.text}`).to.equal(status);
        expect(ours.status, ours.text).to.equal(status);
      });
    }

    it('an absolute-form target is routed by its authority, as nginx does', async () => {
      const request = 'GET http://b.test/abs HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n';
      const [ours, theirs] = await Promise.all([rawStatus(gh.httpPort, request), rawStatus(nginxPort, request)]);
      expect(theirs.text).to.match(/\r\n\r\nb b\.test\n$/);
      expect(ours.text).to.match(/\r\n\r\nb\.test$/);
    });

    // gatehouse forwards the raw Host where nginx configs send $host: it refuses what nginx only cuts off.
    for (const [name, host] of [['a port part that is not digits', 'a.test:@evil.test'], ['a backslash', 'a.test\\evil.test']]) {
      it(`${name}: 400 (nginx answers 200, and $host has none of it)`, async () => {
        const request = `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
        const [ours, theirs] = await Promise.all([rawStatus(gh.httpPort, request), rawStatus(nginxPort, request)]);
        expect(theirs.status).to.equal(200);
        expect(ours.status).to.equal(400);
        expect(backend.seen.some((s) => String(s.headers.host).includes('evil'))).to.equal(false);
      });
    }

    it('HTTP/2: a host header unlike :authority, and a method that is not upper-case, get 400', async () => {
      const session = http2.connect(`https://127.0.0.1:${gh.httpsPort}`, { ca: fs.readFileSync(gh.caFile), servername: 'secure.test' });
      session.on('error', () => undefined);
      try {
        const status = (headers: http2.OutgoingHttpHeaders) =>
          new Promise<number>((resolve, reject) => {
            const s = session.request(headers);
            s.on('response', (h) => resolve(Number(h[':status'])));
            s.on('error', reject);
            s.resume();
          });
        expect(await status({ ':path': '/', ':authority': 'secure.test' })).to.equal(200);
        expect(await status({ ':path': '/', ':authority': 'secure.test', host: 'evil.test' })).to.equal(400);
        expect(await status({ ':path': '/', ':authority': 'secure.test', host: 'secure.test' })).to.equal(200);
        expect(await status({ ':method': 'get', ':path': '/', ':authority': 'secure.test' })).to.equal(400);
      } finally {
        session.close();
      }
    });

    it('HTTP/2: a host header naming the :authority (case, trailing dot, default port) is served with :authority forwarded; another name or port gets 400', async () => {
      /** Statuses for one list of (authority, host) pairs over one HTTP/2 connection. */
      const statuses = async (port: number, servername: string, ca: Buffer | undefined, pairs: Array<[string, string | undefined]>, path: string) => {
        const session = http2.connect(`https://127.0.0.1:${port}`, ca ? { ca, servername } : { rejectUnauthorized: false, servername });
        session.on('error', () => undefined);
        try {
          const out: number[] = [];
          for (const [authority, host] of pairs) {
            out.push(
              await new Promise<number>((resolve, reject) => {
                const s = session.request({ ':path': path, ':authority': authority, ...(host !== undefined ? { host } : {}) });
                s.on('response', (h) => resolve(Number(h[':status'])));
                s.on('error', reject);
                s.resume();
              }),
            );
          }
          return out;
        } finally {
          session.close();
        }
      };
      type Pairs = Array<[string, string | undefined]>;
      const same = (n: string): Pairs => [[n, n], [n, n.toUpperCase()], [n, `${n}.`], [n, `${n}:443`], [`${n}:443`, n]];
      const other = (n: string): Pairs => [[n, 'evil.test'], [n, `${n}:8443`], [`${n}:8443`, n], [n, `${n}..`]];
      const ca = fs.readFileSync(gh.caFile);
      const seenBefore = backend.seen.length;
      expect(await statuses(gh.httpsPort, 'secure.test', ca, same('secure.test'), '/echo/h2-host')).to.deep.equal([200, 200, 200, 200, 200]);
      expect(await statuses(gh.httpsPort, 'secure.test', ca, other('secure.test'), '/echo/h2-host')).to.deep.equal([400, 400, 400, 400]);
      // The backend is sent :authority, whatever spelling of it the host header had.
      const hosts = backend.seen.slice(seenBefore).map((r) => [r.headers.host, r.headers['x-forwarded-host']]);
      expect(hosts).to.deep.equal([
        ['secure.test', 'secure.test'],
        ['secure.test', 'secure.test'],
        ['secure.test', 'secure.test'],
        ['secure.test', 'secure.test'],
        ['secure.test:443', 'secure.test:443'],
      ]);
      // nginx 1.22 refuses any host header beside :authority ("client sent duplicate host header"),
      // even an identical one; RFC 9113 §8.3.1 asks only that both name the same entity.
      expect(await statuses(nginxH2Port, 'a.test', undefined, [['a.test', undefined], ...same('a.test'), ...other('a.test')], '/')).to.deep.equal([
        200, 400, 400, 400, 400, 400, 400, 400, 400, 400,
      ]);
    });

    it('the HTTP→HTTPS redirect names only hosts a site serves', async () => {
      const loc = async (host: string) => {
        const r = await rawStatus(gh.httpPort, `GET /p?q=1 HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
        return [r.status, /\r\nlocation: ([^\r]*)/i.exec(r.text)?.[1]];
      };
      expect(await loc('secure.test')).to.deep.equal([308, `https://secure.test:${gh.httpsPort}/p?q=1`]);
      // An unknown name goes to the default site (a.test, tls: off): served, not redirected anywhere.
      expect((await loc('evil.test'))[0]).to.equal(200);
      expect((await loc('a.test/evil'))[0]).to.equal(400);
      expect((await loc('a.test@evil.test'))[0]).to.equal(400);
    });
  });

  describe('absolute-form targets: the Host header is still validated, as nginx does', () => {
    // nginx routes by the target's authority (ngx_http_process_request_uri) and still runs
    // ngx_http_process_host on a Host header: invalid or duplicate is 400 whatever the target says.
    const cases: Array<[string, string, number]> = [
      ['an invalid Host (two dots)', 'GET http://a.test/abs HTTP/1.1\r\nHost: a..test\r\n\r\n', 400],
      ['a Host with a path', 'GET http://a.test/abs HTTP/1.1\r\nHost: a.test/evil\r\n\r\n', 400],
      ['a Host with a space', 'GET http://a.test/abs HTTP/1.1\r\nHost: a.test evil\r\n\r\n', 400],
      ['an empty Host', 'GET http://a.test/abs HTTP/1.1\r\nHost: \r\n\r\n', 400],
      ['two Host lines', 'GET http://a.test/abs HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n', 400],
      ['HTTP/1.1 without Host', 'GET http://a.test/abs HTTP/1.1\r\n\r\n', 400],
      ['HTTP/1.0 without Host', 'GET http://b.test/abs HTTP/1.0\r\n\r\n', 200],
      ['a valid Host unlike the authority', 'GET http://b.test/abs HTTP/1.1\r\nHost: A.test:80\r\n\r\n', 200],
    ];
    for (const [name, request, status] of cases) {
      it(`${name}: ${status}`, async () => {
        const [ours, theirs] = await Promise.all([rawStatus(gh.httpPort, request), rawStatus(nginxPort, request)]);
        expect(theirs.status, `nginx: ${theirs.text}`).to.equal(status);
        expect(ours.status, ours.text).to.equal(status);
      });
    }

    it('a port part that is not digits: 400 (nginx answers 200; gatehouse is stricter, as for an origin-form target)', async () => {
      const request = 'GET http://a.test/abs HTTP/1.1\r\nHost: a.test:@evil.test\r\n\r\n';
      const [ours, theirs] = await Promise.all([rawStatus(gh.httpPort, request), rawStatus(nginxPort, request)]);
      expect(theirs.status).to.equal(200);
      expect(ours.status).to.equal(400);
    });

    it('FastCGI gets REQUEST_URI in origin-form, as from nginx, and HTTP_HOST = the authority it was routed by', async () => {
      const request = 'GET http://a.test/server.php?q=1 HTTP/1.0\r\nHost: b.test\r\n\r\n';
      const [ours, theirs] = await Promise.all([rawStatus(gh.httpPort, request), rawStatus(nginxPort, request)]);
      const params = (r: { text: string }) => JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)) as Record<string, string>;
      expect(params(theirs)).to.include({ REQUEST_URI: '/server.php?q=1', QUERY_STRING: 'q=1', SCRIPT_NAME: '/server.php' });
      expect(params(ours)).to.include({ REQUEST_URI: '/server.php?q=1', QUERY_STRING: 'q=1', SCRIPT_NAME: '/server.php', SERVER_NAME: 'a.test' });
      // nginx passes the Host header as it came (HTTP_HOST b.test, served by a.test): an application
      // building links from it points at another site. gatehouse sends the host it routed by.
      expect(params(theirs).HTTP_HOST).to.equal('b.test');
      expect(params(ours).HTTP_HOST).to.equal('a.test');
    });
  });

  describe('forwarding headers no client can forge (F6, F12)', () => {
    it('HTTP upstreams never get a header name with "_" (nginx drops them too); underscoresInHeaders passes them', async () => {
      const send = (host: string, port = gh.httpPort) =>
        rawStatus(port, `GET /uh-${host} HTTP/1.1\r\nHost: ${host}\r\nX_Forwarded_For: 6.6.6.6\r\nX_Real_IP: 6.6.6.7\r\nX-Custom_Name: y\r\nConnection: close\r\n\r\n`);
      expect((await send('a.test')).status).to.equal(200);
      const seenA = backend.seen.find((s) => s.url === '/uh-a.test');
      expect(Object.keys(seenA?.headers ?? {}).filter((n) => n.includes('_'))).to.deep.equal([]);
      expect(seenA?.headers['x-forwarded-for']).to.equal('127.0.0.1');
      expect(seenA?.headers['x-real-ip']).to.equal('127.0.0.1');
      await send('u.test');
      const seenU = backend.seen.find((s) => s.url === '/uh-u.test');
      expect(seenU?.headers).to.include({ x_forwarded_for: '6.6.6.6', 'x-custom_name': 'y' });
    });

    it('FastCGI: a client\'s X-Forwarded-For and X-Real-IP are replaced, other forwarding headers dropped', async () => {
      const r = await rawStatus(
        gh.httpPort,
        'GET /server.php HTTP/1.0\r\nHost: a.test\r\nX-Forwarded-For: 6.6.6.6\r\nX-Real-IP: 6.6.6.7\r\nX-Forwarded-Host: evil.test\r\nX_Real_IP: 6.6.6.8\r\nConnection: close\r\n\r\n',
      );
      const params = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)) as Record<string, string>;
      expect(params).to.include({ HTTP_X_FORWARDED_FOR: '127.0.0.1', HTTP_X_REAL_IP: '127.0.0.1', REMOTE_ADDR: '127.0.0.1' });
      expect(params).to.not.have.property('HTTP_X_FORWARDED_HOST');
    });
  });

  describe('Upgrade (F9): only what the route allows is tunnelled', () => {
    const upgrade = (p: string, proto: string) =>
      rawStatus(gh.httpPort, `GET ${p} HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: ${proto}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);

    it('websocket is switched (101); h2c and other tokens go on as plain requests, never a tunnel', async () => {
      expect((await upgrade('/ws', 'websocket')).status).to.equal(101);
      const h2c = await upgrade('/h2c-probe', 'h2c');
      expect(h2c.status).to.equal(200);
      const seen = backend.seen.find((s) => s.url === '/h2c-probe');
      expect(seen?.headers.upgrade).to.equal(undefined);
      expect((await upgrade('/foo-probe', 'foo')).status).to.equal(200);
    });

    it('upgrade: off refuses the WebSocket tunnel too', async () => {
      const r = await upgrade('/ws-off/x', 'websocket');
      expect(r.status).to.equal(200);
      expect(backend.seen.find((s) => s.url === '/ws-off/x')?.headers.upgrade).to.equal(undefined);
    });
  });

  it('a raw socket sees nothing of a refused tunnel: the connection closes after the plain answer', async () => {
    const socket = net.connect(gh.httpPort, '127.0.0.1');
    socket.write('GET /h2c-close HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n');
    const data = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      setTimeout(() => socket.destroy(), 3000);
    });
    expect(data).to.match(/^HTTP\/1\.1 200 /);
    expect(data).to.not.match(/101 Switching/);
  });
});
