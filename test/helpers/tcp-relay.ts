// A TCP relay that counts the connections passing through it: put between gatehouse and a backend
// to see how many connections gatehouse opened. Each accepted connection gets its own connection to
// the target, so the target sees the same number of connections (and the same backlog) as without it.
// `down()` closes the port (connections are refused, as for a stopped server) and `up()` opens the same
// port again: a peer that goes away and comes back without losing its state (Pebble keeps accounts and
// orders only in memory).
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpRelay {
  port: number;
  readonly connections: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpRelay(targetPort: number): Promise<TcpRelay> {
  let connections = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    connections += 1;
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        open.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const down = (): Promise<void> => {
    for (const s of open) s.destroy();
    return new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  };
  return {
    port,
    get connections() {
      return connections;
    },
    down,
    up: () => new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    }),
    close: down,
  };
}
