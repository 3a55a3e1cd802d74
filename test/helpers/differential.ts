// Differential tests: one nginx 1.22 and one gatehouse started side by side on loopback, plain
// HTTP, in front of the same echo backend; every request goes to both and the answers are
// compared. Where gatehouse claims nginx's behaviour, this is the proof (README "Coming from nginx").
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { expect } from 'chai';
import { startNginx } from './cgi-peers.js';
import { startEchoBackend, type EchoBackend } from './echo-backend.js';
import { startGatehouse, tempDir, type Gatehouse } from './gatehouse.js';
import { freePort } from './ports.js';
import type { Peer } from './process.js';

export interface DifferentialSetup {
  /** The body of nginx's http block: one or more `server { listen 127.0.0.1:${port}; ... }`. */
  nginx(p: { port: number; backend: string; dir: string }): string;
  /** gatehouse's config; `listen` is filled in. Sites need `tls: off` to be compared over plain HTTP. */
  gatehouse(p: { backend: string; dir: string }): Record<string, unknown>;
  /** Files written under the shared folder before both start (path relative to it → content). */
  files?: Record<string, string | Buffer>;
  /** Extra environment for gatehouse. */
  env?: NodeJS.ProcessEnv;
  /** The echo backend listens on the unix socket `DIR/backend.sock`; `backend` is then its path. */
  backendSocket?: boolean;
}

export interface Answer {
  status: number;
  /** Lower-case names; repeated fields joined with ", " except set-cookie (kept as a list in order). */
  headers: Record<string, string>;
  /** Every field in order as received, names lower-cased. */
  fields: Array<[string, string]>;
  body: string;
  /** What the echo backend saw, when the body is its JSON record. */
  backend?: Record<string, unknown>;
  /** The raw bytes of the response head. */
  head: string;
}

export interface PairRequest {
  /** Exact request bytes; `Connection: close` is the caller's business. */
  raw?: string;
  method?: string;
  path?: string;
  /** Defaults: Host a.test, Connection close. */
  headers?: Record<string, string>;
  body?: string;
}

export interface Differential {
  dir: string;
  backend: EchoBackend;
  gh: Gatehouse;
  nginxPort: number;
  ghPort: number;
  nginx: Peer;
  /** How many request pairs were sent so far (all differential files together). */
  readonly pairs: number;
  both(req: PairRequest): Promise<Record<Side, Answer>>;
  one(side: Side, req: PairRequest): Promise<Answer>;
  close(): Promise<void>;
}

export type Side = 'nginx' | 'gatehouse';

let pairCount = 0;
/** Request pairs sent by every differential test of this run (both harnesses together). */
export function differentialPairs(): number {
  return pairCount;
}

/** Counts request pairs that are not sent through `sendToBoth` (a WebSocket round trip on each side). */
export function countPairs(n: number): void {
  pairCount += n;
}

/** The same request to both sides at once, counted in differentialPairs(). */
export async function sendToBoth<R>(one: (side: Side, req: R) => Promise<Answer>, req: R): Promise<Record<Side, Answer>> {
  pairCount++;
  const [nginx, gatehouse] = await Promise.all([one('nginx', req), one('gatehouse', req)]);
  return { nginx, gatehouse };
}

/** Writes `files` (path relative to `dir` → content) under `dir`, making their folders. */
export function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
}

