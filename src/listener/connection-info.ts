// The addresses and TLS facts of a client connection, as every exchange on it reports them.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ConnectionInfo } from '../http/exchange.js';
import type { ClientCertificateInfo } from '../http/client-cert.js';
import type { CertEntry } from '../tls/types.js';
import type { ProxiedPeer } from './proxy-protocol.js';

const PROXIED = Symbol('gatehouse.proxiedPeer');
/** `_parent`: the raw socket a server-side TLSSocket wraps. */
type PeerTagged = { [PROXIED]?: ProxiedPeer; _parent?: PeerTagged | null };

/** The client a trusted PROXY protocol header named for this raw socket (proxy-header-reader.ts). */
export function setProxiedPeer(raw: Socket, peer: ProxiedPeer): void {
  (raw as Socket & PeerTagged)[PROXIED] = peer;
}

/** On the raw socket, or on the one a TLS socket wraps; undefined on listeners without proxyProtocol. */
function proxiedPeer(socket: PeerTagged): ProxiedPeer | undefined {
  return socket[PROXIED] ?? socket._parent?.[PROXIED];
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
  readonly clientCert: ClientCertificateInfo | undefined;
  private local: string | undefined = undefined;

  constructor(
    private readonly socket: TLSSocket | Socket,
    readonly secure: boolean,
    listenerPort: number | undefined,
  ) {
    const tlsSocket = socket as TLSSocket & { gatehouseCert?: CertEntry; gatehouseClientCert?: ClientCertificateInfo };
    // The one place the client address is decided: a trusted PROXY protocol header's, else the TCP
    // peer's. X-Forwarded-For and trustedProxies apply on top of it, per request (http/trust.ts).
    const proxied = proxiedPeer(socket as PeerTagged);
    this.remoteAddress = proxied ? proxied.address : normaliseAddress(socket.remoteAddress ?? '');
    this.remotePort = proxied ? proxied.port : (socket.remotePort ?? 0);
    this.localPort = listenerPort ?? socket.localPort ?? 0;
    this.tlsVersion = secure ? (tlsSocket.getProtocol?.() ?? undefined) : undefined;
    this.servername = secure ? (tlsSocket.servername || undefined) : undefined;
    this.cert = tlsSocket.gatehouseCert;
    this.clientCert = tlsSocket.gatehouseClientCert;
  }

  get cipher(): string | undefined {
    // OpenSSL's name, as nginx's SSL_get_cipher_name gives (ECDHE-RSA-AES128-GCM-SHA256, TLS_AES_128_GCM_SHA256).
    return this.secure ? ((this.socket as TLSSocket).getCipher?.()?.name ?? undefined) : undefined;
  }

  get sessionReused(): boolean {
    return this.secure && (this.socket as TLSSocket).isSessionReused?.() === true;
  }

  get alpnProtocol(): string | undefined {
    const alpn = this.secure ? (this.socket as TLSSocket).alpnProtocol : undefined;
    return typeof alpn === 'string' ? alpn : undefined;
  }

  get localAddress(): string {
    this.local ??= normaliseAddress(this.socket.localAddress ?? '');
    return this.local;
  }
}

export function connectionInfo(socket: TLSSocket | Socket, secure: boolean, listenerPort?: number): ConnectionInfo {
  return new SocketConnectionInfo(socket, secure, listenerPort);
}

/** `::ffff:127.0.0.1` (dual-stack sockets) is logged and forwarded as `127.0.0.1`, like nginx does. */
export function normaliseAddress(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}
