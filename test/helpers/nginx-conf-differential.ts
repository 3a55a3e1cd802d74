// Differential tests on whole nginx configurations (issue 18): the same nginx .conf run by nginx
// 1.22 and by `gatehouse run -c nginx.conf -p PREFIX` (the nginx adapter) side by side on loopback;
// where the adapter claims nginx's behaviour, this is the proof. The configuration is either a site
// file from test/fixtures/nginx-sites/ under Debian's main nginx.conf (mime.types, stock params,
// `include sites-enabled/*`), or an http-block body written in the test (a function of the port).
// Both sides get the same files; they differ only in the listen ports. Backends (echo server,
// php-fpm, uWSGI, a WebSocket echo) and document roots are shared, so the same request must give
// the same answer and the backend must see the same request.
import fs from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { expect } from 'chai';
import WebSocket, { WebSocketServer } from 'ws';
import { NGINX, startPhpFpm, startUwsgi } from './cgi-peers.js';
import { backendValue, countPairs, differentialPairs, exchange, sendToBoth, writeFiles, type Answer, type PairRequest, type Side } from './differential.js';
import { startEchoBackend, type EchoBackend } from './echo-backend.js';
import { REPO, startGatehouseFile, tempDir } from './gatehouse.js';
import { freePort, waitForPort } from './ports.js';
import { startPeer, type Peer } from './process.js';
import { makeTestCa } from './test-ca.js';

export const SITES = path.join(REPO, 'test/fixtures/nginx-sites');

export type { Side };

/** What both setups can ask for besides the configuration itself. */
interface PeersSetup {
  /** Names of the listen ports the site uses as `{{port:NAME}}` (default ['http']). */
  ports?: string[];
  /** How many echo backends: `{{backend}}` (= `{{backend1}}`), `{{backend2}}`, ... (default 1). */
  backends?: number;
  /** Start php-fpm on `{{fpm}}` (127.0.0.1:PORT). */
  fpm?: boolean;
  /** Start uWSGI with this WSGI app (file under the fixtures folder) on `{{uwsgi}}`. */
  uwsgi?: string;
  /** Start the WebSocket echo on `{{ws}}`. */
  ws?: boolean;
  /** Names for one certificate from the test CA, at `{{dir}}/letsencrypt/live/NAME/{fullchain,privkey}.pem`. */
  certificate?: string[];
  /** Files under the shared dir `{{dir}}` (their text is rendered too when it is a string). */
  files?: Record<string, string | Buffer>;
  /** Folders created under the shared dir. */
  dirs?: string[];
}

/** A site file from the fixtures under Debian's main nginx.conf. */
export interface SiteSetup extends PeersSetup {
  /** File name under test/fixtures/nginx-sites/. */
  site: string;
}

/** An http-block body written in the test, with nothing else in the http block but logs and temp paths. */
export interface InlineSetup extends PeersSetup {
  /** Called once per side; every server listens on `127.0.0.1:${port}`, `backend` is the first echo backend's host:port. */
  http(p: { port: number; dir: string; backend: string }): string;
}

export type ConfSetup = SiteSetup | InlineSetup;

export interface ConfRequest extends PairRequest {
  /** Which listen port (default 'http'). */
  port?: string;
  /** TLS with this SNI name, trusting the test CA. */
  tls?: string;
}

export interface ConfPair {
  dir: string;
  /** host:port of every echo backend, in order. */
  backends: EchoBackend[];
  /** The WebSocket echo's record of upgrade requests. */
  wsSeen: Array<{ url: string; headers: IncomingHttpHeaders }>;
  ports: Record<Side, Record<string, number>>;
  caPem?: Buffer;
  /** Request pairs sent by every differential test of this run (differentialPairs()). */
  readonly pairs: number;
  one(side: Side, req: ConfRequest): Promise<Answer>;
  /** The same request to both, answers with each side's ports written as `{port:NAME}`. */
  both(req: ConfRequest): Promise<Record<Side, Answer>>;
  /** A WebSocket handshake + one message round trip on each side. */
  websocket(side: Side, p: { path: string; host: string; port?: string }): Promise<WsResult>;
  close(): Promise<void>;
}

