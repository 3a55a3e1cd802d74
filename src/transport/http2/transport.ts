// HTTP/2 upstreams: `h2://` (TLS, ALPN h2) and `h2c://` (cleartext, prior knowledge). One stream
// per request on pooled, multiplexed sessions (session-pool.ts); bodies stream both ways with
// flow-control back-pressure, and response trailers (gRPC's grpc-status) reach the sink.
// `timeouts.send` is the same watchdog on the request body as for HTTP/1.1 (send-timeout.ts): the
// body is paused while the stream's flow-control window is exhausted.
import { clientTlsFiles } from '../client-tls.js';
import type { OutgoingHttpHeaders } from 'node:http2';
import type { UpstreamConfig } from '../../config/types.js';
import { H2Call } from './call.js';
import { H2SessionPool } from './session-pool.js';
import type { ResponseSink, Transport, UpstreamCall, UpstreamRequest } from '../types.js';

export interface Http2Options {
  timeouts: UpstreamConfig['timeouts'];
  tls?: UpstreamConfig['tls'];
}

// RFC 9113 §8.2.2: connection-specific fields are malformed in HTTP/2 (Node throws on them); the
// Host header travels as :authority (§8.3.1). `te` is allowed with the value `trailers` only.
const NOT_IN_H2 = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'host', 'te']);

export class Http2Transport implements Transport {
  readonly address: string;
  private readonly pool: H2SessionPool;
  private readonly scheme: 'https' | 'http';

  constructor(scheme: 'h2' | 'h2c', address: string, private readonly options: Http2Options) {
    this.address = address;
    this.scheme = scheme === 'h2' ? 'https' : 'http';
    const url = new URL(`http://${address}`);
    const tls = options.tls;
    this.pool = new H2SessionPool({
      host: url.hostname,
      port: Number(url.port || (scheme === 'h2' ? 443 : 80)),
      secure: scheme === 'h2',
      tlsFiles: clientTlsFiles(tls),
      ...(tls?.servername ? { servername: tls.servername } : {}),
      insecure: tls?.insecure ?? false,
      connectTimeoutMs: options.timeouts.connectMs,
      idleTimeoutMs: 60_000,
      maxSessions: 16,
    });
  }

  request(req: UpstreamRequest, sink: ResponseSink): UpstreamCall {
    const timeouts = this.options.timeouts;
    return new H2Call(this.pool, req, sink, this.requestHeaders(req), req.readTimeoutMs ?? timeouts.readMs, timeouts.sendMs);
  }

  private requestHeaders(req: UpstreamRequest): OutgoingHttpHeaders {
    const host = req.headers.host;
    const out: OutgoingHttpHeaders = {
      ':method': req.method,
      ':scheme': this.scheme,
      ':authority': (Array.isArray(host) ? host[0] : host) ?? this.address,
      ':path': req.path,
    };
    for (const name in req.headers) {
      if (NOT_IN_H2.has(name)) continue;
      out[name] = req.headers[name];
    }
    // gatehouse takes trailers from any HTTP/2 upstream (it forwards them to HTTP/2 clients that
    // asked for them, drops them for others), and gRPC servers require this (nginx's grpc_pass
    // sends it always).
    out.te = 'trailers';
    return out;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
