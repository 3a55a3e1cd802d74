// One request on an HTTP/2 upstream session: a stream, its body sent with flow-control
// back-pressure (timeouts.send watched as for HTTP/1.1, send-timeout.ts), the response and its
// trailers reported to the sink, and a retry on a fresh session when the server refused the stream
// unprocessed.
import crypto from 'node:crypto';
import http2, { type ClientHttp2Stream, type IncomingHttpHeaders, type IncomingHttpStatusHeader, type OutgoingHttpHeaders } from 'node:http2';
import { mapConnectError, type H2SessionPool, type SessionLease, type Waiter } from './session-pool.js';
import { internalError } from '../internal-error.js';
import { SendWatchdog } from '../send-timeout.js';
import { UpstreamError, type ResponseSink, type UpstreamCall, type UpstreamRequest } from '../types.js';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM } = http2.constants;

/** Attempts of one request on fresh sessions when the server refused it unprocessed (GOAWAY, REFUSED_STREAM). */
const MAX_REFUSED_RETRIES = 5;

/** One request: waits for a session, opens a stream, and retries on a new session if refused unprocessed. */
export class H2Call implements UpstreamCall {
  private stream: ClientHttp2Stream | undefined;
  private waiter: Waiter | undefined;
  private done = false;
  private gotResponse = false;
  private bodySent = 0;
  private attempts = 0;
  private paused = false;
  private timer: NodeJS.Timeout | undefined;
  /** While the body is being written to the current stream (and `sendMs` > 0). */
  private watchdog: SendWatchdog | undefined;
  private trailers: IncomingHttpHeaders | undefined;

  constructor(
    private readonly pool: H2SessionPool,
    private readonly req: UpstreamRequest,
    private readonly sink: ResponseSink,
    private readonly headers: OutgoingHttpHeaders,
    private readonly readTimeoutMs: number,
    private readonly sendMs: number,
  ) {
    if (req.upgrade && req.upgrade.toLowerCase() !== 'websocket') {
      queueMicrotask(() => this.fail(new UpstreamError('EPROTO', `an HTTP/2 upstream cannot take an Upgrade to ${req.upgrade}`)));
      return;
    }
    req.body?.on('error', (err) => this.fail(new UpstreamError('EBODY', `request body failed: ${err.message}`, { cause: err })));
    this.start();
  }

  private start(): void {
    this.attempts++;
    const waiter: Waiter = {
      resolve: (lease) => {
        if (waiter.cancelled || this.done) return;
        this.waiter = undefined;
        this.open(lease);
      },
      reject: (err) => {
        this.waiter = undefined;
        this.fail(err);
      },
    };
    this.waiter = waiter;
    this.pool.acquire(waiter);
  }

  private open(lease: SessionLease): void {
    if (this.req.upgrade) {
      this.openWebSocket(lease);
      return;
    }
    let stream: ClientHttp2Stream;
    try {
      stream = lease.session.request(this.headers, { endStream: this.req.body === undefined });
    } catch (err) {
      // The session went away between the pool's check and now (ERR_HTTP2_GOAWAY_SESSION,
      // ERR_HTTP2_INVALID_SESSION): nothing was sent, so try another.
      lease.retire();
      if (this.attempts <= MAX_REFUSED_RETRIES && (err as { code?: string }).code?.startsWith('ERR_HTTP2_')) this.start();
      else this.fail(internalError(err as Error) ?? new UpstreamError('EPROTO', `cannot open an HTTP/2 stream: ${(err as Error).message}`, { cause: err }));
      return;
    }
    this.stream = stream;
    this.pool.track(lease, stream);
    this.armTimer();
    stream.on('response', (headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number) => this.onResponse(headers, flags));
    stream.on('trailers', (trailers: IncomingHttpHeaders) => {
      this.trailers = withoutPseudo(trailers);
    });
    stream.on('data', (chunk: Buffer) => {
      if (this.done) return;
      if (this.sink.onData(chunk)) this.armTimer();
      else this.pause();
    });
    stream.on('end', () => this.finish());
    stream.on('error', () => undefined);
    stream.on('close', () => this.onClose(stream, lease));
    if (this.req.body) this.pumpBody(this.req.body, stream);
  }

