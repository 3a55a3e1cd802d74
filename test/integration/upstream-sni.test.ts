// Which name an https:// upstream is verified against and sent as SNI: the upstream's own (or
// `tls.servername`), never the client's Host, as nginx's proxy_ssl_name ($proxy_host). Clients with
// different Host headers share the kept-alive upstream connections.
import { expect } from 'chai';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { curl } from '../helpers/curl.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { makeTestCa } from '../helpers/test-ca.js';

interface TlsBackend {
  port: number;
  /** The SNI of each TLS connection accepted, in order ('' for none). */
  snis: string[];
  close(): Promise<void>;
}

async function startTlsBackend(cert: Buffer, key: Buffer): Promise<TlsBackend> {
  const snis: string[] = [];
  const server = https.createServer({ cert, key, keepAliveTimeout: 30_000 }, (req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`host=${req.headers.host ?? ''}`);
  });
  server.on('secureConnection', (socket: TLSSocket) => snis.push(socket.servername || ''));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    snis,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('https:// upstreams: SNI and certificate name (integration)', function () {
  this.timeout(60_000);
  let byAddress: TlsBackend;
  let byName: TlsBackend;
  let gh: Gatehouse;

  before(async () => {
    const ca = makeTestCa(path.join(tempDir('gh-sni-'), 'ca'));
    const ipCert = ca.issue('ip', ['127.0.0.1']);
    const nameCert = ca.issue('named', ['backend.internal']);
    byAddress = await startTlsBackend(ipCert.cert, ipCert.key);
    byName = await startTlsBackend(nameCert.cert, nameCert.key);
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      upstreams: {
        address: { servers: [`https://127.0.0.1:${byAddress.port}`], tls: { ca: ca.caFile } },
        named: { servers: [`https://127.0.0.1:${byName.port}`], tls: { ca: ca.caFile, servername: 'backend.internal' } },
      },
      sites: [
        {
          hosts: ['a.test', 'b.test'],
          routes: [
            { location: '/address/', proxy: 'address' },
            { location: '/named/', proxy: 'named' },
          ],
        },
      ],
    }));
  });

  after(async () => {
    await gh?.stop();
    await Promise.all([byAddress?.close(), byName?.close()]);
  });

  async function alternateHosts(prefix: string): Promise<string[]> {
    const bodies: string[] = [];
    for (const host of ['a.test', 'b.test', 'a.test', 'b.test']) {
      const r = await curl(gh.curlArgs(host, `${prefix}x`));
      expect(r.status, `${host}: ${r.body.toString()} ${r.stderr}`).to.equal(200);
      bodies.push(r.body.toString().replace(/:\d+$/, ''));
    }
    return bodies;
  }

  it('an upstream given by address gets no SNI, is verified against its address, and keeps one connection across client Hosts', async () => {
    const bodies = await alternateHosts('/address/');
    // The client's Host is still forwarded in the request.
    expect(bodies).to.deep.equal(['host=a.test', 'host=b.test', 'host=a.test', 'host=b.test']);
    expect(byAddress.snis).to.deep.equal(['']);
  });

  it('tls.servername is the name sent and verified, whatever the client asked for, on one kept-alive connection', async () => {
    const bodies = await alternateHosts('/named/');
    expect(bodies).to.deep.equal(['host=a.test', 'host=b.test', 'host=a.test', 'host=b.test']);
    expect(byName.snis).to.deep.equal(['backend.internal']);
  });
});
