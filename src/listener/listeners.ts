// Sockets on ports: the TLS listener (ALPN h2 + http/1.1, certificate by SNI) and the plain HTTP
// listener. Both hand accepted sockets to ProtocolServers.
import net, { type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { ListenAddress } from '../config/types.js';
import type { Logger } from '../log/types.js';
import type { CertEntry, CertificateSelector } from '../tls/types.js';
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

type TaggedSocket = TLSSocket & { gatehouseCert?: CertEntry };

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
): Promise<Listener> {
  const server = tls.createServer({
    ...TLS_CONTEXT_OPTIONS,
    handshakeTimeout: 10_000,
    // Chosen per handshake so that acme-tls/1 can be answered later (ARCHITECTURE.md, TLS-ALPN-01).
    ALPNCallback({ protocols }) {
      if (protocols.includes('h2')) return 'h2';
      if (protocols.includes('http/1.1')) return 'http/1.1';
      return undefined;
    },
    SNICallback(this: TaggedSocket, servername, cb) {
      const entry = certs.select(servername);
      if (!entry) {
        cb(new Error(`no certificate for ${servername}`), undefined);
        return;
      }
      this.gatehouseCert = entry;
      cb(null, entry.context);
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
