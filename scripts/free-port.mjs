// Free loopback ports for peers whose port must be written into a config file before they start,
// shared by the tests (test/helpers/ports.ts) and the benches (scripts/bench/lib.mjs).
import net from 'node:net';

// Ports this process has handed out. The kernel may give a port that was just closed to the next
// bind(0), so two ports picked one after the other (gatehouse's, then Pebble's) could be the same one;
// the second peer to start then found it taken (seen in CI: pm2 workers exiting on EADDRINUSE while
// Pebble answered on gatehouse's port).
const handedOut = new Set();

function bindZero(host) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const addr = server.address();
      server.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** A loopback port nothing listens on, never one this process has handed out before. */
export async function freePort(host = '127.0.0.1') {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = await bindZero(host);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free port that this run has not handed out already');
}
