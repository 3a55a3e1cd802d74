// HTTP/1.1 (and https://) upstreams over undici: keep-alive connections per server capped at
// `keepalive` idle ones (keepalive.ts),
// streamed bodies with back-pressure (controller.pause/resume), abort carried through. undici has
// no send timeout; `timeouts.send` is a watchdog on the request body (send-timeout.ts).
import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UpstreamConfig } from '../../config/types.js';
import { clientTlsFiles } from '../client-tls.js';
import { KeepAlivePool } from './keepalive.js';
import { SendWatchdog } from '../send-timeout.js';
import { internalError } from '../internal-error.js';
import { systemSocketError } from '../socket-errors.js';
import { UpstreamError, type ResponseSink, type Transport, type UpstreamCall, type UpstreamRequest } from '../types.js';

export interface Http1Options {
  timeouts: UpstreamConfig['timeouts'];
  keepalive: number;
  tls?: UpstreamConfig['tls'];
  /**
   * Connect to this unix socket instead of the origin's host and port (`http+unix:/run/app.sock`).
   * The origin is then `http://localhost` (or https): the Host undici sends when a request has
   * none, and the TLS name of `https+unix:`, as nginx's $proxy_host is "localhost" there.
   */
  socketPath?: string;
}

export class Http1Transport implements Transport {
  readonly address: string;
  private readonly pool: KeepAlivePool;
  private readonly sendMs: number;
  /**
   * Given with every request, the same for all: undici otherwise derives a servername from each
   * request's forwarded Host header (a regex per request) and tears down a kept-alive https://
   * connection whenever it changes ("servername changed"). The name TLS uses is the pool's
   * (KeepAlivePool), not this one.
   */
  private readonly servername: string;

  constructor(origin: URL, options: Http1Options) {
    // `unix:/path` is how nginx writes a socket peer in $upstream_addr and its error log.
    this.address = options.socketPath !== undefined ? `unix:${options.socketPath}` : origin.host;
    this.sendMs = options.timeouts.sendMs;
    const tls = options.tls;
    this.servername = origin.host;
    this.pool = new KeepAlivePool(
      origin.origin,
      {
        keepAliveTimeout: 60_000,
        keepAliveMaxTimeout: 600_000,
        headersTimeout: options.timeouts.readMs,
        bodyTimeout: options.timeouts.readMs,
      },
      {
        timeout: options.timeouts.connectMs,
        ...(options.socketPath !== undefined ? { socketPath: options.socketPath } : {}),
        ...(origin.protocol === 'https:'
          ? {
              rejectUnauthorized: !(tls?.insecure ?? false),
              ...clientTlsFiles(tls),
              ...(tls?.servername ? { servername: tls.servername } : {}),
            }
          : {}),
      },
      options.keepalive,
    );
  }

  request(req: UpstreamRequest, sink: ResponseSink): UpstreamCall {
    let controller: Dispatcher.DispatchController | undefined;
    let pendingAbort: Error | undefined;
    // Only a request with a body has anything to send (0 turns the limit off, as in the CGI transports).
    let watchdog: SendWatchdog | undefined;
    const call: UpstreamCall = {
      abort: (reason) => {
        watchdog?.stop();
        const err = reason ?? new Error('aborted');
        if (controller) controller.abort(err);
        else pendingAbort = err;
      },
      pause: () => controller?.pause(),
      resume: () => {
        if (controller) process.nextTick(resumeLater, controller);
      },
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (pendingAbort) c.abort(pendingAbort);
      },
      onResponseStart(c, status, headers, statusText) {
        sink.onHeaders(status, headers as IncomingHttpHeaders, statusText ?? '');
      },
      onResponseData(c, chunk) {
        if (!sink.onData(chunk)) c.pause();
      },
      onResponseEnd(_c, trailers) {
        watchdog?.stop();
        sink.onEnd(Object.keys(trailers).length > 0 ? (trailers as IncomingHttpHeaders) : undefined);
      },
      onResponseError(_c, err) {
        watchdog?.stop();
        sink.onError(mapError(err));
      },
      onRequestUpgrade(_c, status, headers, socket: Duplex) {
        watchdog?.stop();
        sink.onUpgrade?.(status, headers as IncomingHttpHeaders, socket);
      },
    };
    // `servername` is read by undici's Request (lib/core/request.js) though its typings omit it;
    // test/integration/upstream-sni.test.ts pins what it does.
    const opts: Dispatcher.DispatchOptions & { servername: string } = {
      method: req.method as Dispatcher.HttpMethod,
      path: req.path,
      headers: req.headers,
      body: req.body ?? null,
      servername: this.servername,
    };
    if (req.readTimeoutMs !== undefined) {
      opts.headersTimeout = req.readTimeoutMs;
      opts.bodyTimeout = req.readTimeoutMs;
    }
    if (req.upgrade) opts.upgrade = req.upgrade;
    if (req.body && this.sendMs > 0) watchdog = new SendWatchdog(req.body, this.sendMs, call.abort);
    try {
      this.pool.dispatch(opts, handler);
    } catch (err) {
      watchdog?.stop();
      // undici validates a request synchronously: one it refuses never reached the server (EINTERNAL).
      // Reported like any other failure, never thrown.
      queueMicrotask(() => sink.onError(new UpstreamError('EINTERNAL', `request refused before sending: ${(err as Error).message}`, { cause: err })));
    }
    return call;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/**
 * undici's HTTP/1 parsers share one wasm instance and assert that no parser runs while another does
 * (client-h1.js `assert(currentParser === null)`). A resume can come from inside another
 * connection's parser callback: Node's server emits 'drain' on the response at the head of a
 * pipelined client connection whenever any later response on it writes (`updateOutgoingData` →
 * `socketOnDrain` in _http_server.js), and that write happens inside the later response's
 * upstream onResponseData. Resuming there runs the paused parser inside the running one: undici's
 * assertion fails the running connection's request (which counted as a server failure and marked
 * it down) and leaves the paused one stalled until its read timeout. The resume waits until the
 * running parser has returned (the next tick), whoever asked for it.
 */
function resumeLater(controller: Dispatcher.DispatchController): void {
  controller.resume();
}

function mapError(err: Error): Error {
  if (err instanceof UpstreamError) return err;
  const internal = internalError(err);
  if (internal) return internal;
  const code = (err as { code?: string }).code ?? '';
  const system = systemSocketError(err, code);
  if (system) return system;
  switch (code) {
    // The client stopped sending the body (client_body_timeout): not the server's fault.
    case 'ECLIENTBODYTIMEOUT':
      return new UpstreamError('EBODY', err.message, { cause: err });
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new UpstreamError('ECONNECTTIMEOUT', 'upstream connect timed out', { cause: err });
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new UpstreamError('ETIMEOUT', 'upstream timed out', { cause: err });
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return new UpstreamError('ERESET', `upstream closed the connection: ${err.message}`, { cause: err });
    // undici refused the request before sending it (a header it does not take, such as Expect).
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_NOT_SUPPORTED':
      return new UpstreamError('EINTERNAL', `request refused before sending: ${err.message}`, { cause: err });
    case 'UND_ERR_ABORTED':
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return new UpstreamError('EBODY', err.message, { cause: err });
    default:
      if (code.startsWith('HPE_') || code === 'UND_ERR_INFO' || code.startsWith('ERR_TLS') || /certificate/i.test(err.message)) {
        return new UpstreamError('EPROTO', `invalid upstream response: ${err.message}`, { cause: err });
      }
      return new UpstreamError('ERESET', err.message, { cause: err });
  }
}