export interface WsResult {
  status: number;
  headers: Record<string, string>;
  /** What the WebSocket backend saw (its first message), or the refusal's body. */
  backend?: { url: string; headers: IncomingHttpHeaders };
  echo?: string;
  body?: string;
}

const STOCK = ['mime.types', 'fastcgi_params', 'fastcgi.conf', 'uwsgi_params', 'scgi_params', 'proxy_params', 'snippets/fastcgi-php.conf'];
const TEMPS = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'];

/** `{{port:NAME}}` from `ports`, `{{NAME}}` from `vars`; an unknown placeholder is the template's bug. */
export function render(template: string, vars: Record<string, string>, ports: Record<string, number>): string {
  return template.replace(/\{\{(port:)?([\w.-]+)\}\}/g, (m, isPort: string | undefined, name: string) => {
    const value = isPort ? ports[name] : vars[name];
    if (value === undefined) throw new Error(`no value for ${m} in the template`);
    return String(value);
  });
}

/** Debian's main nginx.conf: the stock types and the enabled sites. */
const DEBIAN_HTTP = `include mime.types;
  default_type application/octet-stream;
  include sites-enabled/*.conf;`;

/** A main nginx.conf cut to what a test needs: one worker, logs and temp files in the prefix; `http` is the rest of the http block. */
function mainConf(http: string): string {
  return `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
pid nginx.pid;
error_log error.log info;
events { worker_connections 256; }
http {
  access_log off;
${TEMPS.map((t) => `  ${t}_temp_path temp/${t};`).join('\n')}
  ${http}
}
`;
}

/** A WebSocket backend whose first message is the upgrade request it saw; then it echoes "echo:"+text. */
async function startWsEcho(): Promise<{ port: number; seen: NonNullable<WsResult['backend']>[]; close(): Promise<void> }> {
  const seen: NonNullable<WsResult['backend']>[] = [];
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (socket, req) => {
    const record = { url: req.url ?? '', headers: req.headers };
    seen.push(record);
    socket.send(JSON.stringify(record));
    socket.on('message', (data) => socket.send(`echo:${String(data)}`));
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.clients) c.terminate();
        server.close(() => resolve());
      }),
  };
}

