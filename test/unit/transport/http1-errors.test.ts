// Which failures of an HTTP/1.1 upstream call are the server's and which are gatehouse's own
// (transport/internal-error.ts): only the server's count against its health (proxy-retry.ts).
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Http1Transport } from '../../../src/transport/http1/transport.js';
import { UpstreamError, type ResponseSink } from '../../../src/transport/types.js';

const TIMEOUTS = { connectMs: 2000, readMs: 2000, sendMs: 2000 };

/** The error the call ends with; `onData` stands for gatehouse's code run inside undici's parser. */
function failure(transport: Http1Transport, path: string, onData: (chunk: Buffer) => boolean): Promise<Error> {
  return new Promise((resolve, reject) => {
    const sink: ResponseSink = {
      onHeaders: () => undefined,
      onData,
      onEnd: () => reject(new Error('the call ended without an error')),
      onError: resolve,
    };
    transport.request({ method: 'GET', path, headers: { host: 'backend.test' }, body: undefined }, sink);
  });
}

describe('HTTP/1.1 transport errors', () => {
  let server: http.Server;
  let origin: URL;

  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/reset') {
        res.writeHead(200, { 'content-length': 100 });
        res.write('partial');
        setTimeout(() => res.destroy(), 20);
        return;
      }
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it("reports an exception thrown by gatehouse's own code inside undici's parser as EINTERNAL, not as the server's failure", async () => {
    const transport = new Http1Transport(origin, { timeouts: TIMEOUTS, keepalive: 1 });
    try {
      const err = await failure(transport, '/', () => {
        throw new TypeError('a bug in a response sink');
      });
      expect(err).to.be.instanceOf(UpstreamError);
      expect((err as UpstreamError).code).to.equal('EINTERNAL');
      expect(err.message).to.contain('a bug in a response sink');
    } finally {
      await transport.close();
    }
  });

  it('still reports a connection the server cut mid-response as ERESET', async () => {
    const transport = new Http1Transport(origin, { timeouts: TIMEOUTS, keepalive: 1 });
    try {
      const err = await failure(transport, '/reset', () => true);
      expect((err as UpstreamError).code).to.equal('ERESET');
    } finally {
      await transport.close();
    }
  });

  it('reports a request undici refuses before sending it as EINTERNAL (the server never saw it)', async () => {
    const transport = new Http1Transport(origin, { timeouts: TIMEOUTS, keepalive: 1 });
    try {
      const err = await new Promise<Error>((resolve, reject) => {
        transport.request(
          { method: 'GET', path: '/', headers: { host: 'backend.test', expect: '100-continue' }, body: undefined },
          { onHeaders: () => undefined, onData: () => true, onEnd: () => reject(new Error('sent')), onError: resolve },
        );
      });
      expect((err as UpstreamError).code).to.equal('EINTERNAL');
    } finally {
      await transport.close();
    }
  });
});
