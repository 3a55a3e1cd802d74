// Sockets on ports: the TLS listener (ALPN h2 + http/1.1, certificate by SNI) and the plain HTTP
// listener. Both hand accepted sockets to ProtocolServers.
import net, { type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { ListenAddress } from '../config/types.js';
import type { Logger } from '../log/types.js';
import type { AcmeTlsHooks, CertEntry, CertificateSelector } from '../tls/types.js';
import { TLS_CONTEXT_OPTIONS } from '../tls/tls-options.js';
import type { ProtocolServers } from './protocol-servers.js';

export interface Listener {
  readonly address: ListenAddress;
  /** The port actually bound (differs from the configured one when that was 0). */
  readonly port: number;
  /** Stops accepting new connections; open ones are left to the protocol servers' drain. */
  stopAccepting(): Promise<void>;
  readonly connections: number;
}

type TaggedSocket = TLSSocket & { gatehouseCert?: CertEntry; gatehouseAcmeTls?: boolean };

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

export async function listenTls(
  address: ListenAddress,
  certs: CertificateSelector,
  servers: ProtocolServers,
  logger: Logger,
  acme?: AcmeTlsHooks,
): Promise<Listener> {
  const serve = (socket: TaggedSocket, entry: CertEntry | undefined, servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void): void => {
    if (!entry) {
      cb(new Error(`no certificate for ${servername}`), undefined);
      return;
    }
    socket.gatehouseCert = entry;
    cb(null, entry.context);
  };
  const server = tls.createServer({
    ...TLS_CONTEXT_OPTIONS,
    handshakeTimeout: 10_000,
    // The acme-tls/1 challenge certificate goes only to a client that offered acme-tls/1 (RFC 8737 §3),
    // i.e. a validator, and never to anyone else. Node 20.20 calls both callbacks with `this` = the socket;
    // with TLS 1.3 ALPNCallback runs first and flags the socket for SNICallback; with TLS 1.2 SNICallback
    // runs first, so ALPNCallback swaps the certificate itself (setKeyCert), which needs the challenge
    // certificate at hand. Both orders are pinned by test/integration/acme.test.ts.
    ALPNCallback(this: TaggedSocket, { servername, protocols }) {
      if (acme?.enabled && protocols.includes('acme-tls/1')) {
        // gatehouseCert is set once SNICallback has chosen a certificate (TLS 1.2 order).
        if (!this.gatehouseCert) {
          this.gatehouseAcmeTls = true;
          return 'acme-tls/1';
        }
        const ctx = servername ? acme.challengeContextNow(servername) : undefined;
        if (!ctx) return undefined; // no_application_protocol: never a normal certificate to a validator
        this.setKeyCert(ctx);
        return 'acme-tls/1';
      }
      if (protocols.includes('h2')) return 'h2';
      if (protocols.includes('http/1.1')) return 'http/1.1';
      return undefined;
    },
    SNICallback(this: TaggedSocket, servername, cb) {
      if (this.gatehouseAcmeTls && acme) {
        acme.challengeContext(servername).then(
          (ctx) => (ctx ? cb(null, ctx) : cb(new Error(`no TLS-ALPN-01 challenge open for ${servername}`), undefined)),
          (err: Error) => cb(err, undefined),
        );
        return;
      }
      const entry = certs.select(servername);
      if (acme?.onDemandEnabled() && (!entry || !entry.covers(servername))) {
        acme.onDemand(servername).then(
          (issued) => serve(this, issued ?? entry, servername, cb),
          () => serve(this, entry, servername, cb),
        );
        return;
      }
      serve(this, entry, servername, cb);
    },
  } as tls.TlsOptions);
  // Clients that send no SNI (an IP address in the URL) get the default site's certificate. Node
  // has no public API to set a prebuilt SecureContext as the server default, so the shared
  // credentials (read when each TLSSocket is created) are kept equal to the default certificate's
  // context before every accept; pinned by the no-SNI test in test/integration.
  const withDefault = server as tls.Server & { _sharedCreds?: tls.SecureContext };
  server.prependListener('connection', () => {
    const entry = certs.select(undefined);
    if (entry && withDefault._sharedCreds !== entry.context) withDefault._sharedCreds = entry.context;
  });
  server.on('secureConnection', (socket: TaggedSocket) => {
    // A validator's acme-tls/1 connection ends with the handshake (RFC 8737 §3). end(), not destroy():
    // with TLS 1.2 our Finished may still be in the write buffer.
    if (socket.alpnProtocol === 'acme-tls/1') {
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    if (!socket.gatehouseCert) socket.gatehouseCert = certs.select(undefined);
    servers.accept(socket, socket.alpnProtocol === 'h2' ? 'h2' : 'http/1.1');
  });
  server.on('tlsClientError', (err) => logger.debug(`TLS handshake failed: ${err.message}`));
  const count = tracker(server);
  const port = await bind(server, address);
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
  };
}

export async function listenPlain(address: ListenAddress, servers: ProtocolServers): Promise<Listener> {
  const server = net.createServer({ noDelay: true }, (socket) => servers.accept(socket, 'http/1.1'));
  const count = tracker(server);
  const port = await bind(server, address);
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
  };
}
