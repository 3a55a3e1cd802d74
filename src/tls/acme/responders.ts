// Challenge responders for `gatehouse renew` when no proxy holds the ports (README "Automatic HTTPS (ACME)"): for the duration of
// the run it listens where the config says the proxy would, answering only ACME challenges. A port that is
// in use is left to its holder — normally the running proxy, which answers from the storage.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Config, ListenAddress } from '../../config/types.js';
import type { ChallengeStore } from './challenges.js';
import type { ChallengeType } from './errors.js';
import { TLS_CONTEXT_OPTIONS } from '../tls-options.js';

export interface Responders {
  /** Addresses we listen on ourselves. */
  bound: string[];
  /** Addresses something else holds (assumed: a running gatehouse). */
  busy: string[];
  /** Addresses we could not use at all (e.g. port 80 without privileges). */
  failed: Array<{ address: string; error: string }>;
  close(): Promise<void>;
}

const PREFIX = '/.well-known/acme-challenge/';

function label(kind: string, a: ListenAddress): string {
  return `${kind} ${a.host ?? '*'}:${a.port}`;
}

function listen(server: net.Server, a: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: a.port, host: a.host }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startResponders(config: Config, challenges: ChallengeStore, types: readonly ChallengeType[]): Promise<Responders> {
  const servers: net.Server[] = [];
  const out: Responders = {
    bound: [],
    busy: [],
    failed: [],
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              (s as http.Server).closeAllConnections?.();
              s.close(() => r());
            }),
        ),
      );
    },
  };
  const attempt = async (kind: string, a: ListenAddress, make: () => net.Server): Promise<void> => {
    const server = make();
    try {
      await listen(server, a);
      servers.push(server);
      out.bound.push(label(kind, a));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') out.busy.push(label(kind, a));
      else out.failed.push({ address: label(kind, a), error: (err as Error).message });
    }
  };
  if (types.includes('http-01')) {
    for (const a of config.listen.http) {
      await attempt('http', a, () =>
        http.createServer((req, res) => {
          const url = req.url ?? '';
          const token = url.startsWith(PREFIX) ? url.slice(PREFIX.length) : undefined;
          const answer = token !== undefined ? challenges.httpAnswer(token, req.headers.host) : Promise.resolve(undefined);
          answer.then(
            (keyAuth) => {
              if (keyAuth === undefined) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
              else res.writeHead(200, { 'content-type': 'text/plain' }).end(keyAuth);
            },
            () => res.writeHead(500).end(),
          );
        }),
      );
    }
  }
  if (types.includes('tls-alpn-01')) {
    for (const a of config.listen.https) {
      await attempt('https', a, () => {
        const server = tls.createServer({
          // OpenSSL keeps this context's versions and options (no renegotiation) when SNICallback
          // switches to the challenge context, so they must be gatehouse's own (tls-options.ts).
          ...TLS_CONTEXT_OPTIONS,
          // Only validators: anything not offering acme-tls/1 gets no_application_protocol (RFC 8737 §3).
          ALPNCallback: ({ protocols }) => (protocols.includes('acme-tls/1') ? 'acme-tls/1' : undefined),
          SNICallback: (name, cb) => {
            challenges.alpnContext(name).then(
              (ctx) => (ctx ? cb(null, ctx) : cb(new Error(`no TLS-ALPN-01 challenge open for ${name}`), undefined)),
              (err: Error) => cb(err, undefined),
            );
          },
        } as tls.TlsOptions);
        server.on('secureConnection', (socket) => {
          socket.end(); // not destroy(): with TLS 1.2 our Finished may still be in the write buffer
          setTimeout(() => socket.destroy(), 2000).unref();
        });
        server.on('tlsClientError', () => undefined);
        return server;
      });
    }
  }
  return out;
}
