// One round trip to one upstream server. A transport knows nothing of routing or balancing
// (docs/architecture.md); it streams both ways and reports through a sink, so the proxy core can write
// straight to the client without an intermediate stream per request.
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { CgiUpstreamOptions } from './cgi/options.js';

export interface UpstreamRequest {
  method: string;
  /** Path and query, already rewritten per proxy_pass rules. */
  path: string;
  /** Lower-case names, hop-by-hop already removed, Host included. */
  headers: Record<string, string | string[]>;
  body: Readable | undefined;
  /** Time allowed for the response head, and between two body chunks (nginx proxy_read_timeout). */
  readTimeoutMs?: number;
  /** Set for an HTTP/1.1 Upgrade (e.g. `websocket`). */
  upgrade?: string;
  /** Extra values transports that speak CGI-style protocols need (FastCGI/uwsgi/SCGI). */
  cgi?: CgiUpstreamOptions;
}

export interface ResponseSink {
  onHeaders(status: number, headers: IncomingHttpHeaders, statusText: string): void;
  /** Return false to ask the transport to pause until `call.resume()`. */
  onData(chunk: Buffer): boolean;
  onEnd(trailers: IncomingHttpHeaders | undefined): void;
  onError(err: Error): void;
  onUpgrade?(status: number, headers: IncomingHttpHeaders, socket: Duplex): void;
}

export interface UpstreamCall {
  abort(reason?: Error): void;
  pause(): void;
  resume(): void;
}

export interface Transport {
  /** `host:port` or socket path, for logs. */
  readonly address: string;
  request(req: UpstreamRequest, sink: ResponseSink): UpstreamCall;
  close(): Promise<void>;
}

/**
 * Errors with stable codes, mapped to statuses in one place (handler/upstream-errors.ts). EINTERNAL
 * is gatehouse's own failure (a bug, a request the HTTP client library refused before sending it):
 * it says nothing about the server (transport/internal-error.ts).
 */
export class UpstreamError extends Error {
  constructor(
    readonly code: 'ECONNECT' | 'ETIMEOUT' | 'ECONNECTTIMEOUT' | 'EPROTO' | 'ERESET' | 'EUNAVAILABLE' | 'EBODY' | 'EINTERNAL',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
