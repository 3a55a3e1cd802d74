// Sockets on ports: the TLS listener (ALPN h2 + http/1.1, certificate chosen from the ClientHello)
// and the plain HTTP listener. Both hand accepted sockets to ProtocolServers.
import net, { type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { ListenAddress } from '../config/types.js';
import type { Logger } from '../log/types.js';
import { TLS_CONTEXT_OPTIONS } from '../tls/tls-options.js';
import { clientAuthContext, clientCertState, type ClientCertState } from '../tls/client-auth.js';
import type { ClientAuthConfig } from '../config/types.js';
import type { AcmeTlsHooks, CertEntry, CertificateSelector } from '../tls/types.js';
import { MAX_HELLO_BYTES, parseClientHello, type ClientHello } from './client-hello.js';
import type { ProtocolServers } from './protocol-servers.js';
import { guardOf, tagGuard } from './connection-guard.js';
import { recordHandshake, recordHandshakeFailure } from '../observe/metrics.js';
import { compileTrust, type TrustCheck } from '../http/trust.js';
import { readProxyHeader } from './proxy-header-reader.js';

export interface Listener {
  readonly address: ListenAddress;
  /** The port actually bound (differs from the configured one when that was 0). */
  readonly port: number;
  /** Stops accepting new connections; open ones are left to the protocol servers' drain. */
  stopAccepting(): Promise<void>;
  readonly connections: number;
  /** A reload kept this address: its PROXY protocol settings apply to connections accepted from now on. */
  configure(address: ListenAddress): void;
}

/** Who may send a PROXY protocol header on a listener; undefined: the listener does not read one. */
function proxyTrust(address: ListenAddress): TrustCheck | undefined {
  return address.proxyProtocol ? compileTrust(address.proxyProtocol.trusted) : undefined;
}

/** `_parent`: the raw socket a server-side TLSSocket wraps (Node sets it for a net.Socket). */
type TaggedSocket = TLSSocket & { gatehouseCert?: CertEntry; gatehouseClientCert?: ClientCertState; _parent?: Socket };

async function bind(server: net.Server, address: ListenAddress): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // host undefined: Node binds [::] with dual-stack, i.e. every IPv4 and IPv6 interface.
    server.listen({ port: address.port, host: address.host, backlog: 511 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  return typeof bound === 'object' && bound ? bound.port : address.port;
}

function tracker(server: net.Server): { count: () => number } {
  let open = 0;
  server.on('connection', (socket: Socket) => {
    open++;
    socket.once('close', () => open--);
  });
  return { count: () => open };
}

/**
 * A connection that sends nothing before its ClientHello is dropped after this; one that keeps
 * sending is bounded by client_header_timeout from accept (the connection guard).
 */
const HANDSHAKE_TIMEOUT_MS = 10_000;
const noop = (): void => undefined;
/** issue 19: the clientAuth a raw socket's handshake asked under, read back at secureConnection. */
const askedOn = new WeakMap<Socket, ClientAuthConfig>();

interface TlsChoice {
  context: tls.SecureContext;
  entry: CertEntry | undefined;
  /** An acme-tls/1 validator (RFC 8737): it gets the challenge certificate and nothing else. */
  acmeTls: boolean;
}

/**
 * The certificate for one ClientHello, per README "Automatic HTTPS (ACME)": the acme-tls/1 challenge certificate only for a
 * client that offers acme-tls/1 and only for a name with an open challenge; otherwise exact name,
 * one-label wildcard, default site; on-demand issuance for a name nothing covers. Synchronous unless
 * the ACME room has to look something up.
 */
function choose(hello: ClientHello, port: number | undefined, certs: CertificateSelector, acme: AcmeTlsHooks | undefined): TlsChoice | undefined | Promise<TlsChoice | undefined> {
  const name = hello.servername;
  if (acme?.enabled && hello.alpn.includes('acme-tls/1')) {
    if (!name) return undefined;
    const now = acme.challengeContextNow(name);
    if (now) return { context: now, entry: undefined, acmeTls: true };
    return acme.challengeContext(name).then((context) => (context ? { context, entry: undefined, acmeTls: true } : undefined));
  }
  const entry = certs.select(name, port);
  if (name && acme?.onDemandEnabled() && (!entry || !entry.covers(name))) {
    return acme.onDemand(name).then(
      (issued) => toChoice(issued ?? entry),
      () => toChoice(entry),
    );
  }
  return toChoice(entry);
}

function toChoice(entry: CertEntry | undefined): TlsChoice | undefined {
  return entry ? { context: entry.context, entry, acmeTls: false } : undefined;
}

/**
 * A tls.Server that never listens: sockets are handed to it after their ClientHello was read. Its
 * default credentials are set to the chosen context right before each hand-over; TLSSocket reads
 * them synchronously in the server's connection listener. (Node has no public API to give a
 * prebuilt SecureContext to one server-side socket that HTTP/2 then accepts; a hand-made
 * `new TLSSocket(socket, { isServer: true })` over an already-read socket breaks HTTP/2 sessions.)
 * Pinned by test/integration/edges.test.ts (RSA behind ECDSA, no SNI) and proxy.test.ts.
 */
type HandOffServer = tls.Server & { _sharedCreds?: tls.SecureContext; requestCert?: boolean; rejectUnauthorized?: boolean };

function handOffServer(alpn: string[]): HandOffServer {
  // The chosen context's options (tls-options.ts) are what connections get; the server's own only
  // matter if a socket ever reached it without one, so they are the same.
  return tls.createServer({ ...TLS_CONTEXT_OPTIONS, handshakeTimeout: HANDSHAKE_TIMEOUT_MS, ALPNProtocols: alpn }) as HandOffServer;
}

export async function listenTls(
  address: ListenAddress,
  certs: CertificateSelector,
  servers: ProtocolServers,
  logger: Logger,
  acme?: AcmeTlsHooks,
  ticketKeys?: { apply(context: tls.SecureContext): void },
): Promise<Listener> {
  const web = handOffServer(['h2', 'http/1.1']);
  // The bound port, once known (the configured one may be 0).
  const bound: { port?: number } = {};
  web.on('secureConnection', (socket: TaggedSocket) => {
    // The handshake saw this name; selecting again is two Map lookups and also sees an on-demand issue.
    socket.gatehouseCert = certs.select(socket.servername || undefined, bound.port);
    const asked = socket._parent && askedOn.get(socket._parent);
    if (asked) socket.gatehouseClientCert = clientCertState(socket, asked);
    recordHandshake(socket.getProtocol());
    // The guard started at accept goes on with the TLS socket, its timers still counted from accept.
    const guard = guardOf(socket._parent);
    if (guard) tagGuard(socket, guard);
    servers.accept(socket, socket.alpnProtocol === 'h2' ? 'h2' : 'http/1.1', bound.port, socket.servername || undefined);
  });
  let validators: HandOffServer | undefined;
  const validatorServer = (): HandOffServer => {
    if (!validators) {
      validators = handOffServer(['acme-tls/1']);
      validators.on('secureConnection', (socket: TLSSocket) => {
        // A validator's connection ends with the handshake (RFC 8737 §3). end(), not destroy():
        // with TLS 1.2 our Finished may still be in the write buffer.
        socket.end();
        setTimeout(() => socket.destroy(), 2000).unref();
      });
      validators.on('tlsClientError', (err) => logger.debug(`acme-tls/1 handshake failed: ${err.message}`));
    }
    return validators;
  };
  web.on('tlsClientError', (err) => {
    recordHandshakeFailure('error');
    logger.debug(`TLS handshake failed: ${err.message}`);
  });

  const startTls = (raw: Socket, choice: TlsChoice | undefined, servername: string | undefined): void => {
    if (!choice || raw.destroyed) {
      // Nothing to serve for this name (e.g. no challenge open): fail at once, never hang.
      if (!choice) recordHandshakeFailure('no_certificate');
      raw.destroy();
      return;
    }
    const target = choice.acmeTls ? validatorServer() : web;
    let context = choice.context;
    // issue 19: mTLS. Like _sharedCreds, the server's requestCert is read by the TLSSocket made in
    // its connection listener, synchronously (Node's tlsConnectionListener), so it is per connection.
    const auth = choice.acmeTls ? undefined : servers.clientAuthFor(bound.port, servername);
    if (auth) {
      const withCa = choice.entry && clientAuthContext(choice.entry, auth);
      if (!withCa) {
        // Never serve an mTLS site without asking for the certificate.
        recordHandshakeFailure('no_certificate');
        raw.destroy();
        return;
      }
      context = withCa;
      askedOn.set(raw, auth);
    }
    // Ticket keys live in each SecureContext (one per certificate, renewed ones included).
    if (!choice.acmeTls) ticketKeys?.apply(context);
    target._sharedCreds = context;
    target.requestCert = auth !== undefined;
    target.rejectUnauthorized = false;
    target.emit('connection', raw);
  };

  let proxied = proxyTrust(address);
  const readHello = (raw: Socket): void => {
    let buf: Buffer | undefined;
    const onData = (chunk: Buffer): void => {
      buf = buf ? Buffer.concat([buf, chunk]) : chunk;
      const parsed = parseClientHello(buf);
      if (parsed === 'incomplete' && buf.length < MAX_HELLO_BYTES) return;
      raw.off('data', onData);
      raw.pause();
      raw.setTimeout(0);
      // Hand the bytes back: TLSSocket feeds a socket's buffered data to OpenSSL first.
      raw.unshift(buf);
      const hello: ClientHello = typeof parsed === 'string' ? { servername: undefined, alpn: [] } : parsed;
      const choice = choose(hello, bound.port, certs, acme);
      if (choice instanceof Promise) {
        choice.then(
          (c) => startTls(raw, c, hello.servername),
          () => raw.destroy(),
        );
      } else {
        startTls(raw, choice, hello.servername);
      }
    };
    raw.on('data', onData);
  };
  const server = net.createServer({ noDelay: true }, (raw) => {
    raw.on('error', noop);
    servers.guard(raw);
    raw.setTimeout(HANDSHAKE_TIMEOUT_MS, () => raw.destroy());
    if (proxied === undefined) {
      readHello(raw);
      return;
    }
    // The header comes first and is bounded by the same timers as the ClientHello; the ClientHello
    // reader then starts on what followed it (unshifted by the header reader).
    readProxyHeader(raw, proxied, logger, () => {
      readHello(raw);
      raw.resume();
    });
  });
  const count = tracker(server);
  const port = await bind(server, address);
  bound.port = port;
  return {
    address,
    port,
    get connections() {
      return count.count();
    },
    // net.Server#close calls back only once every connection is gone; the drain waits for those itself.
    stopAccepting: async () => {
      server.close();
    },
    configure: (next) => {
      proxied = proxyTrust(next);
    },
  };
}

export async function listenPlain(address: ListenAddress, servers: ProtocolServers, logger: Logger): Promise<Listener> {
  const bound: { port?: number } = {};
  let proxied = proxyTrust(address);
  const server = net.createServer({ noDelay: true }, (socket) => {
    if (proxied === undefined) {
      servers.accept(socket, 'http/1.1', bound.port);
      return;
    }
    // client_header_timeout runs from accept, across the header and the request head after it.
    socket.on('error', noop);
    servers.guard(socket);
    readProxyHeader(socket, proxied, logger, () => {
      servers.accept(socket, 'http/1.1', bound.port);
      // The HTTP server added its own 'data' listener; the paused socket goes on with the unshifted bytes.
      socket.resume();
    });
  });
  const count = tracker(server);
  const port = await bind(server, address);
  bound.port = port;
  return {
    address,
    port,
    get connections() {
      return count.count();
    },
    // net.Server#close calls back only once every connection is gone; the drain waits for those itself.
    stopAccepting: async () => {
      server.close();
    },
    configure: (next) => {
      proxied = proxyTrust(next);
    },
  };
}
