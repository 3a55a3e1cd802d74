// An HTTP/1.x request/response exchange over Node's http server objects.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { ClientTimeouts, ConnectionInfo, Exchange, ResponseHeaders } from '../http/exchange.js';
import { BodyProgress, type ConnectionGuard } from './connection-guard.js';
import {
  addCloseCallback,
  beforeFirstRead,
  ClientBodyTimeout,
  noop,
  RESPOND_SLICE,
  runCloseCallbacks,
  TIMED_OUT_BODY,
  writeSliced,
  type CloseCallback,
} from './exchange-parts.js';

/** nginx's lingering_time: how long an answered client may take to finish sending a body we discard. */
const DISCARD_BODY_MS = 30_000;

/**
 * The response went out before the whole request body came in (a backend that answered early, a
 * 413): read the rest and drop it, as nginx's discard_request_body does, so the client is not left
 * stalled and the connection can serve its next request. Whoever was reading it (the upstream
 * call) is done with it.
 */
function discardRestOfBody(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  req.unpipe();
  req.removeAllListeners('data');
  req.on('data', noop);
  req.resume();
  const timer = setTimeout(() => req.socket?.destroy(), DISCARD_BODY_MS).unref();
  req.once('close', () => clearTimeout(timer));
  req.once('end', () => clearTimeout(timer));
}

const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/;

/** The authority an HTTP/1.x request is for: an absolute-form target's, else the Host header. */
export function requestAuthority(req: IncomingMessage): string | undefined {
  const target = req.url ?? '/';
  if (target.charCodeAt(0) === 0x2f) return req.headers.host;
  return ABSOLUTE_FORM.exec(target)?.[1] ?? req.headers.host;
}

/**
 * A request with two lines of a field that has one value gets 400 (Node keeps the first one): Host
 * (RFC 9112 §3.2), and Authorization, as nginx 1.22 refuses it (ngx_http_process_unique_header_line),
 * since the access checks would read one line while a FastCGI application, fed the raw list, reads
 * the other (issue 17).
 */
export function duplicateUniqueHeader(raw: readonly string[]): string | undefined {
  let hosts = 0;
  let authorizations = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host' && ++hosts > 1) return 'more than one Host header';
    if (name.length === 13 && name.toLowerCase() === 'authorization' && ++authorizations > 1) return 'more than one Authorization header';
  }
  return undefined;
}

function hasBody1(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

export class H1Exchange implements Exchange {
  readonly protocol: 'HTTP/1.0' | 'HTTP/1.1';
  readonly method: string;
  readonly rawTarget: string;
  readonly authority: string | undefined;
  readonly malformed: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable | undefined = undefined;
  readonly startedAt = performance.now();
  bytesSent = 0;
  status = 0;
  sentHeaders: ResponseHeaders | undefined = undefined;
  /** Chunked framing written around the body: nginx counts it in $body_bytes_sent. */
  framingBytes = 0;
  closed = false;

  /** `Expect: 100-continue` and no 100 sent yet (see the constructor). */
  private awaitingContinue = false;
  private closeCallbacks: CloseCallback[] | undefined;
  private timeouts: ClientTimeouts | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly conn: ConnectionInfo,
    expectContinue = false,
    private readonly guard?: ConnectionGuard,
  ) {
    this.protocol = req.httpVersionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
    this.method = req.method ?? 'GET';
    this.rawTarget = req.url ?? '/';
    this.headers = req.headers;
    this.authority = requestAuthority(req);
    this.malformed = duplicateUniqueHeader(req.rawHeaders);
    res.on('close', () => {
      this.closed = true;
      runCloseCallbacks(this.closeCallbacks, !res.writableFinished);
    });
    if (hasBody1(req)) {
      // Consumers (undici) destroy the body stream they were given once they are done with it, also
      // before its end; destroying the request itself would leave its unread rest stuck on the
      // connection. They get a stream fed from it instead, from their first read on.
      //
      // The 100 of Expect: 100-continue goes out at that first read too (a proxy or CGI route
      // forwarding the body), as nginx and Go's net/http do: a request answered without its body
      // (413 over maxBody, 404, a return route) never makes the client send it, and such an answer
      // closes the connection, since the client may send the body anyway (see respond()).
      const body = new PassThrough();
      this.awaitingContinue = expectContinue;
      beforeFirstRead(body, () => {
        if (this.awaitingContinue && !res.headersSent) res.writeContinue();
        this.awaitingContinue = false;
        const timeouts = this.timeouts ?? this.guard?.timeouts;
        if (this.guard && timeouts) this.guard.watch(new BodyProgress(req, timeouts.bodyMs, () => this.bodyTimedOut(body)));
        req.pipe(body);
      });
      req.once('error', (err) => body.destroy(err));
      this.body = body;
      res.once('finish', () => discardRestOfBody(req));
    }
  }

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  useTimeouts(timeouts: ClientTimeouts): void {
    this.timeouts = timeouts;
  }

  /**
   * client_body_timeout: 408 and a closed connection (the rest of the body would be read as the
   * next request), and the body's reader (an upstream call) fails, which aborts it.
   */
  private bodyTimedOut(body: PassThrough): void {
    if (!this.res.headersSent && !this.closed) {
      this.res.shouldKeepAlive = false;
      this.respond(408, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }, TIMED_OUT_BODY);
    }
    this.req.unpipe(body);
    body.destroy(new ClientBodyTimeout());
  }

  /** Node keeps the head it wrote as `_header` (the HTTP/1 head is plain text: its length is its size). */
  get headBytes(): number {
    const head = (this.res as unknown as { _header?: string | null })._header;
    return typeof head === 'string' ? head.length : 0;
  }

  respond(status: number, headers: ResponseHeaders, body?: string | Buffer): void {
    this.status = status;
    this.sentHeaders = headers;
    if (this.awaitingContinue) this.res.shouldKeepAlive = false;
    if (body !== undefined) {
      const buf = typeof body === 'string' ? Buffer.from(body) : body;
      headers['content-length'] = buf.length;
      this.res.writeHead(status, headers as OutgoingHttpHeaders);
      if (this.method === 'HEAD') {
        this.res.end();
        return;
      }
      this.bytesSent += buf.length;
      if (buf.length <= RESPOND_SLICE) {
        this.res.end(buf);
        return;
      }
      writeSliced((c) => this.res.write(c), buf);
      this.res.end();
      return;
    }
    this.res.writeHead(status, headers as OutgoingHttpHeaders);
  }

  write(chunk: Buffer): boolean {
    this.bytesSent += chunk.length;
    // Node writes each write() as one chunk: `HEX\r\n` DATA `\r\n`.
    if (chunk.length > 0 && this.res.chunkedEncoding) this.framingBytes += chunk.length.toString(16).length + 4;
    return this.res.write(chunk);
  }

  end(): void {
    // The last chunk `0\r\n\r\n` (a HEAD response has no body to end).
    if (this.res.chunkedEncoding && this.method !== 'HEAD') this.framingBytes += 5;
    this.res.end();
  }

  onDrain(cb: () => void): void {
    this.res.once('drain', cb);
  }

  onClose(cb: CloseCallback): void {
    this.closeCallbacks = addCloseCallback(this.closeCallbacks, cb);
  }

  abort(): void {
    if (!this.res.writableEnded) this.res.destroy();
  }
}
