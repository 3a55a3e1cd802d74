// One FastCGI request (FastCGI 1.0 §5, the Responder role): BEGIN_REQUEST, PARAMS, STDIN with the
// body streamed under back-pressure; STDOUT read as a CGI response head and then streamed to the
// sink (the socket is paused while the sink is full), STDERR records to the error log, END_REQUEST
// to finish. Whatever the backend sends that breaks the protocol — another version, a truncated
// record, an unknown type, a head over the limit, a non-zero protocolStatus — fails the request
// with EPROTO (a 502), never the process. A connection is reused only after a clean END_REQUEST
// with the whole request sent and nothing after it.
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { UpstreamConfig } from '../../config/types.js';
import { CgiResponseParser } from '../cgi/cgi-response.js';
import { CgiProtocolError } from '../cgi/errors.js';
import { decodeEndRequest, encodeStdin, encodeStdinEnd, FcgiProtocolStatus, FcgiType, type EndRequest } from './codec.js';
import { FastCgiRecordParser, type FastCgiRecord } from './record-parser.js';
import { headerRecord } from '../cgi/response-head.js';
import type { PreparedBody } from '../cgi/body.js';
import { CgiCall } from '../cgi/call.js';
import { encodeRequestHead, refusal, REQUEST_ID, setKeepConn, stderrText } from './request.js';
import { upstreamError } from '../cgi/socket.js';
import type { FreshConnection } from './worker-estimate.js';
import { UpstreamError, type ResponseSink, type UpstreamRequest } from '../types.js';
import { IDEMPOTENT } from '../../http/methods.js';

/**
 * Gets a connection, or why none could be had. A new connection comes with its FreshConnection,
 * watched until its first byte (the caller ends it with freshEnded()); a kept one without.
 */
export type ConnectionHandler = (err: UpstreamError | undefined, socket: Socket | undefined, fresh: FreshConnection | undefined) => void;

/**
 * What a call needs of the connections it runs on: the transport's worker-bounded queue
 * (transport.ts), seen from here so that the call does not import the transport that creates it.
 */
export interface FastCgiConnections {
  readonly keepConn: boolean;
  readonly timeouts: UpstreamConfig['timeouts'];
  acquire(replace: boolean, handler: ConnectionHandler, readTimeoutMs?: number): { cancel(): void };
  freshEnded(fresh: FreshConnection, answered: boolean): void;
  release(socket: Socket, startedAt: number): void;
}

export class FastCgiCall extends CgiCall {
  private retried = false;
  /** While waiting for a connection: kept, new, or a place in the transport's queue. */
  private waiter: { cancel(): void } | undefined;
  private body: PreparedBody | undefined;
  private requestHead: Buffer | undefined;
  // Per connection:
  private reused = false;
  /** When the request went out on this connection. */
  private startedAt = 0;
  /** A new connection that has not answered yet. */
  private fresh: FreshConnection | undefined;
  private gotBytes = false;
  private records: FastCgiRecordParser | undefined;
  private head = new CgiResponseParser();
  private headDone = false;
  private endRecord: EndRequest | undefined;
  private afterEnd = false;

  constructor(
    private readonly transport: FastCgiConnections,
    req: UpstreamRequest,
    sink: ResponseSink,
  ) {
    super(req, sink);
  }

  // Synchronous up to the first write when the body needs no reading and a kept connection is free.
  protected useBody(body: PreparedBody): void {
    this.withBodySafely(body);
  }

  private withBodySafely(body: PreparedBody): void {
    try {
      this.withBody(body);
    } catch (err) {
      // Never call the sink from inside transport.request(): the caller has no call object yet.
      queueMicrotask(() => this.fail(upstreamError(err)));
    }
  }

  private withBody(body: PreparedBody): void {
    this.body = body;
    const contentLength = this.opts.declaredLength ?? (this.req.body ? body.length : undefined);
    this.requestHead = encodeRequestHead(this.opts, body.length, contentLength, this.transport.keepConn);
    this.connect(false);
  }

  private connect(replace: boolean): void {
    this.waiter = this.transport.acquire(
      replace,
      (err, socket, fresh) => {
        this.waiter = undefined;
        if (this.done) {
          if (fresh) this.transport.freshEnded(fresh, false);
          socket?.destroy();
        } else if (err || !socket) this.fail(err ?? new UpstreamError('ECONNECT', 'no FastCGI connection'));
        else this.run(socket, fresh);
      },
      this.req.readTimeoutMs,
    );
  }

  /** `fresh`: a new connection, watched by the transport until it answers; undefined for a kept one. */
  private run(socket: Socket, fresh: FreshConnection | undefined): void {
    this.socket = socket;
    this.reused = fresh === undefined;
    this.fresh = fresh;
    this.startedAt = fresh?.sentAt ?? performance.now();
    setKeepConn(this.requestHead!, this.transport.keepConn);
    this.gotBytes = false;
    this.requestSent = false;
    this.head = new CgiResponseParser();
    this.headDone = false;
    this.endRecord = undefined;
    this.afterEnd = false;
    this.records = new FastCgiRecordParser((r) => this.onRecord(r));
    socket.on('data', this.onData);
    socket.on('end', this.onClose);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
    socket.on('timeout', this.onTimeout);
    const body = this.body!;
    const stream = this.retried ? body.replay() : body.stream;
    this.sendRequest(socket, this.requestHead!, stream, body.length, (chunk) => encodeStdin(REQUEST_ID, chunk), encodeStdinEnd(REQUEST_ID));
  }

