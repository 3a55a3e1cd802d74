// What uwsgi and SCGI upstreams share: one connection per request; a request head (the uwsgi packet
// header and vars, or the SCGI netstring) then exactly CONTENT_LENGTH body bytes; a response that
// is a plain HTTP/1.x head (or a CGI head) and a body that runs until the server closes the
// connection — uWSGI closes after every response, and SCGI has no other framing. The head goes
// through HttpResponseHeadParser; a garbled or missing head is EPROTO (502).
//
// When the head carries a Content-Length, the response ends as soon as that many body bytes are in,
// as nginx's uwsgi and scgi modules do (u->length from the header), without waiting for the server's
// FIN: uWSGI sends the close only after its after-request work, and waiting for it put one more
// event-loop turn and the server's teardown into every request's latency.
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { HttpResponseHeadParser } from './http-response-head.js';
import { headerRecord } from './response-head.js';
import type { PreparedBody } from './body.js';
import { CgiCall } from './call.js';
import type { CgiUpstreamOptions } from './options.js';
import { connectSocket, parseEndpoint, upstreamError, type Endpoint } from './socket.js';
import type { CgiTransportOptions } from '../cgi/options.js';
import { UpstreamError, type ResponseSink, type Transport, type UpstreamCall, type UpstreamRequest } from '../types.js';

/** Builds the bytes sent before the body; may throw CgiProtocolError (vars too big, NUL bytes). */
export type RequestHeadEncoder = (opts: CgiUpstreamOptions, contentLength: number | undefined, bodyLength: number) => Buffer;

export class CgiStreamTransport implements Transport {
  readonly address: string;
  private readonly endpoint: Endpoint;

  constructor(
    address: string,
    readonly options: CgiTransportOptions,
    readonly encodeHead: RequestHeadEncoder,
  ) {
    this.address = address;
    this.endpoint = parseEndpoint(address);
  }

  request(req: UpstreamRequest, sink: ResponseSink): UpstreamCall {
    const call = new StreamCall(this, req, sink);
    call.start();
    return call;
  }

  connect(done: (err: UpstreamError | undefined, socket: Socket) => void): Socket {
    return connectSocket(this.endpoint, this.options.timeouts.connectMs, done);
  }

  async close(): Promise<void> {
    /* nothing is kept between requests */
  }
}

class StreamCall extends CgiCall {
  private body: PreparedBody | undefined;
  private readonly head = new HttpResponseHeadParser();
  private headDone = false;
  /** The head's Content-Length, when it had one and a body is expected: a shorter body is an error. */
  private expected: number | undefined;
  private received = 0;

  constructor(
    private readonly transport: CgiStreamTransport,
    req: UpstreamRequest,
    sink: ResponseSink,
  ) {
    super(req, sink);
  }

  protected useBody(body: PreparedBody): void {
    this.withBody(this.opts, body);
  }

  private withBody(opts: CgiUpstreamOptions, body: PreparedBody): void {
    this.body = body;
    const contentLength = opts.declaredLength ?? (this.req.body ? body.length : undefined);
    let requestHead: Buffer;
    try {
      requestHead = this.transport.encodeHead(opts, contentLength, body.length);
    } catch (err) {
      // Never call the sink from inside transport.request(): the caller has no call object yet.
      queueMicrotask(() => this.fail(upstreamError(err)));
      return;
    }
    this.socket = this.transport.connect((err, socket) => {
      if (this.done) return;
      if (err) this.fail(err);
      else this.run(socket, requestHead, body);
    });
  }

  private run(socket: Socket, requestHead: Buffer, body: PreparedBody): void {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
    socket.on('timeout', this.onTimeout);
    this.sendRequest(socket, requestHead, body.stream, body.length, (chunk) => [chunk]);
  }

  protected timeouts(): { sendMs: number; readMs: number } {
    return this.transport.options.timeouts;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.done) return;
    if (this.headDone) {
      this.deliver(chunk);
      return;
    }
    let head;
    try {
      head = this.head.push(chunk);
    } catch (err) {
      this.fail(upstreamError(err));
      return;
    }
    if (!head) return;
    this.headDone = true;
    const headers = headerRecord(head.headers);
    const cl = headers['content-length'];
    const noBody = this.req.method === 'HEAD' || head.status === 204 || head.status === 304 || head.status < 200;
    if (noBody) this.expected = 0;
    else if (typeof cl === 'string' && /^\d+$/.test(cl)) this.expected = Number(cl);
    this.sink.onHeaders(head.status, headers as IncomingHttpHeaders, head.statusText);
    if (this.done) return;
    if (head.body.length > 0 || this.expected === 0) this.deliver(head.body);
  };

  private deliver(chunk: Buffer): void {
    const left = this.expected === undefined ? chunk.length : this.expected - this.received;
    // Bytes past Content-Length are dropped, as nginx does ("upstream sent more data than specified").
    const piece = chunk.length > left ? chunk.subarray(0, left) : chunk;
    this.received += piece.length;
    const more = piece.length === 0 || this.sink.onData(piece);
    if (this.done) return;
    if (this.expected !== undefined && this.received >= this.expected) this.complete();
    else if (!more) this.pause();
  }

  private complete(): void {
    this.done = true;
    this.teardown();
    this.sink.onEnd(undefined);
  }

  /** The server closed its side: that ends the response. */
  private readonly onEnd = (): void => {
    if (this.done) return;
    if (!this.headDone && !this.headEnded(this.head)) return;
    if (this.expected !== undefined && this.received < this.expected) {
      // nginx: "upstream prematurely closed connection while reading upstream".
      this.fail(new UpstreamError('ERESET', `upstream closed the connection after ${this.received} of ${this.expected} body bytes`));
      return;
    }
    this.complete();
  };

  private readonly onClose = (): void => {
    if (this.done) return;
    this.fail(new UpstreamError('ERESET', 'upstream closed the connection'));
  };

  protected fail(err: UpstreamError): void {
    if (this.done) return;
    this.done = true;
    this.teardown();
    this.sink.onError(err);
  }

  protected teardown(): void {
    this.reading?.abort();
    const socket = this.socket;
    if (socket) {
      socket.off('data', this.onData);
      socket.off('end', this.onEnd);
      socket.off('close', this.onClose);
      socket.off('error', this.onError);
      socket.off('timeout', this.onTimeout);
      socket.on('error', () => undefined);
      socket.setTimeout(0);
      socket.destroy();
      this.socket = undefined;
    }
    this.detachPump?.();
    this.detachPump = undefined;
    this.body?.dispose();
  }
}
