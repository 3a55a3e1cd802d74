// A real HTTP/1.1 backend on loopback for proxy tests: echoes what it received, streams big
// bodies, answers slowly or never, and echoes WebSocket messages.
import crypto from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface SeenRequest {
  method: string;
  /** The request line's version: "1.1", "1.0". */
  httpVersion: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  bodyLength: number;
  bodySha256: string;
}

export interface EchoBackend {
  /** 0 on a unix socket. */
  port: number;
  /** `http://host:port`, or `unix:/path` on a unix socket. */
  url: string;
  /** Connections accepted so far (keep-alive reuse). */
  readonly connections: number;
  seen: SeenRequest[];
  /** Requests whose client (gatehouse) went away before the response ended. */
  aborted: string[];
  close(): Promise<void>;
}

/** Deterministic bytes, so both ends can hash them without holding them. */
export function patternChunk(size: number, offset = 0): Buffer {
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) buf[i] = (offset + i) * 31 % 251;
  return buf;
}

export function patternSha256(total: number): string {
  const h = crypto.createHash('sha256');
  for (let off = 0; off < total; off += 1 << 20) h.update(patternChunk(Math.min(1 << 20, total - off), off));
  return h.digest('hex');
}

function streamPattern(res: ServerResponse, total: number): void {
  let off = 0;
  const pump = () => {
    while (off < total) {
      const n = Math.min(64 * 1024, total - off);
      const ok = res.write(patternChunk(n, off));
      off += n;
      if (!ok) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/** `host` is a loopback address, or an absolute path to listen on as a unix socket. */
export async function startEchoBackend(host = '127.0.0.1'): Promise<EchoBackend> {
  let connections = 0;
  const seen: SeenRequest[] = [];
  const aborted: string[] = [];
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/early') {
      // Answers before reading the request body (an app that has seen enough of an upload).
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 6 }).end('early\n');
      return;
    }
    const hash = crypto.createHash('sha256');
    let length = 0;
    req.on('data', (c: Buffer) => {
      length += c.length;
      hash.update(c);
    });
    res.on('close', () => {
      if (!res.writableFinished) aborted.push(req.url ?? '');
    });
    req.on('end', () => {
      const record: SeenRequest = {
        method: req.method ?? '',
        httpVersion: req.httpVersion,
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        bodyLength: length,
        bodySha256: hash.digest('hex'),
      };
      seen.push(record);
      const url = new URL(req.url ?? '/', 'http://x');
      const big = /^\/big\/(\d+)$/.exec(url.pathname);
      const slow = /^\/slow\/(\d+)$/.exec(url.pathname);
      const status = /^\/status\/(\d+)$/.exec(url.pathname);
      if (big) {
        const total = Number(big[1]);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
        streamPattern(res, total);
      } else if (url.pathname === '/hang') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('started\n');
      } else if (url.pathname === '/hang-head') {
        /* never answers */
      } else if (slow) {
        setTimeout(() => res.end('slow\n'), Number(slow[1]));
      } else if (status) {
        res.writeHead(Number(status[1]), { 'content-type': 'text/plain' });
        res.end(`status ${status[1]}\n`);
      } else if (url.pathname.endsWith('/respond')) {
        // Any status with any fields: `?status=302&h=Location:http://x/` (h repeated, "Name:Value");
        // a Content-Type among them replaces the default text/plain, `notype` sends none.
        const given: Array<[string, string]> = [];
        for (const h of url.searchParams.getAll('h')) {
          const colon = h.indexOf(':');
          if (colon > 0) given.push([h.slice(0, colon), h.slice(colon + 1)]);
        }
        const typed = url.searchParams.has('notype') || given.some(([n]) => n.toLowerCase() === 'content-type');
        const headers: Array<[string, string]> = typed ? given : [['content-type', 'text/plain'], ...given];
        res.writeHead(Number(url.searchParams.get('status') ?? 200), headers.flat());
        res.end('respond\n');
      } else if (url.pathname === '/hop') {
        res.writeHead(200, {
          'content-type': 'text/plain',
          connection: 'keep-alive, x-secret-hop',
          'x-secret-hop': 'must not pass',
          'keep-alive': 'timeout=5',
          'proxy-authenticate': 'Basic',
          'x-kept': 'yes',
        });
        res.end('hop\n');
      } else {
        const body = JSON.stringify(record);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      }
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `echo:${String(data)}`));
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  const unix = host.startsWith('/');
  await new Promise<void>((resolve) => (unix ? server.listen(host, resolve) : server.listen(0, host, resolve)));
  const port = unix ? 0 : (server.address() as AddressInfo).port;
  return {
    port,
    url: unix ? `unix:${host}` : `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    get connections() {
      return connections;
    },
    seen,
    aborted,
    close: () =>
      new Promise<void>((resolve) => {
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
