// An ACME front for Pebble 2.4, which has no ARI (RFC 9773): an HTTPS proxy that forwards everything to
// Pebble with the Host header kept (Pebble builds every URL it returns from Host, so the client stays on
// the front), adds `renewalInfo` to the directory, serves renewal windows, and records the payloads of
// newOrder requests (to see `replaces`).
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Pebble } from './pebble.js';

export interface AriFront {
  directory: string;
  /** CertIDs whose renewalInfo was fetched, in order. */
  asked: string[];
  /** Decoded JSON payloads of newOrder requests. */
  orders: Array<Record<string, unknown>>;
  /** The window served for a CertID (others get `defaultWindow`). */
  setWindow(certId: string, start: Date, end: Date): void;
  close(): Promise<void>;
}

export async function startAriFront(pebble: Pebble, defaultWindow = { startInMs: 30 * 86_400_000, endInMs: 31 * 86_400_000 }): Promise<AriFront> {
  const ca = fs.readFileSync(pebble.listenerCaFile);
  const windows = new Map<string, { start: Date; end: Date }>();
  const asked: string[] = [];
  const orders: Array<Record<string, unknown>> = [];
  let origin = '';
  const server = https.createServer({ cert: fs.readFileSync(pebble.listenerCertFile), key: fs.readFileSync(pebble.listenerKeyFile) }, (req, res) => {
    const url = req.url ?? '/';
    const ari = /^\/renewalInfo\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(url);
    if (ari && req.method === 'GET') {
      const certId = ari[1]!;
      asked.push(certId);
      const w = windows.get(certId) ?? { start: new Date(Date.now() + defaultWindow.startInMs), end: new Date(Date.now() + defaultWindow.endInMs) };
      res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ suggestedWindow: { start: w.start.toISOString(), end: w.end.toISOString() } }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST' && url === '/order-plz') {
        try {
          const jws = JSON.parse(body.toString()) as { payload: string };
          orders.push(JSON.parse(Buffer.from(jws.payload, 'base64url').toString()) as Record<string, unknown>);
        } catch {
          orders.push({});
        }
      }
      const up = https.request(
        { host: '127.0.0.1', port: pebble.port, path: url, method: req.method, headers: req.headers, ca, servername: 'localhost' },
        (upRes) => {
          if (url === '/dir' && req.method === 'GET') {
            const parts: Buffer[] = [];
            upRes.on('data', (c: Buffer) => parts.push(c));
            upRes.on('end', () => {
              const dir = JSON.parse(Buffer.concat(parts).toString()) as Record<string, unknown>;
              dir.renewalInfo = `${origin}/renewalInfo`;
              res.writeHead(200, { 'content-type': 'application/json' });
              res.end(JSON.stringify(dir));
            });
            return;
          }
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    directory: `${origin}/dir`,
    asked,
    orders,
    setWindow: (certId, start, end) => windows.set(certId, { start, end }),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
