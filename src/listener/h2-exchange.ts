// An HTTP/2 request/response exchange on the core stream API: no compat Http2ServerRequest/Response
// objects, which were measured as the main per-request cost (docs/performance.md).
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import http2, { type ServerHttp2Stream } from 'node:http2';
import { PassThrough, type Readable } from 'node:stream';
import type { ClientTimeouts, ConnectionInfo, Exchange, ResponseHeaders } from '../http/exchange.js';
import { HOP_BY_HOP } from '../http/hop-by-hop.js';
import { sameAuthority, validH2Method } from '../http/authority.js';
import { BodyProgress, SendProgress, type ConnectionGuard, type Watched } from './connection-guard.js';
import {
  addCloseCallback,
  beforeFirstRead,
  ClientBodyTimeout,
  RESPOND_SLICE,
  runCloseCallbacks,
  TIMED_OUT_BODY,
  writeSliced,
  type CloseCallback,
} from './exchange-parts.js';

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
  sentHeaders: ResponseHeaders | undefined = undefined;
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
    this.sentHeaders = headers;
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