export async function startConfPair(setup: ConfSetup): Promise<ConfPair> {
  const dir = tempDir('gh-conf-');
  const stops: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const vars: Record<string, string> = { dir };
    const backends: EchoBackend[] = [];
    for (let i = 1; i <= (setup.backends ?? 1); i++) {
      const b = await startEchoBackend();
      stops.push(() => b.close());
      backends.push(b);
      vars[`backend${i}`] = `127.0.0.1:${b.port}`;
    }
    vars.backend = vars.backend1!;
    // A port nobody listens on: a dead upstream server.
    vars.down = `127.0.0.1:${await freePort()}`;
    let caPem: Buffer | undefined;
    if (setup.certificate) {
      const ca = makeTestCa(path.join(dir, 'ca'));
      const issued = ca.issue('site', setup.certificate);
      const live = path.join(dir, 'letsencrypt/live', setup.certificate[0]!);
      fs.mkdirSync(live, { recursive: true });
      fs.writeFileSync(path.join(live, 'fullchain.pem'), issued.cert);
      fs.writeFileSync(path.join(live, 'privkey.pem'), issued.key);
      caPem = fs.readFileSync(ca.caFile);
    }
    for (const d of setup.dirs ?? []) fs.mkdirSync(path.join(dir, d), { recursive: true });
    writeFiles(dir, Object.fromEntries(Object.entries(setup.files ?? {}).map(([name, content]) => [name, typeof content === 'string' ? render(content, vars, {}) : content])));
    if (setup.fpm) {
      const port = await freePort();
      const fpm = await startPhpFpm(dir, [{ name: 'www', listen: `127.0.0.1:${port}` }]);
      stops.push(() => fpm.stop('SIGTERM'));
      vars.fpm = `127.0.0.1:${port}`;
    }
    if (setup.uwsgi) {
      const port = await freePort();
      const uwsgi = await startUwsgi(path.join(SITES, setup.uwsgi), ['--socket', `127.0.0.1:${port}`], port);
      stops.push(() => uwsgi.stop('SIGTERM'));
      vars.uwsgi = `127.0.0.1:${port}`;
    }
    let wsSeen: ConfPair['wsSeen'] = [];
    if (setup.ws) {
      const ws = await startWsEcho();
      stops.push(() => ws.close());
      vars.ws = `127.0.0.1:${ws.port}`;
      wsSeen = ws.seen;
    }
    const ports: Record<Side, Record<string, number>> = { nginx: {}, gatehouse: {} };
    for (const side of ['nginx', 'gatehouse'] as const) {
      for (const name of setup.ports ?? ['http']) ports[side][name] = await freePort();
      const prefix = path.join(dir, side);
      fs.mkdirSync(path.join(prefix, 'sites-enabled'), { recursive: true });
      for (const t of TEMPS) fs.mkdirSync(path.join(prefix, 'temp', t), { recursive: true });
      for (const f of STOCK) {
        fs.mkdirSync(path.dirname(path.join(prefix, f)), { recursive: true });
        fs.copyFileSync(path.join('/etc/nginx', f), path.join(prefix, f));
      }
      if ('site' in setup) {
        fs.writeFileSync(path.join(prefix, 'nginx.conf'), mainConf(DEBIAN_HTTP));
        fs.writeFileSync(path.join(prefix, 'sites-enabled', setup.site), render(fs.readFileSync(path.join(SITES, setup.site), 'utf8'), vars, ports[side]));
      } else {
        fs.writeFileSync(path.join(prefix, 'nginx.conf'), mainConf(setup.http({ port: ports[side].http!, dir, backend: vars.backend })));
      }
    }
    const nginxPrefix = path.join(dir, 'nginx');
    const nginx: Peer = startPeer(NGINX, ['-p', `${nginxPrefix}/`, '-c', path.join(nginxPrefix, 'nginx.conf'), '-g', 'daemon off;']);
    stops.push(() => nginx.stop('SIGQUIT'));
    await Promise.race([
      Promise.all(Object.values(ports.nginx).map((p) => waitForPort(p))),
      nginx.exited.then(({ code }) => {
        throw new Error(`nginx exited with ${code}:\n${nginx.output().slice(-4000)}`);
      }),
    ]);
    const ghPrefix = path.join(dir, 'gatehouse');
    const gh = await startGatehouseFile(path.join(ghPrefix, 'nginx.conf'), { prefix: ghPrefix, cwd: ghPrefix });
    stops.push(() => gh.stop('SIGTERM'));

    const one = (side: Side, req: ConfRequest) => {
      const port = ports[side][req.port ?? 'http'];
      if (port === undefined) throw new Error(`no port named ${req.port}`);
      return exchange(port, req, 10_000, req.tls ? { servername: req.tls, ca: caPem! } : undefined).then((a) => normaliseSide(a, ports[side], path.join(dir, side)));
    };
    return {
      dir,
      backends,
      wsSeen,
      ports,
      ...(caPem ? { caPem } : {}),
      get pairs() {
        return differentialPairs();
      },
      one,
      both: (req) => sendToBoth(one, req),
      websocket: (side, p) => {
        countPairs(side === 'nginx' ? 1 : 0);
        return websocketRoundTrip(ports[side][p.port ?? 'http']!, p.path, p.host, ports[side]);
      },
      async close() {
        await stopAll();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * Each side's port numbers as `{port:NAME}` and its prefix folder as `{prefix}`, so absolute
 * Locations, SERVER_PORT and `root html` (DOCUMENT_ROOT) compare.
 */
function normaliseSide(a: Answer, ports: Record<string, number>, prefix: string): Answer {
  const fix = (s: string) => portsByName(s.split(prefix).join('{prefix}'), ports);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.headers)) headers[k] = fix(v);
  const out: Answer = { ...a, headers, fields: a.fields.map(([k, v]) => [k, fix(v)]), body: fix(a.body), head: fix(a.head) };
  if (a.backend) out.backend = JSON.parse(fix(JSON.stringify(a.backend))) as Record<string, unknown>;
  return out;
}

/** A side's own port numbers in `text` written as `{port:NAME}`, so the two sides compare. */
function portsByName(text: string, ports: Record<string, number>): string {
  return Object.entries(ports).reduce((acc, [name, port]) => acc.split(String(port)).join(`{port:${name}}`), text);
}

function websocketRoundTrip(port: number, p: string, host: string, ports: Record<string, number>): Promise<WsResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${p}`, { headers: { host }, handshakeTimeout: 5000 });
    const result: WsResult = { status: 0, headers: {} };
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`WebSocket round trip on ${port}${p} did not finish`));
    }, 8000);
    const done = () => {
      clearTimeout(timer);
      ws.terminate();
      resolve(result);
    };
    ws.on('unexpected-response', (_req, res) => {
      result.status = res.statusCode ?? 0;
      for (const [k, v] of Object.entries(res.headers)) result.headers[k] = String(v);
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        result.body = body;
        done();
      });
    });
    ws.on('upgrade', (res) => {
      result.status = res.statusCode ?? 0;
      for (const [k, v] of Object.entries(res.headers)) if (k !== 'sec-websocket-accept') result.headers[k] = String(v);
    });
    ws.on('message', (data) => {
      const text = String(data);
      if (!result.backend) {
        result.backend = JSON.parse(portsByName(text, ports)) as WsResult['backend'];
        ws.send('ping-from-client');
      } else {
        result.echo = text;
        done();
      }
    });
    ws.on('error', (err) => {
      if (result.status === 0) {
        clearTimeout(timer);
        reject(err);
      }
    });
  });
}

export interface CompareOptions {
  /** Response fields compared by value (lower-case); default DEFAULT_HEADERS. */
  headers?: string[];
  /** Response fields compared by presence only; default DEFAULT_PRESENCE. */
  presence?: string[];
  /** Compare the body (default true); a function normalises both first. */
  body?: boolean | ((body: string) => string);
  /** What the echo backend saw: `url`, `method`, `bodyLength`, `headers.NAME` (default DEFAULT_BACKEND when it was reached). */
  backend?: string[];
}

/** Fields whose value a client or cache acts on. */
export const DEFAULT_HEADERS = ['location', 'content-type', 'cache-control', 'vary', 'content-encoding', 'set-cookie', 'allow', 'www-authenticate', 'x-frame-options', 'x-content-type-options', 'strict-transport-security', 'x-app'];
/** Fields whose presence matters more than their value (framing, dates, validators). */
export const DEFAULT_PRESENCE = ['content-length', 'transfer-encoding', 'expires', 'last-modified', 'etag', 'accept-ranges'];
/** The backend-side request of a proxied request. */
export const DEFAULT_BACKEND = ['method', 'url', 'bodyLength', 'headers.host', 'headers.x-real-ip', 'headers.x-forwarded-for', 'headers.x-forwarded-proto', 'headers.x-forwarded-host', 'headers.connection', 'headers.upgrade', 'headers.content-length', 'headers.transfer-encoding', 'headers.cookie', 'headers.user-agent'];

/**
 * The Connection of the request the backend saw, where RFC 9112 §9.3 makes `keep-alive` on an
 * HTTP/1.1 request say nothing more than none (undici always writes one; nginx with
 * `Connection ""` writes none): that reads as none.
 */
export function backendConnection(backend: Record<string, unknown> | undefined): unknown {
  const connection = backendValue(backend, 'headers.connection');
  return backendValue(backend, 'httpVersion') === '1.1' && connection === 'keep-alive' ? undefined : connection;
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const x = JSON.parse(text) as unknown;
    return x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** What a client (and the backend) would notice of one answer. */
function view(a: Answer, o: CompareOptions): Record<string, unknown> {
  const v: Record<string, unknown> = { status: a.status };
  for (const h of o.headers ?? DEFAULT_HEADERS) if (a.headers[h] !== undefined) v[h] = a.headers[h];
  for (const h of o.presence ?? DEFAULT_PRESENCE) if (a.headers[h] !== undefined) v[`${h} (present)`] = true;
  if (a.backend) {
    const backend = Object.fromEntries((o.backend ?? DEFAULT_BACKEND).map((k) => [k, backendValue(a.backend, k)]).filter(([, x]) => x !== undefined));
    if (backend['headers.connection'] !== undefined && backendConnection(a.backend) === undefined) delete backend['headers.connection'];
    v.backend = backend;
  } else if (o.body !== false) {
    // nginx signs its error pages; gatehouse names no server on purpose (server_tokens is ignored).
    const body = a.body.replace('<hr><center>nginx/1.22.1</center>\r\n', '');
    const json = jsonObject(body);
    // A CGI app's JSON record: key by key, so a diff names the param.
    if (json && typeof o.body !== 'function') for (const [k, x] of Object.entries(json)) v[`body.${k}`] = x;
    else v.body = typeof o.body === 'function' ? o.body(body) : body;
  }
  return v;
}

/** Asserts that the answers match in what matters; the failure is a diff with the request named. */
export function expectSameAnswer(label: string, answers: Record<Side, Answer>, o: CompareOptions = {}): void {
  const n = view(answers.nginx, o);
  const g = view(answers.gatehouse, o);
  expect(g, `${label}: gatehouse (actual) vs nginx (expected)`).to.deep.equal(n);
}

/** Sends every request to both sides and compares each; all mismatches are reported together. */
export async function expectSameAll(pair: ConfPair, requests: Array<ConfRequest & { label?: string; compare?: CompareOptions }>): Promise<void> {
  const failures: string[] = [];
  for (const r of requests) {
    const label = r.label ?? `${r.method ?? 'GET'} ${r.path ?? '/'}${r.headers?.host ? ` Host ${r.headers.host}` : ''}${r.tls ? ` (TLS ${r.tls})` : ''}`;
    try {
      expectSameAnswer(label, await pair.both(r), r.compare);
    } catch (err) {
      failures.push(formatMismatch(err as Error & { actual?: unknown; expected?: unknown }));
    }
  }
  if (failures.length > 0) throw new Error(`${failures.length} of ${requests.length} requests differ:\n\n${failures.join('\n\n')}`);
}

/** Only the keys that differ, one line per side. */
function formatMismatch(err: Error & { actual?: unknown; expected?: unknown }): string {
  if (typeof err.actual !== 'object' || typeof err.expected !== 'object' || !err.actual || !err.expected) return err.message;
  const a = err.actual as Record<string, unknown>;
  const e = err.expected as Record<string, unknown>;
  const lines = [err.message.split(':')[0]!];
  for (const k of new Set([...Object.keys(e), ...Object.keys(a)])) {
    const ev = JSON.stringify(e[k]);
    const av = JSON.stringify(a[k]);
    if (ev !== av) lines.push(`  ${k}:\n    nginx     ${ev?.slice(0, 600)}\n    gatehouse ${av?.slice(0, 600)}`);
  }
  return lines.join('\n');
}

/**
 * The pair of one describe block: started in its `before`, closed in its `after`; the getter gives
 * the running pair. `setup` is read when the hook runs, so it may use what earlier hooks started.
 */
export function useConfPair(setup: ConfSetup): () => ConfPair {
  let pair: ConfPair | undefined;
  before(async () => {
    pair = await startConfPair(setup);
  });
  after(async () => pair?.close());
  return () => {
    if (!pair) throw new Error('the nginx/gatehouse pair is not running: its before hook failed');
    return pair;
  };
}
