// A request whose HTTP/2 upstream stream is refused unprocessed (RST_STREAM REFUSED_STREAM, RFC 9113
// §8.7) before any of its body went out is sent again on a new stream — and its body must follow it
// there. Real peers on loopback: the gatehouse process and a Node h2c server that refuses the first
// stream of each request and hashes the body of the second.
import { expect } from 'chai';
import crypto from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { startGatehouse, type Gatehouse } from '../helpers/gatehouse.js';

describe('HTTP/2 upstream: a refused stream is retried with its request body (integration)', function () {
  this.timeout(30_000);
  let server: http2.Http2Server;
  let port: number;
  let gh: Gatehouse;
  const refused = new Set<string>();
  let streams = 0;

  before(async () => {
    server = http2.createServer();
    server.on('stream', (stream, headers) => {
      streams += 1;
      stream.on('error', () => undefined);
      const id = String(headers['x-id']);
      if (!refused.has(id)) {
        refused.add(id);
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      const hash = crypto.createHash('sha256');
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        hash.update(c);
      });
      stream.on('end', () => {
        stream.respond({ ':status': 200 });
        stream.end(`${size} ${hash.digest('hex')}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      sites: [{ hosts: ['r.test'], tls: 'off', routes: [{ location: '/', proxy: `h2c://127.0.0.1:${port}`, timeout: '5s' }] }],
    }));
  });

  after(async () => {
    await gh?.stop();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('sends the body on the new stream when it starts only after the refusal', async () => {
    const body = crypto.randomBytes(300_000);
    const expected = `${body.length} ${crypto.createHash('sha256').update(body).digest('hex')}`;
    const before = streams;
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: gh.httpPort, method: 'POST', path: '/upload', headers: { host: 'r.test', 'x-id': 'late-body', 'content-length': body.length } },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      req.flushHeaders();
      // The upstream stream is opened and refused before the first body byte reaches gatehouse.
      setTimeout(() => req.end(body), 300);
    });
    expect(res.status, res.text).to.equal(200);
    expect(res.text).to.equal(expected);
    expect(streams - before).to.equal(2);
  });
});