  protected timeouts(): { sendMs: number; readMs: number } {
    return this.transport.timeouts;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.done) return;
    this.gotBytes = true;
    this.freshEnded(true);
    try {
      this.records!.push(chunk);
    } catch (err) {
      this.fail(upstreamError(err));
      return;
    }
    if (this.endRecord && !this.done) this.finish(this.endRecord);
  };

  private onRecord(r: FastCgiRecord): void {
    if (this.endRecord) {
      this.afterEnd = true;
      return;
    }
    // Management records (§4) carry request id 0; a responder may send FCGI_UNKNOWN_TYPE there.
    if (r.requestId === 0) return;
    if (r.requestId !== REQUEST_ID) throw new CgiProtocolError('EFCGIPROTO', `FastCGI record for unknown request id ${r.requestId}`);
    switch (r.type) {
      case FcgiType.STDOUT:
        this.onStdout(r.content);
        return;
      case FcgiType.STDERR:
        this.onStderr(r.content);
        return;
      case FcgiType.END_REQUEST:
        this.endRecord = decodeEndRequest(r.content);
        return;
      default:
        throw new CgiProtocolError('EFCGIPROTO', `FastCGI record of type ${r.type} is not one an application sends`);
    }
  }

  private onStdout(content: Buffer): void {
    if (content.length === 0 || this.done) return;
    if (this.headDone) {
      this.deliver(content);
      return;
    }
    const head = this.head.push(content);
    if (!head) return;
    this.headDone = true;
    this.sink.onHeaders(head.status, headerRecord(head.headers) as IncomingHttpHeaders, head.statusText);
    if (head.body.length > 0) this.deliver(head.body);
  }

  private deliver(chunk: Buffer): void {
    if (!this.sink.onData(chunk)) this.pause();
  }

  private onStderr(content: Buffer): void {
    const text = this.opts.onStderr ? stderrText(content) : '';
    if (text !== '') this.opts.onStderr!(text);
  }

  private finish(end: EndRequest): void {
    if (end.protocolStatus !== FcgiProtocolStatus.REQUEST_COMPLETE) {
      this.fail(refusal(end.protocolStatus));
      return;
    }
    if (!this.headDone && !this.headEnded(this.head)) return;
    this.done = true;
    const socket = this.socket!;
    const reusable = this.transport.keepConn && this.requestSent && this.records!.atBoundary && !this.afterEnd;
    this.detachSocket();
    if (reusable) this.transport.release(socket, this.startedAt);
    else socket.destroy();
    this.body?.dispose();
    this.sink.onEnd(undefined);
  }

  private readonly onClose = (): void => {
    if (this.done) return;
    try {
      this.records!.finish();
    } catch (err) {
      this.fail(upstreamError(err));
      return;
    }
    // nginx: "upstream prematurely closed FastCGI stdout".
    this.fail(new UpstreamError('ERESET', 'upstream closed the connection before FCGI_END_REQUEST'));
  };

  protected fail(err: UpstreamError): void {
    if (this.done) return;
    // A kept connection the server had closed meanwhile (a php-fpm worker that reached
    // pm.max_requests): send the request again on a new one, when nothing came back, the body can
    // be sent again, and running it twice would be harmless (a worker that died mid-script also
    // sends nothing).
    if (
      this.socket &&
      this.reused &&
      !this.gotBytes &&
      !this.retried &&
      err.code === 'ERESET' &&
      this.body?.replayable &&
      IDEMPOTENT.has(this.req.method)
    ) {
      this.retried = true;
      const stale = this.socket;
      this.detachSocket();
      stale.destroy();
      this.detachPump?.();
      this.detachPump = undefined;
      this.connect(true);
      return;
    }
    this.done = true;
    this.teardown();
    this.sink.onError(err);
  }

  private freshEnded(answered: boolean): void {
    if (!this.fresh) return;
    this.transport.freshEnded(this.fresh, answered);
    this.fresh = undefined;
  }

  /** Removes this call's listeners; the socket is left open. */
  private detachSocket(): void {
    const socket = this.socket;
    if (!socket) return;
    this.freshEnded(false);
    socket.off('data', this.onData);
    socket.off('end', this.onClose);
    socket.off('close', this.onClose);
    socket.off('error', this.onError);
    socket.off('timeout', this.onTimeout);
    socket.setTimeout(0);
    if (this.paused) socket.resume();
    this.socket = undefined;
  }

  protected teardown(): void {
    this.reading?.abort();
    this.waiter?.cancel();
    this.waiter = undefined;
    const socket = this.socket;
    this.detachSocket();
    if (socket) {
      socket.on('error', () => undefined);
      socket.destroy();
    }
    this.detachPump?.();
    this.detachPump = undefined;
    this.body?.dispose();
  }
}