export async function startDifferential(setup: DifferentialSetup): Promise<Differential> {
  const dir = tempDir('gh-diff-');
  writeFiles(dir, setup.files ?? {});
  const socket = setup.backendSocket ? path.join(dir, 'backend.sock') : undefined;
  const backend = await startEchoBackend(socket);
  const where = socket ?? backend.url;
  const nginxPort = await freePort();
  let nginx: Peer | undefined;
  let gh: Gatehouse | undefined;
  try {
    nginx = await startNginx(dir, setup.nginx({ port: nginxPort, backend: where, dir }), nginxPort);
    gh = await startGatehouse(() => setup.gatehouse({ backend: where, dir }), setup.env ? { env: setup.env } : {});
  } catch (err) {
    await nginx?.stop('SIGQUIT');
    await backend.close();
    throw err;
  }
  const ghPort = gh.httpPort;
  const portOf = (side: Side) => (side === 'nginx' ? nginxPort : ghPort);
  const one = (side: Side, req: PairRequest) => exchange(portOf(side), req);
  const started = { nginx: nginx, gh: gh };
  return {
    dir,
    backend,
    gh: started.gh,
    nginx: started.nginx,
    nginxPort,
    ghPort,
    get pairs() {
      return pairCount;
    },
    one,
    both: (req) => sendToBoth(one, req),
    async close() {
      await started.gh.stop();
      await started.nginx.stop('SIGQUIT');
      await backend.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function requestBytes(req: PairRequest): string {
  if (req.raw !== undefined) return req.raw;
  const headers: Record<string, string> = { host: 'a.test', connection: 'close', ...req.headers };
  if (req.body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return `${req.method ?? 'GET'} ${req.path ?? '/'} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${req.body ?? ''}`;
}

/**
 * One request on a fresh connection (TLS with `secure`: SNI and the CA to trust); the answer is
 * read until the server closes or the body ends.
 */
export function exchange(port: number, req: PairRequest, timeoutMs = 10_000, secure?: { servername: string; ca: string | Buffer }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = secure ? tls.connect({ port, host: '127.0.0.1', servername: secure.servername, ca: secure.ca, ALPNProtocols: ['http/1.1'] }) : net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const headOnly = (req.method ?? /^(\S+)/.exec(req.raw ?? '')?.[1]) === 'HEAD';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer on port ${port} within ${timeoutMs} ms: ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300))}`));
    }, timeoutMs);
    const finish = (answer: Answer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const tryParse = (ended: boolean) => {
      const data = Buffer.concat(chunks);
      const answer = parseResponse(data, ended, headOnly);
      if (answer) finish(answer);
      else if (ended) {
        clearTimeout(timer);
        reject(new Error(`connection closed before a complete answer on port ${port}: ${JSON.stringify(data.toString('latin1').slice(0, 300))}`));
      }
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      tryParse(false);
    });
    socket.on('end', () => tryParse(true));
    socket.on('error', (err) => {
      if (chunks.length > 0) tryParse(true);
      else {
        clearTimeout(timer);
        reject(err);
      }
    });
    socket.write(requestBytes(req));
  });
}

function parseResponse(data: Buffer, ended: boolean, headOnly: boolean): Answer | undefined {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd === -1) return undefined;
  const head = data.subarray(0, headEnd).toString('latin1');
  const [statusLine, ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine ?? '')?.[1]);
  const fields: Array<[string, string]> = lines.map((l) => {
    const colon = l.indexOf(':');
    return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()];
  });
  const headers: Record<string, string> = {};
  for (const [k, v] of fields) headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  const rest = data.subarray(headEnd + 4);
  let body: Buffer | undefined;
  if (headOnly || status === 204 || status === 304 || status < 200) body = Buffer.alloc(0);
  else if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) body = dechunk(rest);
  else if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (rest.length >= n) body = rest.subarray(0, n);
  } else if (ended) body = rest;
  if (!body) return undefined;
  const text = body.toString('utf8');
  const answer: Answer = { status, headers, fields, body: text, head };
  if (headers['content-type']?.startsWith('application/json')) {
    try {
      const record = JSON.parse(text) as Record<string, unknown>;
      if (record && typeof record === 'object' && 'url' in record && 'headers' in record) answer.backend = record;
    } catch {
      /* not the echo backend's record */
    }
  }
  return answer;
}

function dechunk(data: Buffer): Buffer | undefined {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd === -1) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    at = lineEnd + 2;
    if (size === 0) return Buffer.concat(out);
    if (data.length < at + size + 2) return undefined;
    out.push(data.subarray(at, at + size));
    at += size + 2;
  }
}

/** nginx's error pages carry its version (server_tokens); gatehouse's have no such line. */
export const withoutServerLine = (body: string): string => body.replace(/<hr><center>nginx[^<]*<\/center>\r\n/, '');

export interface SameOptions {
  /** Compare the status (default true). */
  status?: boolean;
  /** Response headers to compare (lower-case); absent on both counts as equal. */
  headers?: string[];
  /** Compare the body: true for exact, or a function that normalises both first. */
  body?: boolean | ((body: string) => string);
  /**
   * What the echo backend received: `url`, `method`, `bodyLength`, or `headers.NAME`; the
   * request must have reached the backend on both sides (or on neither).
   */
  backend?: string[];
}

/** One value of the echo backend's record: `url`, `method`, `httpVersion`, `bodyLength` or `headers.NAME`. */
export function backendValue(record: Record<string, unknown> | undefined, key: string): unknown {
  if (!record) return undefined;
  if (key.startsWith('headers.')) return (record.headers as Record<string, unknown> | undefined)?.[key.slice(8)];
  return record[key];
}

/** Asserts that nginx and gatehouse answered alike in what `o` names; the message shows both. */
export function expectSame(nginx: Answer, gatehouse: Answer, o: SameOptions = {}): void {
  const view = (a: Answer) => {
    const v: Record<string, unknown> = {};
    if (o.status !== false) v.status = a.status;
    for (const h of o.headers ?? []) v[`header ${h}`] = a.headers[h];
    if (o.body === true) v.body = a.body;
    else if (typeof o.body === 'function') v.body = o.body(a.body);
    if (o.backend) {
      v.reachedBackend = a.backend !== undefined;
      for (const k of o.backend) v[`backend ${k}`] = backendValue(a.backend, k);
    }
    return v;
  };
  expect(view(gatehouse), 'gatehouse (actual) vs nginx (expected)').to.deep.equal(view(nginx));
}
