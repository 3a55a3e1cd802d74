// Node clients for the CGI-style transport tests: a GET whose chunks are timestamped on arrival
// (streaming), and an HTTP/2 POST sent without content-length (a body of unknown length).
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { Gatehouse } from './gatehouse.js';
import { loopbackLookup } from './ports.js';

export function timedGet(gh: Gatehouse, host: string, p: string): Promise<Array<{ at: number; data: string }>> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port: gh.httpsPort, path: p, servername: host, headers: { host }, ca: fs.readFileSync(gh.caFile) },
      (res) => {
        const chunks: Array<{ at: number; data: string }> = [];
        res.on('data', (d: Buffer) => chunks.push({ at: Date.now(), data: d.toString() }));
        res.on('end', () => resolve(chunks));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

export async function h2PostUnknownLength(gh: Gatehouse, host: string, p: string, data: Buffer): Promise<string> {
  const session = http2.connect(`https://${host}:${gh.httpsPort}`, { ca: fs.readFileSync(gh.caFile), servername: host, lookup: loopbackLookup });
  try {
    return await new Promise<string>((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': p, 'content-type': 'application/octet-stream' });
      let out = '';
      req.on('data', (d: Buffer) => (out += d.toString()));
      req.on('end', () => resolve(out));
      req.on('error', reject);
      // Two writes apart in time: nothing lets the client state a length.
      req.write(data.subarray(0, data.length >> 1));
      setTimeout(() => req.end(data.subarray(data.length >> 1)), 20);
    });
  } finally {
    session.close();
  }
}
