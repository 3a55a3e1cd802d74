// FastCGI end to end: curl and Node clients → the real gatehouse → a real php-fpm 8.2 (TCP and unix
// socket pools), nginx 1.22 beside it on the same pool for the parameter comparison, and a fake
// FastCGI server that sends garbage.
import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { startNginx, startPhpFpm, selfSignedCert } from '../helpers/cgi-peers.js';
import { h2PostUnknownLength, timedGet } from '../helpers/cgi-clients.js';
import { curl } from '../helpers/curl.js';
import { FLOOD_BYTES, startFakeFastCgi, type FakeFastCgi } from '../helpers/fake-fastcgi.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';
import type { Peer } from '../helpers/process.js';
import { errorBody } from '../../src/http/error-body.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/php');
const VERSION = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

type Server = Record<string, string | number>;

describe('FastCGI (php-fpm, integration)', function () {
  this.timeout(60_000);
  let dir: string;
  let www: string;
  let tmp: string;
  let fpm: Peer;
  let fpmPort: number;
  let fake: FakeFastCgi;
  let relay: TcpRelay;
  let gh: Gatehouse;

  before(async () => {
    dir = tempDir('gh-fcgi-');
    www = path.join(dir, 'www');
    tmp = path.join(dir, 'tmp');
    fs.cpSync(FIXTURES, www, { recursive: true });
    fs.mkdirSync(tmp);
    fpmPort = await freePort();
    const sock = path.join(dir, 'php.sock');
    [fpm, fake] = await Promise.all([
      startPhpFpm(dir, [
        { name: 'tcp', listen: `127.0.0.1:${fpmPort}` },
        { name: 'unix', listen: sock },
      ]),
      startFakeFastCgi(),
    ]);
    relay = await startTcpRelay(fpmPort);
    const php = (proxy: string) => ({ location: '~ \\.php(/|$)', proxy, root: www, tryFiles: ['$uri', '=404'] });
    gh = await startGatehouse(
      () => ({
        log: { access: 'off' },
        // Bodies of up to 20 MB below, over the default 1m (nginx's client_max_body_size).
        maxBody: 0,
        sites: [
          {
            hosts: ['a.test'],
            routes: [
              php(`fastcgi://127.0.0.1:${fpmPort}`),
              { location: '/sub/', proxy: `fastcgi://127.0.0.1:${fpmPort}`, root: www, index: 'index.php' },
              { location: '^~ /nocheck/', proxy: `fastcgi://127.0.0.1:${fpmPort}`, root: www },
              { location: '^~ /small/', proxy: `fastcgi://127.0.0.1:${fpmPort}`, root: www, maxBody: '1k' },
            ],
          },
          { hosts: ['u.test'], routes: [php(`fastcgi+unix:${sock}`)] },
          { hosts: ['c.test'], routes: [php(`fastcgi://127.0.0.1:${relay.port}`)] },
          {
            hosts: ['g.test'],
            routes: [
              { location: '/slow/', proxy: `fastcgi://127.0.0.1:${fake.port}`, root: www, timeout: '500ms' },
              { location: '/', proxy: `fastcgi://127.0.0.1:${fake.port}`, root: www },
            ],
          },
        ],
      }),
      { env: { TMPDIR: tmp } },
    );
  });

  after(async () => {
    await gh?.stop();
    await Promise.all([fpm?.stop(), fake?.close(), relay?.close()]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (host: string, p: string, extra: string[] = []) => curl([...extra, ...gh.curlArgs(host, p)]);
  const json = <T = Server>(r: { status: number; body: Buffer }): T => {
    expect(r.status, r.body.toString()).to.equal(200);
    return JSON.parse(r.body.toString()) as T;
  };

  describe('parameters ($_SERVER)', () => {
    for (const [flag, protocol] of [
      ['--http1.1', 'HTTP/1.1'],
      ['--http2', 'HTTP/2.0'],
    ] as const) {
      it(`are nginx's fastcgi.conf with PATH_INFO split off, over ${protocol}`, async () => {
        const s = json(await get('a.test', '/server.php/foo/bar?x=1', [flag, '-H', 'X-Custom: yes', '-H', 'Proxy: http://evil.test:8080']));
        expect(s).to.include({
          SCRIPT_FILENAME: `${www}/server.php`,
          SCRIPT_NAME: '/server.php',
          PATH_INFO: '/foo/bar',
          REQUEST_URI: '/server.php/foo/bar?x=1',
          QUERY_STRING: 'x=1',
          DOCUMENT_ROOT: www,
          DOCUMENT_URI: '/server.php/foo/bar',
          REQUEST_METHOD: 'GET',
          CONTENT_TYPE: '',
          CONTENT_LENGTH: '',
          SERVER_PROTOCOL: protocol,
          HTTPS: 'on',
          REQUEST_SCHEME: 'https',
          HTTP_HOST: `a.test:${gh.httpsPort}`,
          HTTP_X_CUSTOM: 'yes',
          REMOTE_ADDR: '127.0.0.1',
          REMOTE_USER: '',
          SERVER_ADDR: '127.0.0.1',
          SERVER_PORT: String(gh.httpsPort),
          SERVER_NAME: 'a.test',
          SERVER_SOFTWARE: `gatehouse/${VERSION}`,
          GATEWAY_INTERFACE: 'CGI/1.1',
          REDIRECT_STATUS: '200',
        });
        expect(Number(s.REMOTE_PORT)).to.be.greaterThan(0);
        // httpoxy: a client's Proxy header never becomes HTTP_PROXY.
        expect(s).not.to.have.property('HTTP_PROXY');
        // Nothing of the HTTP proxy's own headers.
        expect(s).not.to.have.property('HTTP_X_FORWARDED_FOR');
      });
    }

    it('sends CONTENT_TYPE and CONTENT_LENGTH of a POST, and REMOTE_USER of Basic auth', async () => {
      const s = json(await get('a.test', '/server.php', ['-u', 'bob:pw', '-H', 'Content-Type: text/plain', '--data-binary', 'hello']));
      expect(s).to.include({ REQUEST_METHOD: 'POST', CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: '5', REMOTE_USER: 'bob', PHP_AUTH_USER: 'bob' });
    });

    it('appends the index to a directory URI', async () => {
      const s = json(await get('a.test', '/sub/'));
      expect(s).to.include({ SCRIPT_NAME: '/sub/index.php', SCRIPT_FILENAME: `${www}/sub/index.php`, DOCUMENT_URI: '/sub/', PATH_INFO: '' });
    });

    it('works the same over a unix socket', async () => {
      const s = json(await get('u.test', '/server.php?via=unix'));
      expect(s).to.include({ SCRIPT_FILENAME: `${www}/server.php`, QUERY_STRING: 'via=unix', HTTP_HOST: `u.test:${gh.httpsPort}` });
    });
  });

  describe('tryFiles [$uri, =404]: only existing scripts reach php-fpm', () => {
    it('answers 404 itself for a missing script, with or without PATH_INFO', async () => {
      for (const p of ['/missing.php', '/missing.php/x', '/server.php.txt/a.php']) {
        const r = await get('a.test', p);
        expect(r.status, p).to.equal(404);
        // php-fpm's own answer would be "File not found." (security.limit_extensions aside).
        expect(r.body.toString(), p).to.equal(errorBody(404));
      }
    });
    it('without tryFiles, php-fpm answers for the missing script itself', async () => {
      const r = await get('a.test', '/nocheck/missing.php');
      expect(r.status).to.equal(404);
      expect(r.body.toString()).to.equal('File not found.\n');
    });
  });

  describe('bodies', () => {
    const payload = (n: number) => {
      const file = path.join(dir, `body-${n}`);
      if (!fs.existsSync(file)) fs.writeFileSync(file, crypto.randomBytes(n));
      return { file, sha256: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') };
    };
    const cases: Array<[string, number, string[]]> = [
      ['0 B', 0, ['--http1.1']],
      ['1 MB', 1_000_000, ['--http1.1']],
      ['20 MB', 20_000_000, ['--http1.1']],
      ['20 MB over HTTP/2', 20_000_000, ['--http2']],
      ['1 MB chunked', 1_000_000, ['--http1.1', '-H', 'Transfer-Encoding: chunked']],
      ['20 MB chunked (through a temp file)', 20_000_000, ['--http1.1', '-H', 'Transfer-Encoding: chunked']],
    ];
    for (const [name, size, flags] of cases) {
      it(`reach php://input whole: ${name}`, async () => {
        const { file, sha256 } = payload(size);
        const r = await get('a.test', '/body.php', [...flags, '-H', 'Content-Type: application/octet-stream', '--data-binary', `@${file}`]);
        const b = json<{ length: number; sha256: string; contentLength: string }>(r);
        expect(b).to.deep.equal({ length: size, sha256, contentLength: String(size) });
      });
    }

    it('sends CONTENT_LENGTH for an HTTP/2 body sent without content-length', async () => {
      const { file, sha256 } = payload(1_000_000);
      const data = fs.readFileSync(file);
      const res = await h2PostUnknownLength(gh, 'a.test', '/body.php', data);
      expect(JSON.parse(res)).to.deep.equal({ length: data.length, sha256, contentLength: String(data.length) });
    });

    it('leaves no temporary file behind', () => {
      expect(fs.readdirSync(tmp)).to.deep.equal([]);
    });

    it('answers 413 for a chunked body over maxBody', async () => {
      const r = await get('a.test', '/small/body.php', ['--http1.1', '-H', 'Transfer-Encoding: chunked', '--data-binary', 'x'.repeat(5000)]);
      expect(r.status).to.equal(413);
    });
  });

  describe('responses', () => {
    it('passes the status of http_response_code() and of a Status header', async () => {
      const created = await get('a.test', '/status.php?case=created');
      expect(created.status).to.equal(201);
      expect(created.body.toString()).to.equal('made\n');
      const teapot = await get('a.test', '/status.php?case=header', ['--http1.1']);
      expect(teapot.status).to.equal(418);
      expect(teapot.headers).not.to.have.property('status');
    });

    it('answers HEAD with the status and headers and no body', async () => {
      for (const flag of ['--http1.1', '--http2']) {
        const r = await get('a.test', '/status.php?case=created', [flag, '-I']);
        expect(r.status, flag).to.equal(201);
        expect(r.headers['content-type'], flag).to.deep.equal(['text/html; charset=UTF-8']);
        // With -I curl writes the head to the output file too; what matters is that no body follows.
        expect(r.body.toString(), flag).to.match(/\r\n\r\n$/);
      }
    });

    it('answers 302 with the Location as sent for header("Location: /elsewhere")', async () => {
      const r = await get('a.test', '/status.php?case=location');
      expect(r.status).to.equal(302);
      expect(r.headers.location).to.deep.equal(['/elsewhere']);
    });

    it('keeps repeated Set-Cookie and other repeated headers', async () => {
      for (const flag of ['--http1.1', '--http2']) {
        const r = await get('a.test', '/status.php?case=cookies', [flag]);
        expect(r.headers['set-cookie'], flag).to.deep.equal(['a=1', 'b=2']);
        expect(r.headers['x-multi']?.join(', '), flag).to.equal('one, two');
      }
    });

    it('streams flush()ed output as it is written', async () => {
      const chunks = await timedGet(gh, 'a.test', '/stream.php');
      const text = chunks.map((c) => c.data).join('');
      expect(text.split('\n').filter(Boolean)).to.have.length(3);
      // The first line arrives before the script has finished (it sleeps 2 × 300 ms).
      const first = chunks[0]!.at;
      const last = chunks[chunks.length - 1]!.at;
      expect(last - first).to.be.greaterThan(450);
    });

    it('sends error_log() output (FCGI_STDERR) to the error log', async () => {
      const id = crypto.randomBytes(4).toString('hex');
      const r = await get('a.test', `/stderr.php?id=${id}`);
      expect(r.status).to.equal(200);
      expect(r.body.toString()).to.equal('logged\n');
      await gh.peer.waitForOutput(new RegExp(`FastCGI sent in stderr: "PHP message: gatehouse-test-marker ${id}".*"site":"a.test"`), 5000);
    });

    it('passes the 500 of a fatal error, and logs the error', async () => {
      const r = await get('a.test', '/fatal.php');
      expect(r.status).to.equal(500);
      await gh.peer.waitForOutput(/FastCGI sent in stderr: "PHP message: PHP Fatal error:.*undefined_function_for_the_test/, 5000);
    });
  });

  describe('kept connections (FCGI_KEEP_CONN) with more clients than php-fpm workers', () => {
    it('serves every client of a closed loop (no client starves behind idle kept connections)', async () => {
      // 6 clients × 4 requests in a row against a pool of 2 workers: a kept connection pins its
      // worker, so a connection waiting in php-fpm's backlog would wait for ever if kept ones idled.
      const client = async () => {
        for (let i = 0; i < 4; i++) {
          const r = await get('a.test', '/sleep.php?ms=50', ['--max-time', '8']);
          expect(r.status).to.equal(200);
        }
      };
      await Promise.all(Array.from({ length: 6 }, client));
    });

    it('reuses connections when there are more clients than workers (requests wait in gatehouse, not in the backlog)', async () => {
      const before = relay.connections;
      const client = async () => {
        for (let i = 0; i < 6; i++) {
          const r = await get('c.test', '/sleep.php?ms=5', ['--max-time', '8']);
          expect(r.status).to.equal(200);
        }
      };
      // 8 clients × 6 requests on 2 workers (through a relay that counts gatehouse's connections).
      // One connection per request would be 48. Legitimate new connections: one per client before the
      // worker count is learnt, each worker's kept connection retired every 0.5 s (rotation among
      // processes sharing the pool) and a probe a second; on a slow machine the run takes longer.
      const t0 = Date.now();
      await Promise.all(Array.from({ length: 8 }, client));
      const seconds = (Date.now() - t0) / 1000;
      const allowed = Math.min(8 + 2 * Math.ceil(seconds / 0.5) + Math.ceil(seconds), 36);
      expect(relay.connections - before, `${seconds.toFixed(1)} s`).to.be.at.most(allowed);
    });
  });

  describe('a misbehaving FastCGI server', () => {
    const bad: Array<[string, number]> = [
      ['version', 502],
      ['truncated', 502],
      ['reset', 502],
      ['close', 502],
      ['badhead', 502],
      ['hugehead', 502],
      ['nohead', 502],
      ['overloaded', 502],
      ['unknowntype', 502],
      ['otherid', 502],
    ];
    for (const [what, status] of bad) {
      it(`${what}: answers ${status} and keeps serving`, async () => {
        const r = await get('g.test', `/${what}`);
        expect(r.status).to.equal(status);
        expect(r.body.toString()).to.equal(errorBody(status));
        const ok = await get('g.test', '/ok');
        expect(ok.status).to.equal(200);
        expect(ok.body.toString()).to.equal('ok\n');
      });
    }

    it('breaks the response (not a short 200) when the stream is cut after the head', async () => {
      const r = await get('g.test', '/truncated-body', ['--http1.1']);
      expect(r.status).to.equal(200);
      expect(r.exitCode).to.not.equal(0);
    });

    it('reads the upstream only as fast as the client reads (back-pressure)', async () => {
      const socket = tls.connect({ host: '127.0.0.1', port: gh.httpsPort, servername: 'g.test', ca: fs.readFileSync(gh.caFile), ALPNProtocols: ['http/1.1'] });
      await new Promise((resolve) => socket.once('secureConnect', resolve));
      socket.pause();
      socket.write('GET /flood HTTP/1.1\r\nHost: g.test\r\n\r\n');
      await new Promise((r) => setTimeout(r, 700));
      const stalledAt = fake.flooded;
      // Kernel socket buffers and a stream buffer or two hold a few MiB (7.7 MiB seen here);
      // without back-pressure the whole flood would have been read into gatehouse's memory by now.
      expect(stalledAt).to.be.below(FLOOD_BYTES / 2);
      let received = 0;
      socket.on('data', (d: Buffer) => (received += d.length));
      socket.resume();
      for (let i = 0; i < 200 && received < FLOOD_BYTES; i++) await new Promise((r) => setTimeout(r, 50));
      socket.destroy();
      expect(fake.flooded).to.be.at.least(FLOOD_BYTES);
      expect(received).to.be.greaterThan(FLOOD_BYTES);
    });

    it('answers 504 when the server says nothing for the route timeout', async () => {
      const started = Date.now();
      const r = await get('g.test', '/slow/hang');
      expect(r.status).to.equal(504);
      expect(Date.now() - started).to.be.within(450, 5000);
    });

    it('reuses one connection for sequential requests (FCGI_KEEP_CONN)', async () => {
      await get('g.test', '/ok');
      const before = fake.connections;
      for (let i = 0; i < 5; i++) expect((await get('g.test', '/ok')).status).to.equal(200);
      expect(fake.connections - before).to.equal(0);
    });

    it('closes the upstream connection when the client goes away', async () => {
      const closed = fake.closedByClient.length;
      await get('g.test', '/slowbody', ['--max-time', '0.4']);
      for (let i = 0; i < 40 && fake.closedByClient.length === closed; i++) await new Promise((r) => setTimeout(r, 50));
      expect(fake.closedByClient.slice(closed)).to.include('/slowbody');
    });
  });

  describe('compared with nginx on the same php-fpm pool', () => {
    let nginx: Peer;
    let nginxPort: number;

    before(async () => {
      nginxPort = await freePort();
      const { cert, key } = selfSignedCert(dir);
      // nginx's own recipe for what README "What reaches the backend" asks: fastcgi.conf, the PATH_INFO split, an index.
      const php = `fastcgi_split_path_info ^(.+?\\.php)(/.*)$;
        fastcgi_param PATH_INFO $fastcgi_path_info;
        fastcgi_index index.php;
        include fastcgi.conf;
        fastcgi_pass 127.0.0.1:${fpmPort};`;
      nginx = await startNginx(
        dir,
        `server {
          listen 127.0.0.1:${nginxPort} ssl http2;
          server_name a.test;
          ssl_certificate ${cert};
          ssl_certificate_key ${key};
          root ${www};
          location ~ \\.php(/|$) { ${php} }
          location /sub/ { ${php} }
        }`,
        nginxPort,
      );
    });

    after(async () => {
      await nginx?.stop('SIGQUIT');
    });

    // What differs by nature: the server's name and port, the client's ephemeral port, the time.
    const DIFFERENT = ['SERVER_SOFTWARE', 'SERVER_PORT', 'REMOTE_PORT', 'REQUEST_TIME', 'REQUEST_TIME_FLOAT'];
    const strip = (s: Server): Server => Object.fromEntries(Object.entries(s).filter(([k]) => !DIFFERENT.includes(k)));
    const both = async (p: string, args: string[]): Promise<[Server, Server]> => {
      const via = (port: number, tls: string[]) => curl([...tls, '--connect-to', `a.test:443:127.0.0.1:${port}`, ...args, `https://a.test${p}`]);
      const [g, n] = await Promise.all([via(gh.httpsPort, ['--cacert', gh.caFile]), via(nginxPort, ['-k'])]);
      return [json(g), json(n)];
    };

    const requests: Array<[string, string, string[]]> = [
      ['GET with PATH_INFO over HTTP/1.1', '/server.php/foo/bar?x=1&y=%2F', ['--http1.1', '-H', 'Cookie: a=1; b=2', '-H', 'X-Custom: yes', '-u', 'bob:pw']],
      ['GET with PATH_INFO over HTTP/2', '/server.php/foo/bar?x=1', ['--http2', '-H', 'Cookie: a=1', '-H', 'Accept-Language: en']],
      ['a percent-encoded, dot-segment path', '/dir/../server.php/a%20b/%C3%A9?q=%20', ['--http1.1', '--path-as-is']],
      ['a form POST', '/server.php', ['--http1.1', '-d', 'a=1&b=2']],
      ['a chunked POST', '/server.php', ['--http1.1', '-H', 'Transfer-Encoding: chunked', '-d', 'a=1&b=2']],
      ['a POST over HTTP/2', '/server.php', ['--http2', '-H', 'Content-Type: application/json', '--data-binary', '{"a":1}']],
      ['a directory URI with the index', '/sub/', ['--http2']],
    ];
    for (const [name, p, args] of requests) {
      it(`sends the same parameters as nginx: ${name}`, async () => {
        const [g, n] = await both(p, args);
        expect(strip(g)).to.deep.equal(strip(n));
        expect(g.SERVER_SOFTWARE).to.equal(`gatehouse/${VERSION}`);
      });
    }
  });
});

/** A GET whose body chunks are timestamped on arrival. */
