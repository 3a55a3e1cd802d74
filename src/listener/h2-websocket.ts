// WebSockets over HTTP/2 (RFC 8441): an extended CONNECT stream (`:method CONNECT`,
// `:protocol websocket`) is routed like a request for its `:path` and bridged to an HTTP/1.1
// Upgrade upstream (RFC 6455 §4). Success is `:status 200` to the client, after which the stream's
// DATA frames carry the WebSocket frames both ways.
import crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { guardOf } from './connection-guard.js';
import { H2Exchange } from './h2-exchange.js';
import type { ResponseHeaders, Tunnel, TunnelHandshake } from '../http/exchange.js';
import { TunnelIdle } from './tunnel-idle.js';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const { NGHTTP2_CANCEL } = http2.constants;

export function isWebSocketConnect(headers: IncomingHttpHeaders): boolean {
  return headers[':method'] === 'CONNECT' && headers[':protocol'] === 'websocket';
}

/**
 * Any response but the bridge's 200 refuses the tunnel. Nothing reads the stream before the bridge,
 * so Node ends it with RST_STREAM(NO_ERROR) once that response is out (RFC 9113 §8.1), which tells
 * a client still holding its side open to stop.
 */
export class H2WebSocketExchange extends H2Exchange implements Tunnel {
  readonly tunnel: Tunnel = this;
  readonly upgradeTo = 'websocket';
  readonly possible = true;
  readonly required = true;
  readonly rawHead = false;
  /** RFC 8441 §5 drops Sec-WebSocket-Key/Accept; the HTTP/1.1 upstream needs a key of ours. */
  private readonly key = crypto.randomBytes(16).toString('base64');

  /** Turns the routed request into the HTTP/1.1 handshake (RFC 6455 §4.1) for the upstream. */
  prepare(req: TunnelHandshake): void {
    req.method = 'GET';
    req.upgrade = 'websocket';
    req.body = undefined;
    req.headers['sec-websocket-key'] = this.key;
    req.headers['sec-websocket-version'] ??= '13';
  }

  /**
   * After the upstream's 101: checks its Sec-WebSocket-Accept, answers the client 200 and splices
   * the stream to the upstream socket. False (and the socket destroyed) when the handshake is wrong.
   */
  bridge(status: number, upstreamHeaders: IncomingHttpHeaders, clientHeaders: ResponseHeaders, upstream: Duplex, idleMs: number): boolean {
    const accept = crypto.createHash('sha1').update(this.key + WS_GUID).digest('base64');
    if (status !== 101 || upstreamHeaders['sec-websocket-accept'] !== accept) {
      upstream.destroy();
      return false;
    }
    const stream = this.stream;
    if (stream.destroyed || stream.closed) {
      upstream.destroy();
      return true;
    }
    delete clientHeaders['sec-websocket-accept'];
    clientHeaders[':status'] = 200;
    this.status = 200;
    this.sentHeaders = clientHeaders;
    stream.respond(clientHeaders);
    const closeStream = (): void => {
      if (!stream.closed && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
    };
    upstream.on('error', closeStream);
    // A clean end arrives as END_STREAM through pipe(); a close without one is a reset.
    upstream.on('close', () => {
      if (!stream.writableEnded) closeStream();
    });
    stream.on('close', () => upstream.destroy());
    upstream.on('data', (chunk: Buffer) => {
      this.bytesSent += chunk.length;
    });
    upstream.pipe(stream);
    stream.pipe(upstream);
    // send_timeout is the stream's own (H2Exchange.check: its unsent bytes wait for the client's window).
    guardOf(stream.session?.socket)?.watch(
      new TunnelIdle([stream, upstream], idleMs, () => {
        closeStream();
        upstream.destroy();
      }),
    );
    return true;
  }
}