  /**
   * A WebSocket (the client's HTTP/1.1 Upgrade, or its RFC 8441 CONNECT already turned into one by
   * H2WebSocketExchange) as an extended CONNECT stream on the upstream session, when the server
   * offered SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3); otherwise EPROTO, a 502 with the reason
   * logged. The upstream's 200 is handed on as the 101 the client side expects, with the
   * Sec-WebSocket-Accept of the request's key (RFC 8441 §5 drops key and accept on HTTP/2), and the
   * stream itself is the tunnel.
   */
  private openWebSocket(lease: SessionLease): void {
    if (!lease.session.remoteSettings.enableConnectProtocol) {
      this.fail(new UpstreamError('EPROTO', 'the HTTP/2 upstream does not offer SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441), so it cannot take a WebSocket'));
      return;
    }
    let stream: ClientHttp2Stream;
    try {
      stream = lease.session.request(webSocketConnectHeaders(this.headers));
    } catch (err) {
      lease.retire();
      this.fail(internalError(err as Error) ?? new UpstreamError('EPROTO', `cannot open an HTTP/2 stream: ${(err as Error).message}`, { cause: err }));
      return;
    }
    this.stream = stream;
    this.pool.track(lease, stream);
    this.armTimer();
    stream.on('error', () => undefined);
    stream.once('response', (headers: IncomingHttpHeaders & IncomingHttpStatusHeader) => {
      if (this.done) return;
      const status = Number(headers[':status']);
      this.gotResponse = true;
      if (status < 200 || status >= 300 || !this.sink.onUpgrade) {
        // A refusal (403, 404...) is an ordinary response.
        stream.on('data', (chunk: Buffer) => {
          if (!this.done && !this.sink.onData(chunk)) this.pause();
        });
        stream.on('end', () => this.finish());
        this.sink.onHeaders(status, withoutPseudo(headers), '');
        return;
      }
      this.done = true;
      this.clearTimer();
      const key = this.req.headers['sec-websocket-key'];
      const accept = crypto.createHash('sha1').update(`${typeof key === 'string' ? key : ''}${WS_GUID}`).digest('base64');
      this.sink.onUpgrade(101, { ...withoutPseudo(headers), connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-accept': accept }, stream);
    });
    stream.on('close', () => this.onClose(stream, lease));
  }

  private onResponse(headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number): void {
    if (this.done) return;
    this.gotResponse = true;
    this.sink.onHeaders(Number(headers[':status']), withoutPseudo(headers), '');
    // A response head that ends the stream (HEAD, 204, a gRPC trailers-only response): end in the
    // same tick, so an HTTP/2 client gets it as one HEADERS frame too (H2Exchange relies on this).
    if (flags & NGHTTP2_FLAG_END_STREAM) this.finish();
    else this.armTimer();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    this.stopWatchdog();
    this.sink.onEnd(this.trailers);
  }

  private onClose(stream: ClientHttp2Stream, lease: SessionLease): void {
    this.clearTimer();
    this.stopWatchdog();
    if (this.done) return;
    if (stream.readableEnded) {
      this.finish();
      return;
    }
    const code = stream.rstCode ?? 0;
    // RFC 9113 §8.7: REFUSED_STREAM, or a stream above GOAWAY's last stream id, was not processed.
    const goaway = lease.goawayLastStreamId;
    const unprocessed = code === NGHTTP2_REFUSED_STREAM || (goaway !== undefined && (stream.id === undefined || stream.id > goaway));
    if (unprocessed && !this.gotResponse && this.bodySent === 0 && this.attempts <= MAX_REFUSED_RETRIES) {
      lease.retire();
      this.stream = undefined;
      this.start();
      return;
    }
    this.fail(
      new UpstreamError(
        'ERESET',
        code === 0 ? 'upstream HTTP/2 session closed mid-stream' : `upstream reset the stream (HTTP/2 error ${code})`,
      ),
    );
  }

  /**
   * Request body → stream, pausing the body while the stream's flow-control window is full: write()
   * returns false once the bytes the server has no window for pass the stream's highWaterMark, and
   * 'drain' comes with its WINDOW_UPDATE. So a paused body is exactly what SendWatchdog watches for;
   * a client that is slow to send leaves it flowing, as does a quiet gRPC stream.
   */
  private pumpBody(body: NonNullable<UpstreamRequest['body']>, stream: ClientHttp2Stream): void {
    const onData = (chunk: Buffer): void => {
      // Counted even when it cannot be written: a consumed chunk rules out a retry.
      this.bodySent += chunk.length;
      if (stream.destroyed) return;
      if (!stream.write(chunk)) {
        body.pause();
        stream.once('drain', () => body.resume());
      }
    };
    const onEnd = (): void => {
      if (!stream.destroyed) stream.end();
    };
    if (body.readableEnded) {
      // An empty body that had ended before a retry.
      onEnd();
      return;
    }
    const watchdog = this.sendMs > 0 ? new SendWatchdog(body, this.sendMs, (err) => this.fail(err)) : undefined;
    this.watchdog = watchdog;
    body.on('data', onData);
    body.once('end', onEnd);
    // A retry's body was paused explicitly when the refused stream closed, and a 'data' listener
    // does not resume an explicitly paused stream.
    body.resume();
    stream.once('close', () => {
      // Before the pause below, which holds the body for a retry and is no wait for the server.
      // Only this stream's: a retry may already have opened the next stream, with its own.
      watchdog?.stop();
      if (this.watchdog === watchdog) this.watchdog = undefined;
      body.off('data', onData);
      body.off('end', onEnd);
      // Retried on another stream: hold the body for it (unless that stream already has it: the
      // retry may have started before this listener ran). Otherwise read the rest away, so an
      // HTTP/1.1 client connection stays usable.
      if (this.done) body.resume();
      else if (this.stream === stream || this.stream === undefined) body.pause();
    });
  }

  /** nginx's proxy_read_timeout: between the request and the head, and between two reads. */
  private armTimer(): void {
    if (this.paused || this.done || this.readTimeoutMs <= 0) return;
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(this.onReadTimeout, this.readTimeoutMs);
  }

  private readonly onReadTimeout = (): void => {
    this.timer = undefined;
    this.fail(new UpstreamError('ETIMEOUT', `upstream sent nothing for ${this.readTimeoutMs} ms`));
  };

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private stopWatchdog(): void {
    if (this.watchdog) {
      this.watchdog.stop();
      this.watchdog = undefined;
    }
  }

  private fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    this.stopWatchdog();
    if (this.waiter) this.waiter.cancelled = true;
    const stream = this.stream;
    if (stream && !stream.closed) stream.close(NGHTTP2_CANCEL);
    this.sink.onError(mapConnectError(err));
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    this.stopWatchdog();
    if (this.waiter) this.waiter.cancelled = true;
    if (this.stream && !this.stream.closed) this.stream.close(NGHTTP2_CANCEL);
  }

  pause(): void {
    this.paused = true;
    this.clearTimer();
    this.stream?.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.stream?.resume();
    this.armTimer();
  }
}

/** RFC 6455 §1.3. */
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** RFC 8441 §4-5: `:method CONNECT` with `:protocol websocket`, without the HTTP/1.1 handshake's key. */
function webSocketConnectHeaders(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ...headers, ':method': 'CONNECT', ':protocol': 'websocket' };
  delete out['sec-websocket-key'];
  delete out.te;
  return out;
}

function withoutPseudo(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    out[name] = headers[name];
  }
  return out;
}
