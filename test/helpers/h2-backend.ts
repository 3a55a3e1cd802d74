// A real HTTP/2 backend on loopback (cleartext h2c, or TLS with ALPN h2): echoes what it received,
// streams big bodies, sends trailers, resets streams, answers slowly, counts sessions, and can send
// GOAWAY after a number of requests per session.
import crypto from 'node:crypto';
import http2, { type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { patternChunk } from './echo-backend.js';

export interface H2SeenRequest {
  method: string;
  path: string;
  scheme: string;
  authority: string;
  headers: Record<string, string | string[] | undefined>;
  bodyLength: number;
  bodySha256: string;
}

export interface H2Backend {
  port: number;
  /** Sessions accepted so far. */
  sessions: number;
  /** GOAWAY frames sent so far. */
  goaways: number;
  seen: H2SeenRequest[];
  /** Bytes of each /big/N response handed to the stream so far, by path (shows back-pressure). */
  written: Map<string, number>;
  close(): Promise<void>;
}

export interface H2BackendOptions {
  tls?: { key: Buffer; cert: Buffer };
  /** Send GOAWAY on a session once it has answered this many requests. */
  goawayAfter?: number;
  /** SETTINGS the server sends (e.g. a low maxConcurrentStreams). */
  settings?: http2.Settings;
}

function streamPattern(stream: ServerHttp2Stream, total: number, progress: (bytes: number) => void): void {
  let off = 0;
  const pump = (): void => {
    while (off < total) {
      const n = Math.min(64 * 1024, total - off);
      const ok = stream.write(patternChunk(n, off));
      off += n;
      progress(off);
      if (!ok) {
        stream.once('drain', pump);
        return;
      }
    }
    stream.end();
  };
  pump();
}

export async function startH2Backend(options: H2BackendOptions = {}): Promise<H2Backend> {
  const settings = options.settings ?? {};
  const server = options.tls ? http2.createSecureServer({ ...options.tls, allowHTTP1: false, settings }) : http2.createServer({ settings });
  const backend: H2Backend = { port: 0, sessions: 0, goaways: 0, seen: [], written: new Map(), close: async () => undefined };
  const open = new Set<Http2Session>();
  server.on('session', (session: Http2Session) => {
    backend.sessions++;
    open.add(session);
    session.on('error', () => undefined);
    session.once('close', () => open.delete(session));
  });
  const answered = new WeakMap<Http2Session, number>();
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    stream.on('error', () => undefined);
    const session = stream.session;
    const hash = crypto.createHash('sha256');
    let length = 0;
    stream.on('data', (c: Buffer) => {
      length += c.length;
      hash.update(c);
    });
    stream.on('end', () => {
      const url = new URL(String(headers[':path']), 'http://x');
      const record: H2SeenRequest = {
        method: String(headers[':method']),
        path: String(headers[':path']),
        scheme: String(headers[':scheme']),
        authority: String(headers[':authority']),
        headers: { ...headers },
        bodyLength: length,
        bodySha256: hash.digest('hex'),
      };
      backend.seen.push(record);
      const big = /^\/(?:.*\/)?big\/(\d+)$/.exec(url.pathname);
      const slow = /\/slow\/(\d+)$/.exec(url.pathname);
      if (big) {
        stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', 'content-length': Number(big[1]) });
        streamPattern(stream, Number(big[1]), (n) => backend.written.set(record.path, n));
      } else if (url.pathname.endsWith('/trailers')) {
        stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
        stream.once('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc123', 'x-count': '2' }));
        stream.write('part one\n');
        stream.end('part two\n');
      } else if (url.pathname.endsWith('/many-cookies')) {
        stream.respond({ ':status': 200, 'set-cookie': Array.from({ length: 200 }, (_, i) => `c${i}=v${i}`) });
        stream.end('ok\n');
      } else if (url.pathname.endsWith('/reset')) {
        stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      } else if (slow) {
        setTimeout(() => {
          if (!stream.closed) {
            stream.respond({ ':status': 200 });
            stream.end('slow\n');
          }
        }, Number(slow[1]));
      } else {
        const body = JSON.stringify(record);
        stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-backend': 'h2' });
        stream.end(body);
      }
      if (options.goawayAfter !== undefined && session) {
        const n = (answered.get(session) ?? 0) + 1;
        answered.set(session, n);
        if (n === options.goawayAfter) {
          backend.goaways++;
          session.goaway();
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backend.port = (server.address() as AddressInfo).port;
  backend.close = () =>
    new Promise<void>((resolve) => {
      for (const s of open) s.destroy();
      server.close(() => resolve());
    });
  return backend;
}
