// An ACME front for Pebble that refuses new orders: an HTTPS proxy that forwards everything to Pebble with
// the Host header kept (Pebble builds every URL it returns from Host, so the client stays on the front),
// except newOrder (`POST /order-plz`), which gets a 503 `serverInternal` problem, as a CA that is
// overloaded or in maintenance answers. The directory, nonces and account creation still work, so the
// failure is an order failure, not an unreachable CA.
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Pebble } from './pebble.js';

export interface OrderRefusingFront {
  directory: string;
  /** newOrder requests answered 503 so far. */
  readonly refused: number;
  close(): Promise<void>;
}

export async function startOrderRefusingFront(pebble: Pebble): Promise<OrderRefusingFront> {
  const ca = fs.readFileSync(pebble.listenerCaFile);
  let refused = 0;
  const server = https.createServer({ cert: fs.readFileSync(pebble.listenerCertFile), key: fs.readFileSync(pebble.listenerKeyFile) }, (req, res) => {
    const url = req.url ?? '/';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && url === '/order-plz') {
        refused += 1;
        res.writeHead(503, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:serverInternal', detail: 'test front: new orders are refused', status: 503 }));
        return;
      }
      const up = https.request({ host: '127.0.0.1', port: pebble.port, path: url, method: req.method, headers: req.headers, ca, servername: 'localhost' }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    directory: `https://127.0.0.1:${(server.address() as AddressInfo).port}/dir`,
    get refused() {
      return refused;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
