// Free loopback ports (freePort, shared with the benches) and waiting for a peer's port to open.
import net from 'node:net';

export { freePort } from '../../scripts/free-port.mjs';

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
