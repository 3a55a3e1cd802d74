// issue 17: logs, differential against nginx 1.22: the same raw requests to nginx and to gatehouse,
// then the access log lines both wrote compared (nginx's predefined combined byte for byte but for
// the time; custom log_formats with many variables, escape=default, json and none, with hostile
// bytes in the request line, User-Agent and Referer), `access_log off` per location, and variables
// echoed through `return 200 "$var"` and response headers.
import { expect } from 'chai';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { curl } from '../helpers/curl.js';
import { expectSame, startDifferential, type Differential } from '../helpers/differential.js';

/** The variables both servers should agree on (no ports, times, pids or ids). */
const VARS = [
  '$remote_addr $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"',
  'host=$host hh="$http_host" sn=$server_name m=$request_method ru="$request_uri" u="$uri" a="$args" ia="$is_args"',
  'qs="$query_string" p=$server_protocol s=$scheme https="$https" arg_a="$arg_a" c="$cookie_c" x="$http_x_hostile"',
  'cl=$content_length ct="$content_type" us=$upstream_status ua=$upstream_addr uct="$upstream_http_content_type"',
  'sxa="$sent_http_x_a" ${request_method}!',
].join(' ');


/** Request variables echoed by `return`: the same request must give the same text. */
const ECHO = [
  '$request|$request_uri|$uri|$args|$arg_a|$arg_b|$is_args|$query_string|$cookie_c|$http_x_a|$remote_user',
  '$server_protocol|$scheme|$https|$host|$server_name|$request_method|$content_length|$content_type',
  '$remote_addr|$server_addr|$hostname|$document_uri|$http_host',
].join('|');

/** Values that differ by nature (ids, times, pids): their shapes are compared. */
const IDS = '$request_id $sent_http_x_req $connection $connection_requests $msec $time_iso8601 $pid $request_time $request_length $bytes_sent $status';
type Host = 'c.test' | 'v.test' | 'j.test' | 'n.test' | 'i.test';

/** A raw request on its own connection; resolves with the whole response once the server closes. */
function send(port: number, raw: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Written without a FIN: nginx takes a half-closed client for one that left (499).
    const socket = net.connect(port, '127.0.0.1', () => socket.write(raw));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer in 5 s')));
  });
}

function lineCount(file: string): number {
  if (!fs.existsSync(file)) return 0;
  return fs.readFileSync(file).toString('latin1').split('\n').length - 1;
}

