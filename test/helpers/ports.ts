// Free loopback ports for peers whose port must be written into a config file before start.
import net from 'node:net';

/**
 * Ports this process has handed out. The kernel may give a port that was just closed to the next
 * bind(0), so two ports picked one after the other (gatehouse's, then Pebble's) could be the same one;
 * the second peer to start then found it taken (seen in CI: pm2 workers exiting on EADDRINUSE while
 * Pebble answered on gatehouse's port).
 */
const handedOut = new Set<number>();

function bindZero(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const addr = server.address();
      server.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = await bindZero(host);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port that this test run has not handed out already');
}

export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A dns.lookup replacement that sends every name to 127.0.0.1 (test names like a.test). */
export const loopbackLookup = ((_host: string, opts: { all?: boolean } | undefined, cb: (err: null, address: unknown, family?: number) => void) =>
  opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as unknown as typeof import('node:dns').lookup;
