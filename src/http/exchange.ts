// The exchange: one request and its response, whatever the client protocol, as every stage after
// the listener sees it. The listener implements it (H1Exchange, H2Exchange, UpgradeExchange);
// route wrappers decorate it (CompressingExchange, the cache's FillExchange).
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { ClientCertificateInfo } from './client-cert.js';

/** nginx's client timers for one connection or request (README "Security defaults"). */
export interface ClientTimeouts {
  headerMs: number;
  bodyMs: number;
  sendMs: number;
  keepaliveMs: number;
}

/** The names a certificate is good for, as far as a request needs to know (421, RFC 9110 §15.5.20). */
export interface CertificateScope {
  covers(host: string): boolean;
}

export interface ConnectionInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly secure: boolean;
  readonly tlsVersion: string | undefined;
  readonly servername: string | undefined;
  /** The certificate the handshake chose (for the 421 check). */
  readonly cert: CertificateScope | undefined;
  /** $ssl_cipher, $ssl_session_reused, $ssl_alpn_protocol: read from the TLS socket when asked. */
  readonly cipher?: string | undefined;
  readonly sessionReused?: boolean;
  readonly alpnProtocol?: string | undefined;
  /** issue 19: mTLS — set only on a connection whose handshake asked for a client certificate. */
  readonly clientCert?: ClientCertificateInfo | undefined;
}

export type ResponseHeaders = Record<string, string | string[] | number>;

/** The part of an upstream request a tunnel makes into its handshake (the transport's UpstreamRequest). */
export interface TunnelHandshake {
  method: string;
  headers: Record<string, string | string[]>;
  body: Readable | undefined;
  upgrade?: string;
}

/**
 * An exchange that can become a byte tunnel once the upstream switches protocols: an HTTP/1.1
 * Upgrade (RFC 9110 §7.8) or an HTTP/2 extended CONNECT (RFC 8441). A capability the exchange
 * offers, as Caddy asks a response writer to Hijack(), so the proxy never tests exchange classes.
 */
export interface Tunnel {
  /** The protocol asked for, lower-case (`websocket`). */
  readonly upgradeTo: string;
  /** False when the request cannot be tunnelled however the route is set (an Upgrade with a body). */
  readonly possible: boolean;
  /** True when the request means nothing as a plain request (RFC 8441 CONNECT): 501 unless tunnelled. */
  readonly required: boolean;
  /** The client gets the upstream's 101 head as written on its socket (HTTP/1.1), else an HTTP/2 200. */
  readonly rawHead: boolean;
  /** Makes the routed upstream request the handshake. */
  prepare(req: TunnelHandshake): void;
  /**
   * After the upstream's 101: answers the client with `clientHeaders` and splices both ways, closing
   * both sides after `idleMs` with no byte either way. False (the upstream closed) when the upstream's
   * handshake is not valid for the client's protocol.
   */
  bridge(status: number, upstreamHeaders: IncomingHttpHeaders, clientHeaders: ResponseHeaders, upstream: Duplex, idleMs: number): boolean;
}

export interface Exchange {
  readonly protocol: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2.0';
  readonly method: string;
  /** The request target as sent (`:path` for HTTP/2). */
  readonly rawTarget: string;
  /**
   * Host header or `:authority`, as sent (with port, if any); for an absolute-form target, its
   * authority, which wins over Host (RFC 9112 §3.2.2).
   */
  readonly authority: string | undefined;
  /**
   * Why the request must get 400 though the protocol layer let it through: a second Host line
   * (RFC 9112 §3.2), an HTTP/2 `host` naming another host or port than `:authority` (RFC 9113
   * §8.3.1; compared normalised, authority.ts sameAuthority), an HTTP/2 method
   * that is not upper-case (nginx refuses it).
   */
  readonly malformed?: string | undefined;
  /** Lower-case names; HTTP/2 pseudo-headers are present and must be skipped by consumers. */
  readonly headers: IncomingHttpHeaders;
  readonly conn: ConnectionInfo;
  /** Set when the request asks to switch protocols (see Tunnel); the proxy decides whether it may. */
  readonly tunnel?: Tunnel | undefined;
  /** The request body, or undefined when the request has none. */
  readonly body: Readable | undefined;
  readonly startedAt: number;
  readonly headersSent: boolean;
  readonly bytesSent: number;
  /** The status sent, 0 before the response head. */
  readonly status: number;
  /** The response head's fields as sent ($sent_http_*); undefined before it. */
  readonly sentHeaders?: ResponseHeaders | undefined;
  /** Bytes of the response head on the wire, where the protocol tells ($bytes_sent). */
  readonly headBytes?: number;
  /** Bytes of transfer framing around the body (HTTP/1.1 chunks), which nginx's $body_bytes_sent counts. */
  readonly framingBytes?: number;
  /** True once the client went away or the response ended. */
  readonly closed: boolean;
  respond(status: number, headers: ResponseHeaders, body?: string | Buffer): void;
  /** Returns false when the client's buffer is full: wait for onDrain before writing more. */
  write(chunk: Buffer): boolean;
  end(trailers?: IncomingHttpHeaders): void;
  onDrain(cb: () => void): void;
  /** Called once when the exchange ends, `aborted` true when the client went away first. */
  onClose(cb: (aborted: boolean) => void): void;
  /**
   * Tear the response down after a failure mid-body, so the client sees a broken response, not a
   * short one. Nothing happens to a response that was already ended whole.
   */
  abort(): void;
  /**
   * The client timers of the request's site (the connection starts with its own site's, chosen by
   * SNI); exchanges that read no client connection ignore them.
   */
  useTimeouts?(timeouts: ClientTimeouts): void;
}
