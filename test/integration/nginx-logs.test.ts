// issue 17: logs, differential against nginx 1.22: the same raw requests to nginx and to gatehouse,
// then the access log lines both wrote compared (nginx's predefined combined byte for byte but for
// the time; custom log_formats with many variables, escape=default, json and none, with hostile
// bytes in the request line, User-Agent and Referer), `access_log off` per location, and variables
// echoed through `return 200 "$var"` and response headers.
import { expect } from 'chai';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startNginx } from '../helpers/cgi-peers.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import type { Peer } from '../helpers/process.js';

/** The variables both servers should agree on (no ports, times, pids or ids). */
const VARS = [
  '$remote_addr $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"',
  'host=$host hh="$http_host" sn=$server_name m=$request_method ru="$request_uri" u="$uri" a="$args" ia="$is_args"',
  'qs="$query_string" p=$server_protocol s=$scheme https="$https" arg_a="$arg_a" c="$cookie_c" x="$http_x_hostile"',
  'cl=$content_length ct="$content_type" us=$upstream_status ua=$upstream_addr uct="$upstream_http_content_type"',
  'sxa="$sent_http_x_a" ${request_method}!',
].join(' ');

const HOSTS = ['c.test', 'v.test', 'j.test', 'n.test'] as const;
type Host = (typeof HOSTS)[number];

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
  let dir: string;
  let backend: EchoBackend;
  let nginx: Peer;
  let nginxPort: number;
  let gh: Gatehouse;
  let pairs = 0;

  const nginxLog = (host: Host): string => path.join(dir, `nginx-${host}.log`);
  const ghLog = (host: Host): string => path.join(dir, `gh-${host}.log`);

  before(async () => {
    dir = tempDir('gh-logs-');
    fs.mkdirSync(path.join(dir, 'www'));
    fs.writeFileSync(path.join(dir, 'www', 'index.html'), 'hi\n');
    fs.writeFileSync(path.join(dir, 'www', 'a.txt'), 'static a\n');
    backend = await startEchoBackend();
    nginxPort = await freePort();
    const formats = `
      log_format vars '${VARS}';
      log_format varsjson escape=json '${VARS}';
      log_format varsnone escape=none '${VARS}';`;
    const locations = `
      location = / { return 200 "hello\\n"; }
      location /r/ { return 200 "r $uri\\n"; }
      location /nope/ { return 404 "nope\\n"; }
      location /www/ { alias ${dir}/www/; }
      location /p/ { proxy_pass ${backend.url}/status/; }
      location /health { access_log off; return 200 "ok\\n"; }
      location /hdr/ { add_header X-A "$request_method $http_x_hostile"; return 200 "h\\n"; }`;
    const server = (host: Host, format: string): string => `
      server {
        listen 127.0.0.1:${nginxPort};
        server_name ${host};
        root ${dir}/www;
        access_log ${nginxLog(host)} ${format};
        ${locations}
      }`;
    nginx = await startNginx(
      dir,
      `${formats}\n${server('c.test', 'combined')}${server('v.test', 'vars')}${server('j.test', 'varsjson')}${server('n.test', 'varsnone')}`,
      nginxPort,
    );
    const routes = [
      { location: '= /', return: '200 hello\n' },
      { location: '/r/', return: '200 "r $uri\n"' },
      { location: '/nope/', return: '404 nope\n' },
      { location: '/www/', root: dir },
      { location: '/p/', proxy: `${backend.url}/status/` },
      { location: '/health', return: '200 ok\n', accessLog: 'off' },
      { location: '/hdr/', return: '200 h\n', headers: { response: { set: { 'X-A': '$request_method $http_x_hostile' } } } },
    ];
    const site = (host: Host, format: string) => ({ hosts: host, tls: 'off', accessLog: { file: ghLog(host), format }, routes });
    gh = await startGatehouse(() => ({
      log: {
        access: 'off',
        formats: {
          vars: VARS,
          varsjson: { format: VARS, escape: 'json' },
          varsnone: { format: VARS, escape: 'none' },
        },
      },
      sites: [site('c.test', 'combined'), site('v.test', 'vars'), site('j.test', 'varsjson'), site('n.test', 'varsnone')],
    }));
  });

  after(async () => {
    await gh?.stop();
    await nginx?.stop();
    await backend?.close();
  });

  /** The same request to both; the log line each wrote for it (undefined: none), and the responses. */
  async function both(host: Host, raw: string | Buffer): Promise<{ nginx: string; gatehouse: string; nginxResponse: Buffer; ghResponse: Buffer }> {
    const bytes = typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw;
    const nBefore = lineCount(nginxLog(host));
    const gBefore = lineCount(ghLog(host));
    const nginxResponse = await send(nginxPort, bytes);
    const ghResponse = await send(gh.httpPort, bytes);
    pairs++;
    if (process.env.DEBUG_LOGS) console.log(nginxResponse.toString('latin1'), '\n---\n', ghResponse.toString('latin1'), gh.peer.output().slice(-2000));
    return { nginx: await nextLine(nginxLog(host), nBefore), gatehouse: await nextLine(ghLog(host), gBefore), nginxResponse, ghResponse };
  }

  const normal = (line: string): string => line.replace(/\[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]/, '[TIME]');

  async function same(host: Host, raw: string | Buffer): Promise<string> {
    const r = await both(host, raw);
    expect(normal(r.gatehouse)).to.equal(normal(r.nginx));
    return r.gatehouse;
  }

  const get = (host: string, target: string, extra = ''): string => `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${extra}\r\n`;

  it('probe', async () => {
    for (const host of HOSTS) {
      const r = await both(host, get(host, '/r/x?a=1&b=2', 'User-Agent: ua "q" \\ \xe9\t\xff\r\nReferer: http://ref/\xc3\xa9"\r\nCookie: c=v; d=e\r\n'));
      console.log(host, '\nN ' + r.nginx + '\nG ' + r.gatehouse);
    }
    for (const host of HOSTS) {
      const r = await both(host, get(host, '/p/201?a=%22', 'X-Hostile: "\\x\t\x80\r\n'));
      console.log(host, '\nN ' + r.nginx + '\nG ' + r.gatehouse);
    }
    const r = await both('c.test', get('c.test', '/a"b\\c\xe9?x'));
    console.log('\nN ' + r.nginx + '\nG ' + r.gatehouse);
    console.log(r.nginxResponse.toString('latin1'), r.ghResponse.toString('latin1'));
  });
});