async function nextLine(file: string, before: number): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const lines = fs.existsSync(file) ? fs.readFileSync(file).toString('latin1').split('\n') : [];
    if (lines.length - 1 > before) return lines[before] as string;
    if (Date.now() > deadline) throw new Error(`no new line in ${file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('access logs and variables, differential against nginx 1.22 (integration)', function () {
  this.timeout(60_000);
  let pair: Differential;
  let dir: string;
  let nginxPort: number;
  let ghPort: number;
  let pairs = 0;

  const nginxLog = (host: Host): string => path.join(dir, `nginx-${host}.log`);
  const ghLog = (host: Host): string => path.join(dir, `gh-${host}.log`);

  const nginxConfig = (backend: string): string => {
    const formats = `
      log_format vars '${VARS}';
      log_format varsjson escape=json '${VARS}';
      log_format varsnone escape=none '${VARS}';
      log_format ids '${IDS}';`;
    const locations = `
      location = / { return 200 "hello\\n"; }
      location /r/ { return 200 "r $uri\\n"; }
      location /nope/ { return 404 "nope\\n"; }
      location /www/ { alias ${dir}/www/; }
      location /p/ { proxy_pass ${backend}/status/; }
      location /health { access_log off; return 200 "ok\\n"; }
      location /hdr/ { add_header X-A "$request_method $http_x_hostile"; proxy_pass ${backend}/status/; }
      location / { return 200 "any\\n"; }`;
    const server = (host: Host, format: string): string => `
      server {
        listen 127.0.0.1:${nginxPort};
        server_name ${host};
        root ${dir}/www;
        access_log ${nginxLog(host)} ${format};
        ${locations}
      }`;
    const extra = `
      server {
        listen 127.0.0.1:${nginxPort};
        server_name e.test;
        location /echo/ { return 200 "${ECHO}"; }
        location /st/ { return 201 "status=$status sent=$body_bytes_sent"; }
      }
      server {
        listen 127.0.0.1:${nginxPort};
        server_name i.test;
        access_log ${nginxLog('i.test')} ids;
        location /id/ { add_header X-Req $request_id; proxy_set_header X-Id $request_id; proxy_pass ${backend}/; }
      }`;
    return `${formats}\n${server('c.test', 'combined')}${server('v.test', 'vars')}${server('j.test', 'varsjson')}${server('n.test', 'varsnone')}${extra}`;
  };

  const gatehouseConfig = (backend: string): Record<string, unknown> => {
    const routes = [
      { location: '= /', return: '200 "hello\n"' },
      { location: '/r/', return: '200 "r $uri\n"' },
      { location: '/nope/', return: '404 "nope\n"' },
      { location: '/www/', root: dir },
      { location: '/p/', proxy: `${backend}/status/` },
      { location: '/health', return: '200 "ok\n"', accessLog: 'off' },
      { location: '/hdr/', proxy: `${backend}/status/`, headers: { response: { set: { 'X-A': '$request_method $http_x_hostile' } } } },
      { location: '/', return: '200 "any\n"' },
    ];
    const site = (host: Host, format: string) => ({ hosts: host, tls: 'off', accessLog: { file: ghLog(host), format }, routes });
    return {
      log: {
        // Requests refused before a site is known (the parser's 400s), as nginx's default server logs them.
        access: path.join(dir, 'gh-default.log'),
        formats: {
          vars: VARS,
          varsjson: { format: VARS, escape: 'json' },
          varsnone: { format: VARS, escape: 'none' },
          ids: IDS,
          tls: '$ssl_protocol $ssl_cipher $ssl_server_name $ssl_session_reused $ssl_alpn_protocol $ssl_client_verify $ssl_client_s_dn $https $scheme "$request" $status $body_bytes_sent $upstream_cache_status',
        },
      },
      sites: [
        site('c.test', 'combined'),
        site('v.test', 'vars'),
        site('j.test', 'varsjson'),
        site('n.test', 'varsnone'),
        {
          hosts: 'e.test',
          tls: 'off',
          routes: [
            { location: '/echo/', return: `200 "${ECHO}"` },
            { location: '/st/', return: '201 "status=$status sent=$body_bytes_sent"' },
          ],
        },
        // gatehouse only (the harness compares plain HTTP): the TLS variables over a real handshake.
        { hosts: 't.test', tls: 'internal', accessLog: { file: path.join(dir, 'gh-t.test.log'), format: 'tls' }, routes: [{ location: '/', return: '200 "tls\n"' }] },
        {
          hosts: 'i.test',
          tls: 'off',
          accessLog: { file: ghLog('i.test'), format: 'ids' },
          routes: [
            {
              location: '/id/',
              proxy: `${backend}/`,
              headers: { request: { set: { 'X-Id': '$request_id' } }, response: { set: { 'X-Req': '$request_id' } } },
            },
          ],
        },
      ],
    };
  };

  before(async () => {
    pair = await startDifferential({
      nginx: (p) => {
        dir = p.dir;
        nginxPort = p.port;
        return nginxConfig(p.backend);
      },
      gatehouse: (p) => gatehouseConfig(p.backend),
      files: { 'www/index.html': 'hi\n', 'www/a.txt': 'static a\n' },
    });
    ghPort = pair.ghPort;
  });

  after(async () => {
    console.log(`      ${pairs} request pairs`);
    await pair?.close();
  });

  /** The same request to both; the log line each wrote for it (undefined: none), and the responses. */
  async function both(host: Host, raw: string | Buffer): Promise<{ nginx: string; gatehouse: string; nginxResponse: Buffer; ghResponse: Buffer }> {
    const bytes = typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw;
    const nBefore = lineCount(nginxLog(host));
    const gBefore = lineCount(ghLog(host));
    const nginxResponse = await send(nginxPort, bytes);
    const ghResponse = await send(ghPort, bytes);
    pairs++;
    return { nginx: await nextLine(nginxLog(host), nBefore), gatehouse: await nextLine(ghLog(host), gBefore), nginxResponse, ghResponse };
  }

  const normal = (line: string): string => line.replace(/\[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]/, '[TIME]');

  async function same(host: Host, raw: string | Buffer): Promise<string> {
    const r = await both(host, raw);
    expect(normal(r.gatehouse)).to.equal(normal(r.nginx));
    return r.gatehouse;
  }

  const get = (host: string, target: string, extra = ''): string => `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${extra}\r\n`;

  const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');
  /** Hostile but parseable by both: quotes, backslashes, bytes above 0x7f, tabs inside values. */
  const HOSTILE_UA = 'User-Agent: Mozilla/5.0 "evil\\" \xe9\xff\tx \x80\x9b[31m\r\n';
  const HOSTILE_REF = 'Referer: http://ref.test/"\\x22 \xc3\xa9\r\n';
  const HOSTILE_LINE = '/a"b\\c\'{x}<y>|`^?q="\\&a=%00%0d%0a';

  describe("nginx's predefined combined format, byte for byte but the time", () => {
    const cases: Array<[string, string]> = [
      ['a GET of a return', get('c.test', '/')],
      ['hostile User-Agent and Referer', get('c.test', '/r/x?a=1&b=2', HOSTILE_UA + HOSTILE_REF)],
      ['a HEAD (no body bytes)', `HEAD /r/y HTTP/1.1\r\nHost: c.test\r\nConnection: close\r\n\r\n`],
      ['a static file', get('c.test', '/www/a.txt')],
      ['a 404 from return', get('c.test', '/nope/x')],
      ['a proxied 204', get('c.test', '/p/204')],
      ['a proxied chunked response (chunk framing counted)', get('c.test', '/p/201')],
      ['an HTTP/1.0 request to a proxy (no chunks)', `GET /p/200 HTTP/1.0\r\nHost: c.test\r\n\r\n`],
      ['a hostile request line', get('c.test', HOSTILE_LINE)],
      ['Basic credentials: $remote_user', get('c.test', '/r/u', `Authorization: Basic ${b64('alice:secret')}\r\n`)],
      ['a hostile user name', get('c.test', '/r/u', `Authorization: Basic ${b64('"ev\\il\x01\xe9:pw')}\r\n`)],
      ['an absolute-form target', `GET http://c.test/r/abs?x=1 HTTP/1.1\r\nHost: c.test\r\nConnection: close\r\n\r\n`],
      ['a POST with a body', `POST /r/post HTTP/1.1\r\nHost: c.test\r\nContent-Length: 5\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nhello`],
      ['an empty Referer header', get('c.test', '/r/e', 'Referer:\r\n')],
    ];
    for (const [name, raw] of cases) it(name, async () => void (await same('c.test', raw)));
  });

  const varCases: Array<[string, (host: string) => string]> = [
    ['args, cookies and hostile headers', (h) => get(h, '/r/x?a=1&b=2', HOSTILE_UA + HOSTILE_REF + 'Cookie: d=e; c=v"q\r\nX-Hostile: "\\x\tq\x80\r\n')],
    ['no args, no headers', (h) => get(h, '/r/plain')],
    ['a hostile request line', (h) => get(h, HOSTILE_LINE)],
    ['a proxied response: $upstream_status, $upstream_addr, $upstream_http_*', (h) => get(h, '/p/203?a=%22')],
    ['a response header from variables: $sent_http_*', (h) => get(h, '/hdr/200', 'X-Hostile: v\xe9"\r\n')],
    ['a request body: $content_length, $content_type', (h) => `POST /r/b?a= HTTP/1.1\r\nHost: ${h}\r\nContent-Type: a/"b"\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc`],
    ['$remote_user from Basic credentials', (h) => get(h, '/r/u', `Authorization: Basic ${b64('bob\\":x')}\r\n`)],
  ];
  for (const [host, escape] of [['v.test', 'default'], ['j.test', 'json'], ['n.test', 'none']] as const) {
    describe(`a log_format of many variables, escape=${escape}`, () => {
      for (const [name, raw] of varCases) it(name, async () => void (await same(host, raw(host))));
    });
  }

  describe("requests refused by the parser (400): logged as nginx's default server logs them", () => {
    const refused: Array<[string, string]> = [
      ['a header line without a colon', 'GET /x?a=1 HTTP/1.1\r\nBad Header\r\n\r\n'],
      ['a space before the colon', 'GET /y HTTP/1.1\r\nHost : c.test\r\n\r\n'],
      ['a NUL in a header value', 'GET /z HTTP/1.1\r\nX-A: a\x00b\r\n\r\n'],
    ];
    for (const [name, raw] of refused) {
      it(name, async () => {
        const nBefore = lineCount(nginxLog('c.test'));
        const gBefore = lineCount(path.join(dir, 'gh-default.log'));
        const bytes = Buffer.from(raw, 'latin1');
        await send(nginxPort, bytes);
        await send(ghPort, bytes);
        pairs++;
        const n = await nextLine(nginxLog('c.test'), nBefore);
        const g = await nextLine(path.join(dir, 'gh-default.log'), gBefore);
        // nginx answers with its HTML error page, gatehouse with an empty body: the size differs.
        const size = (l: string): string => normal(l).replace(/" 400 \d+ "/, '" 400 SIZE "');
        expect(size(g)).to.equal(size(n));
        expect(g).to.match(/" 400 0 "/);
      });
    }
  });

  describe('log rotation: SIGUSR1 reopens the files (nginx -s reopen)', () => {
    it('after the file is moved away, the next line goes to a new file at the same path', async () => {
      for (const [file, proc] of [[nginxLog('c.test'), pair.nginx.proc], [ghLog('c.test'), pair.gh.peer.proc]] as const) {
        fs.renameSync(file, `${file}.1`);
        proc.kill('SIGUSR1');
      }
      // Both reopen asynchronously (nginx's master signals its worker): wait for the new files.
      const deadline = Date.now() + 5000;
      while (!(fs.existsSync(nginxLog('c.test')) && fs.existsSync(ghLog('c.test')))) {
        if (Date.now() > deadline) throw new Error('a log file was not reopened');
        await new Promise((r) => setTimeout(r, 20));
      }
      const line = await same('c.test', get('c.test', '/r/rotated'));
      expect(line).to.contain('/r/rotated');
      expect(lineCount(ghLog('c.test'))).to.equal(1);
      expect(lineCount(nginxLog('c.test'))).to.equal(1);
    });
  });

  describe('TLS variables (gatehouse over TLS; nginx\'s names and forms)', () => {
    it('$ssl_protocol, $ssl_cipher (OpenSSL\'s name), $ssl_server_name, $ssl_alpn_protocol, $https over HTTP/2', async () => {
      const file = path.join(dir, 'gh-t.test.log');
      const r = await curl([...pair.gh.curlArgs('t.test', '/x?y=1'), '--http2', '--tlsv1.3']);
      expect(r.status).to.equal(200);
      const line = await nextLine(file, 0);
      expect(line).to.match(/^TLSv1\.3 TLS_AES_(128|256)_GCM_SHA(256|384) t\.test \. h2 NONE - on https "GET \/x\?y=1 HTTP\/2\.0" 200 4 -$/);
    });
    it('an ECDHE cipher of TLS 1.2 by its OpenSSL name, over HTTP/1.1', async () => {
      const file = path.join(dir, 'gh-t.test.log');
      await curl([...pair.gh.curlArgs('t.test', '/y'), '--http1.1', '--tls-max', '1.2']);
      const line = await nextLine(file, 1);
      expect(line).to.match(/^TLSv1\.2 ECDHE-[A-Z0-9-]+ t\.test \. http\/1\.1 NONE - on https "GET \/y HTTP\/1\.1" 200 4 -$/);
    });
  });

  describe('access_log off per location', () => {
    for (const host of ['c.test', 'v.test'] as const) {
      it(`${host}: /health is not logged, the next request is`, async () => {
        const nBefore = lineCount(nginxLog(host));
        const gBefore = lineCount(ghLog(host));
        const nginxAnswer = await send(nginxPort, Buffer.from(get(host, '/health')));
        const ghAnswer = await send(ghPort, Buffer.from(get(host, '/health')));
        pairs++;
        expect(nginxAnswer.toString()).to.match(/^HTTP\/1\.1 200/);
        expect(ghAnswer.toString()).to.match(/^HTTP\/1\.1 200/);
        const line = await same(host, get(host, '/r/after-health'));
        expect(line).to.contain('/r/after-health');
        expect(lineCount(nginxLog(host))).to.equal(nBefore + 1);
        expect(lineCount(ghLog(host))).to.equal(gBefore + 1);
      });
    }
  });

  describe('variables echoed through return and response headers', () => {
    /** The same request to both through the harness; status and body compared. */
    const echo = async (raw: string): Promise<void> => {
      const r = await pair.both({ raw });
      pairs++;
      expectSame(r.nginx, r.gatehouse, { body: true });
    };

    it('request variables in a return body are the same', async () => {
      await echo(get('e.test', '/echo/same?a=%41&b', `Cookie: c=1\r\nX-A: x"y\r\nAuthorization: Basic ${b64('u:p')}\r\n`));
    });
    it('request variables of a POST with an absolute-form target', async () => {
      await echo(`POST http://e.test/echo/abs HTTP/1.1\r\nHost: e.test\r\nContent-Length: 2\r\nContent-Type: text/x\r\nConnection: close\r\n\r\nhi`);
    });
    it('$status in the text of a return is its code ($body_bytes_sent still 0)', async () => {
      await echo(get('e.test', '/st/x'));
    });
    it('request variables of an HTTP/1.0 request with empty args and a cookie list', async () => {
      await echo(`GET /echo/ten? HTTP/1.0\r\nHost: e.test\r\nCookie: a=1; c=two; c=3\r\n\r\n`);
    });
    it('$request_id: 32 hex digits, new for every request, the same in the header and the log', async () => {
      const first = await both('i.test', get('i.test', '/id/echo'));
      const second = await both('i.test', get('i.test', '/id/echo'));
      for (const r of [first, second]) {
        for (const [line, response] of [[r.nginx, r.nginxResponse], [r.gatehouse, r.ghResponse]] as const) {
          const id = line.split(' ')[0] as string;
          expect(id).to.match(/^[0-9a-f]{32}$/);
          expect(line.split(' ')[1]).to.equal(id);
          expect(response.toString('latin1').toLowerCase()).to.contain(`\r\nx-req: ${id}\r\n`);
          // The same id went to the upstream (the echo backend answers with what it saw).
          expect(response.toString('latin1')).to.contain(`"x-id":"${id}"`);
        }
      }
      expect(first.gatehouse.split(' ')[0]).to.not.equal(second.gatehouse.split(' ')[0]);
    });
    it('$msec, $time_iso8601, $pid, $connection, $request_time and $request_length have nginx\'s shapes', async () => {
      const r = await both('i.test', get('i.test', '/id/status/200', 'X-Pad: 12345\r\n'));
      const shape = /^[0-9a-f]{32} [0-9a-f]{32} (\d+) 1 (\d+\.\d{3}) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d) (\d+) (\d+\.\d{3}) (\d+) (\d+) 200$/;
      const n = shape.exec(r.nginx);
      const g = shape.exec(r.gatehouse);
      expect(n, r.nginx).to.not.equal(null);
      expect(g, r.gatehouse).to.not.equal(null);
      // $request_length: the request line and header bytes, the same request on both.
      expect(g?.[6]).to.equal(n?.[6]);
      expect(Math.abs(Number(g?.[2]) - Date.now() / 1000)).to.be.below(10);
    });
    it('$connection_requests counts the requests of a keep-alive connection', async () => {
      const two = `GET /id/status/200 HTTP/1.1\r\nHost: i.test\r\n\r\nGET /id/status/201 HTTP/1.1\r\nHost: i.test\r\nConnection: close\r\n\r\n`;
      const nBefore = lineCount(nginxLog('i.test'));
      const gBefore = lineCount(ghLog('i.test'));
      await send(nginxPort, Buffer.from(two));
      await send(ghPort, Buffer.from(two));
      pairs += 2;
      await nextLine(nginxLog('i.test'), nBefore + 1);
      await nextLine(ghLog('i.test'), gBefore + 1);
      const field = (file: string, i: number): string[] =>
        (fs.readFileSync(file, 'latin1').split('\n')[i] as string).split(' ');
      for (const file of [nginxLog('i.test'), ghLog('i.test')]) {
        const [a, b] = [field(file, file.includes('nginx') ? nBefore : gBefore), field(file, (file.includes('nginx') ? nBefore : gBefore) + 1)];
        expect(a[3]).to.equal('1');
        expect(b[3]).to.equal('2');
        expect(a[2]).to.equal(b[2]);
      }
    });
  });

});
