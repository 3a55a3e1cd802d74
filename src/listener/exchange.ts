// One request/response exchange, whatever the client protocol. HTTP/2 uses the core stream API
// (no compat Http2ServerRequest/Response objects: measured as the main per-request cost, see
// docs/performance.md); HTTP/1.x uses Node's http server objects.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import http2, { type ServerHttp2Stream } from 'node:http2';
import { PassThrough, type Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { ClientTimeouts, ConnectionInfo, Exchange, ResponseHeaders } from '../http/exchange.js';
import { HOP_BY_HOP } from '../http/hop-by-hop.js';
import type { CertEntry } from '../tls/types.js';
import { BodyProgress, SendProgress, type ConnectionGuard, type Watched } from './connection-guard.js';
import { sameAuthority, validH2Method } from '../http/authority.js';

type CloseCallback = (aborted: boolean) => void;

/**
 * An exchange keeps its onClose callbacks itself behind one 'close' listener: a listener per
 * callback (once() wraps each in a bound function) was measurable per request at 1 KiB.
 */
function addCloseCallback(list: CloseCallback[] | undefined, cb: CloseCallback): CloseCallback[] {
  if (list === undefined) return [cb];
  list.push(cb);
  return list;
}

function runCloseCallbacks(list: CloseCallback[] | undefined, aborted: boolean): void {
  if (list !== undefined) for (const cb of list) cb(aborted);
}

/** nginx's lingering_time: how long an answered client may take to finish sending a body we discard. */
const DISCARD_BODY_MS = 30_000;
const noop = (): void => undefined;

/**
 * A body given whole (an error page, a cached response) goes to the socket in slices of this size:
 * send_timeout counts a completed write as progress, and one large write completes only when the
 * client has taken all of it.
 */
const RESPOND_SLICE = 64 * 1024;

/** The reader of a request body gets this when client_body_timeout ran out (the client was answered 408). */
export class ClientBodyTimeout extends Error {
  readonly code = 'ECLIENTBODYTIMEOUT';
  constructor() {
    super('client timed out sending the request body');
  }
}

const TIMED_OUT_BODY = '408 Request Timeout\n';

function writeSliced(write: (chunk: Buffer) => unknown, buf: Buffer): void {
  for (let off = 0; off < buf.length; off += RESPOND_SLICE) write(buf.subarray(off, off + RESPOND_SLICE));
}

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

/** Runs `fn` once, just before a consumer first reads `stream` (undici's read(0) at dispatch counts). */
function beforeFirstRead(stream: Readable, fn: () => void): void {
  const read = stream._read;
  stream._read = (size: number): void => {
    stream._read = read;
    fn();
    read.call(stream, size);
  };
}

const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/;

/** The authority an HTTP/1.x request is for: an absolute-form target's, else the Host header. */
export function requestAuthority(req: IncomingMessage): string | undefined {
  const target = req.url ?? '/';
  if (target.charCodeAt(0) === 0x2f) return req.headers.host;
  return ABSOLUTE_FORM.exec(target)?.[1] ?? req.headers.host;
}

/** RFC 9112 §3.2: a request with more than one Host line gets 400 (Node keeps the first one). */
export function duplicateHost(raw: readonly string[]): string | undefined {
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host' && ++seen > 1) return 'more than one Host header';
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
    this.malformed = duplicateHost(req.rawHeaders);
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

  respond(status: number, headers: ResponseHeaders, body?: string | Buffer): void {
    this.status = status;
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
    return this.res.write(chunk);
  }

  end(): void {
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

const { NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = http2.constants;

/** `te: trailers` (RFC 9113 §8.2.2: the only TE allowed in HTTP/2), sent by gRPC clients. */
function acceptsTrailers(headers: IncomingHttpHeaders): boolean {
  const te = headers.te;
  return te !== undefined && /(?:^|,)\s*trailers\s*(?:[;,]|$)/i.test(String(te));
}

export class H2Exchange implements Exchange, Watched {
  readonly protocol = 'HTTP/2.0' as const;
  readonly method: string;
  readonly rawTarget: string;
  readonly authority: string | undefined;
  readonly malformed: string | undefined;
  readonly body: Readable | undefined;
  readonly startedAt = performance.now();
  bytesSent = 0;
  status = 0;
  closed = false;
  /** Response trailers are forwarded only to clients that said they take them. */
  private readonly wantsTrailers: boolean;
  /** A streamed response head not yet on the wire (trailer mode only; see respond()). */
  private pendingHead: OutgoingHttpHeaders | undefined;
  private committed = false;
  private trailers: IncomingHttpHeaders | undefined;
  private closeCallbacks: CloseCallback[] | undefined;
  private timeouts: ClientTimeouts | undefined;
  /** send_timeout for this stream: its unsent bytes wait for the client's flow-control window. */
  private readonly sendProgress: SendProgress;

  constructor(
    readonly stream: ServerHttp2Stream,
    readonly headers: IncomingHttpHeaders,
    readonly conn: ConnectionInfo,
    private readonly guard?: ConnectionGuard,
  ) {
    this.method = (headers[':method'] as string | undefined) ?? 'GET';
    this.rawTarget = (headers[':path'] as string | undefined) ?? '/';
    const authority = headers[':authority'] as string | undefined;
    this.authority = authority ?? headers.host;
    this.malformed = !validH2Method(this.method)
      ? 'an HTTP/2 method that is not upper-case'
      : authority !== undefined && headers.host !== undefined && !sameAuthority(authority, headers.host, conn.secure ? 443 : 80)
        ? 'an HTTP/2 host header naming another authority than :authority'
        : undefined;
    this.wantsTrailers = acceptsTrailers(headers);
    // Every data write goes through write() or respond(), which count it in bytesSent.
    this.sendProgress = new SendProgress(
      () => stream.writableLength,
      () => this.bytesSent - stream.writableLength,
    );
    if (guard) {
      guard.streamOpened();
      guard.watch(this);
    }
    stream.on('close', () => {
      this.closed = true;
      if (guard) {
        guard.unwatch(this);
        guard.streamClosed();
      }
      runCloseCallbacks(this.closeCallbacks, stream.rstCode !== 0 || !stream.writableFinished);
    });
    // Consumers (undici) destroy a body stream once they are done with it; destroying the
    // Http2Stream itself would also kill the response, so they get a PassThrough fed from it.
    // A CONNECT stream's data is a tunnel (RFC 8441 WebSocket), not a request body.
    const body = stream.endAfterHeaders || this.method === 'CONNECT' ? undefined : stream.pipe(new PassThrough());
    this.body = body;
    if (body) {
      beforeFirstRead(body, () => {
        // As for HTTP/1.1 (H1Exchange): the 100 (RFC 9113 §8.1) goes out when a route first reads the body.
        if (headers.expect?.toLowerCase() === '100-continue' && !this.headersSent && !stream.destroyed) stream.additionalHeaders({ ':status': 100 });
        const timeouts = this.timeouts ?? guard?.timeouts;
        if (guard && timeouts) guard.watch(new BodyProgress(stream, timeouts.bodyMs, () => this.bodyTimedOut(body)));
      });
    }
    // Answered before the whole body came in (a backend that answered early, a 413): once the response
    // is complete, RST_STREAM NO_ERROR asks the client to stop sending (RFC 9113 §8.1), as nginx does;
    // otherwise the unread body fills the stream's window and the client waits to send the rest.
    if (this.body) stream.once('finish', () => !stream.readableEnded && !stream.destroyed && stream.close(NGHTTP2_NO_ERROR));
  }

  get headersSent(): boolean {
    return this.committed || this.stream.headersSent;
  }

  useTimeouts(timeouts: ClientTimeouts): void {
    this.timeouts = timeouts;
  }

  /** The connection guard's sweep: send_timeout for this stream. False once it needs no watching. */
  check(now: number): boolean {
    if (this.closed) return false;
    if (!this.sendProgress.stalled(now, (this.timeouts ?? this.guard?.timeouts)?.sendMs ?? Infinity)) return true;
    // Ended or not, what is queued will never go: reset the stream (nginx resets it too).
    if (!this.stream.destroyed) this.stream.close(NGHTTP2_INTERNAL_ERROR);
    return false;
  }

  /** client_body_timeout: 408 (nginx logs 408 and resets), and the body's reader fails. */
  private bodyTimedOut(body: PassThrough): void {
    if (!this.headersSent && !this.closed) this.respond(408, { 'content-type': 'text/plain; charset=utf-8' }, TIMED_OUT_BODY);
    this.stream.unpipe(body);
    body.destroy(new ClientBodyTimeout());
  }

  respond(status: number, headers: ResponseHeaders, body?: string | Buffer): void {
    if (this.stream.destroyed || this.stream.closed) return;
    this.status = status;
    headers[':status'] = status;
    if (body !== undefined) {
      const buf = typeof body === 'string' ? Buffer.from(body) : body;
      headers['content-length'] = buf.length;
      const noBody = this.method === 'HEAD' || buf.length === 0;
      this.stream.respond(headers, { endStream: noBody });
      if (noBody) return;
      this.bytesSent += buf.length;
      if (buf.length <= RESPOND_SLICE) {
        this.stream.end(buf);
        return;
      }
      writeSliced((c) => this.stream.write(c), buf);
      this.stream.end();
      return;
    }
    if (!this.wantsTrailers) {
      this.stream.respond(headers);
      return;
    }
    // A client that takes trailers gets the upstream's (gRPC's grpc-status), so the head goes out
    // with waitForTrailers. One exception must be kept intact: a head that ends the response at
    // once (gRPC "trailers-only", HEAD, 204) is one HEADERS frame with END_STREAM, and gRPC clients
    // read grpc-status from it only then. Transports end such a response in the same tick as its
    // head, so the head waits for a microtask to see whether end() follows.
    this.committed = true;
    this.pendingHead = headers as OutgoingHttpHeaders;
    queueMicrotask(() => this.flushHead(false));
  }

  private flushHead(endStream: boolean): void {
    const head = this.pendingHead;
    if (head === undefined) return;
    this.pendingHead = undefined;
    if (this.stream.destroyed || this.stream.closed) return;
    if (endStream) {
      this.stream.respond(head, { endStream: true });
      return;
    }
    this.stream.respond(head, { waitForTrailers: true });
    this.stream.once('wantTrailers', () => {
      try {
        this.stream.sendTrailers(trailerFields(this.trailers));
      } catch {
        this.stream.close(NGHTTP2_INTERNAL_ERROR);
      }
    });
  }

  write(chunk: Buffer): boolean {
    this.flushHead(false);
    this.bytesSent += chunk.length;
    return this.stream.write(chunk);
  }

  end(trailers?: IncomingHttpHeaders): void {
    if (this.stream.destroyed) return;
    if (this.pendingHead !== undefined && this.bytesSent === 0 && trailers === undefined) {
      this.flushHead(true);
      return;
    }
    this.trailers = trailers;
    this.flushHead(false);
    this.stream.end();
  }

  onDrain(cb: () => void): void {
    this.stream.once('drain', cb);
  }

  onClose(cb: CloseCallback): void {
    this.closeCallbacks = addCloseCallback(this.closeCallbacks, cb);
  }

  abort(): void {
    this.pendingHead = undefined;
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.close(NGHTTP2_INTERNAL_ERROR);
  }
}

/** Trailers as HTTP/2 allows them: no pseudo-headers, no connection-specific fields. */
function trailerFields(trailers: IncomingHttpHeaders | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  if (trailers === undefined) return out;
  for (const name in trailers) {
    if (name.charCodeAt(0) === 58 /* ':' */ || HOP_BY_HOP.has(name) || name === 'content-length') continue;
    out[name] = trailers[name];
  }
  return out;
}

/**
 * A connection's addresses, read once. The local port is the listener's (an accepted socket has the
 * port it was accepted on), and the local address is read only when something asks for it
 * ($server_addr, CGI's SERVER_ADDR): each is a getsockname() call through the TLS socket's handle
 * proxy, measurable on a path that serves one request per connection.
 */
class SocketConnectionInfo implements ConnectionInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  readonly tlsVersion: string | undefined;
  readonly servername: string | undefined;
  readonly cert: CertEntry | undefined;
  private local: string | undefined = undefined;

  constructor(
    private readonly socket: TLSSocket | import('node:net').Socket,
    readonly secure: boolean,
    listenerPort: number | undefined,
  ) {
    const tlsSocket = socket as TLSSocket & { gatehouseCert?: CertEntry };
    this.remoteAddress = normaliseAddress(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.localPort = listenerPort ?? socket.localPort ?? 0;
    this.tlsVersion = secure ? (tlsSocket.getProtocol?.() ?? undefined) : undefined;
    this.servername = secure ? (tlsSocket.servername || undefined) : undefined;
    this.cert = tlsSocket.gatehouseCert;
  }

  get localAddress(): string {
    this.local ??= normaliseAddress(this.socket.localAddress ?? '');
    return this.local;
  }
}

export function connectionInfo(socket: TLSSocket | import('node:net').Socket, secure: boolean, listenerPort?: number): ConnectionInfo {
  return new SocketConnectionInfo(socket, secure, listenerPort);
}

/** `::ffff:127.0.0.1` (dual-stack sockets) is logged and forwarded as `127.0.0.1`, like nginx does. */
function normaliseAddress(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}
