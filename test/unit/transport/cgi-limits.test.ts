// Requests the protocols cannot carry are refused before any connection, with a clear reason:
// FastCGI params over 65535 bytes (nginx: "fastcgi request record is too big"), uwsgi vars over the
// u16 datasize (nginx: "uwsgi request is too big"). Both map to 502 (EPROTO).
import { expect } from 'chai';
import { FastCgiTransport } from '../../../src/transport/fastcgi/transport.js';
import { ScgiTransport } from '../../../src/transport/scgi/transport.js';
import { UwsgiTransport } from '../../../src/transport/uwsgi/transport.js';
import type { CgiUpstreamOptions } from '../../../src/transport/cgi/options.js';
import { UpstreamError, type ResponseSink, type Transport } from '../../../src/transport/types.js';

const options = { timeouts: { connectMs: 1000, readMs: 1000, sendMs: 1000 }, keepalive: 4 };

function cgi(headerBytes: number): CgiUpstreamOptions {
  return {
    info: {
      method: 'GET',
      requestUri: '/index.php',
      path: '/index.php',
      args: '',
      serverProtocol: 'HTTP/1.1',
      scheme: 'https',
      remoteAddr: '127.0.0.1',
      remotePort: 1234,
      serverAddr: '127.0.0.1',
      serverPort: 443,
      serverName: 'a.test',
      headers: [
        ['Host', 'a.test'],
        ['X-Big', 'x'.repeat(headerBytes)],
      ],
    },
    root: '/var/www',
    version: '0.0.0',
  };
}

function failure(transport: Transport, headerBytes: number): Promise<Error> {
  return new Promise((resolve, reject) => {
    const sink: ResponseSink = {
      onHeaders: () => reject(new Error('unexpected response')),
      onData: () => true,
      onEnd: () => reject(new Error('unexpected end')),
      onError: resolve,
    };
    transport.request({ method: 'GET', path: '/index.php', headers: {}, body: undefined, cgi: cgi(headerBytes) }, sink);
  });
}

describe('CGI-style transports: requests too big for the protocol', () => {
  // Port 1 on loopback: nothing listens, so a connection attempt would fail with ECONNECT instead.
  it('FastCGI refuses params over 65535 bytes before connecting', async () => {
    const t = new FastCgiTransport('127.0.0.1:1', options);
    const err = await failure(t, 70_000);
    expect(err).to.be.instanceOf(UpstreamError);
    expect((err as UpstreamError).code).to.equal('EPROTO');
    expect(err.message).to.match(/FastCGI params are \d+ bytes, over the 65535-byte limit/);
    await t.close();
  });

  it('uwsgi refuses vars over 65535 bytes before connecting', async () => {
    const t = new UwsgiTransport('127.0.0.1:1', options);
    const err = await failure(t, 70_000);
    expect((err as UpstreamError).code).to.equal('EPROTO');
    expect(err.message).to.match(/^cannot send the request: uwsgi request variables are \d+ bytes/);
  });

  it('a request under the limits does try to connect', async () => {
    for (const t of [new FastCgiTransport('127.0.0.1:1', options), new UwsgiTransport('127.0.0.1:1', options), new ScgiTransport('127.0.0.1:1', options)]) {
      const err = await failure(t, 100);
      expect((err as UpstreamError).code).to.equal('ECONNECT');
    }
  });

  it('a missing unix socket is ECONNECT too', async () => {
    const err = await failure(new FastCgiTransport('/nonexistent/php.sock', options), 10);
    expect((err as UpstreamError).code).to.equal('ECONNECT');
    expect(err.message).to.include('ENOENT');
  });
});
