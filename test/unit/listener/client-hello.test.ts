// The ClientHello reader against real ClientHellos written by Node's TLS client (OpenSSL).
import { expect } from 'chai';
import net from 'node:net';
import tls from 'node:tls';
import { parseClientHello } from '../../../src/listener/client-hello.js';

/** The first bytes a TLS client sends with these options. */
function captureHello(options: tls.ConnectionOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      let buf = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
          socket.destroy();
          server.close();
          resolve(buf);
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      const client = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...options });
      client.on('error', () => undefined);
    });
    server.on('error', reject);
  });
}

describe('listener/client-hello', () => {
  it('reads SNI (lower-cased) and the ALPN list in the client order', async () => {
    const hello = await captureHello({ servername: 'Example.TEST', ALPNProtocols: ['acme-tls/1', 'h2', 'http/1.1'] });
    expect(parseClientHello(hello)).to.deep.equal({ servername: 'example.test', alpn: ['acme-tls/1', 'h2', 'http/1.1'] });
  });

  it('gives no name and no protocols when the client sends neither (an IP URL, an old client)', async () => {
    const hello = await captureHello({ maxVersion: 'TLSv1.2' });
    expect(parseClientHello(hello)).to.deep.equal({ servername: undefined, alpn: [] });
  });

  it('asks for more bytes until the record is complete, at any split', async () => {
    const hello = await captureHello({ servername: 'a.test', ALPNProtocols: ['h2'] });
    for (const cut of [0, 3, 5, 40, hello.length - 1]) expect(parseClientHello(hello.subarray(0, cut))).to.equal('incomplete');
    expect(parseClientHello(hello)).to.deep.equal({ servername: 'a.test', alpn: ['h2'] });
  });

  it('refuses what is not a TLS ClientHello', () => {
    expect(parseClientHello(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).to.equal('invalid');
    // A handshake record that holds a ServerHello (type 2), and one whose lengths lie.
    expect(parseClientHello(Buffer.from([22, 3, 1, 0, 4, 2, 0, 0, 0]))).to.equal('invalid');
    expect(parseClientHello(Buffer.from([22, 3, 1, 0, 6, 1, 0, 0, 200, 3, 3]))).to.equal('invalid');
  });
});
