// issue 19: an upstream's `tls: { cert, key, protocols }` — gatehouse as the client of a backend that
// asks for a client certificate. The backend is real nginx 1.22 with `ssl_verify_client on`
// (nginx's own answer without a valid certificate is its 400 page, which gatehouse passes on), over
// https:// (HTTP/1.1) and h2://; a protocol the backend does not speak is a 502 whose log says why.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startNginx } from '../helpers/cgi-peers.js';
import { curl } from '../helpers/curl.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import type { Peer } from '../helpers/process.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';

/** A client certificate (extendedKeyUsage clientAuth, which nginx's verification requires) signed by `ca`. */
function issueClient(ca: TestCa, name: string): { certFile: string; keyFile: string } {
  const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: ca.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  fs.writeFileSync(path.join(ca.dir, `${name}.ext`), 'extendedKeyUsage=clientAuth\n');
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  run(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`]);
  run(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
  return { certFile: path.join(ca.dir, `${name}.crt`), keyFile: path.join(ca.dir, `${name}.key`) };
}

describe('upstream client certificates and protocols, against nginx with ssl_verify_client (integration)', function () {
  this.timeout(60_000);
  let nginx: Peer;
  let gh: Gatehouse;

  before(async () => {
    const dir = tempDir('gh-upcert-');
    const serverCa = makeTestCa(path.join(dir, 'server-ca'), 'backend server CA');
    const clientCa = makeTestCa(path.join(dir, 'client-ca'), 'backend client CA');
    const otherCa = makeTestCa(path.join(dir, 'other-ca'), 'some other CA');
    const server = serverCa.issue('backend', ['127.0.0.1']);
    const client = issueClient(clientCa, 'gatehouse-client');
    const stranger = issueClient(otherCa, 'stranger');
    const [both, only12] = [await freePort(), await freePort()];
    const tlsServer = (port: number, extra: string): string => `
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${server.certFile};
    ssl_certificate_key ${server.keyFile};
    ssl_client_certificate ${clientCa.caFile};
    ssl_verify_client on;
    ${extra}
    location / { return 200 "verify=$ssl_client_verify dn=$ssl_client_s_dn proto=$server_protocol\\n"; }
  }`;
    nginx = await startNginx(dir, `${tlsServer(both, 'ssl_protocols TLSv1.2 TLSv1.3;')}\n${tlsServer(only12, 'ssl_protocols TLSv1.2;')}`, both);
    const withCert = { ca: serverCa.caFile, cert: client.certFile, key: client.keyFile };
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      upstreams: {
        mtls: { servers: `https://127.0.0.1:${both}`, tls: withCert },
        mtlsH2: { servers: `h2://127.0.0.1:${both}`, tls: withCert },
        plain: { servers: `https://127.0.0.1:${both}`, tls: { ca: serverCa.caFile } },
        stranger: { servers: `https://127.0.0.1:${both}`, tls: { ca: serverCa.caFile, cert: stranger.certFile, key: stranger.keyFile } },
        tls13: { servers: `https://127.0.0.1:${only12}`, tls: { ...withCert, protocols: ['TLSv1.3'] } },
        tls12: { servers: `https://127.0.0.1:${only12}`, tls: { ...withCert, protocols: ['TLSv1.2'] } },
      },
      sites: [
        {
          hosts: ['a.test'],
          tls: 'internal',
          routes: ['mtls', 'mtlsH2', 'plain', 'stranger', 'tls13', 'tls12'].map((name) => ({ location: `/${name}/`, proxy: name })),
        },
      ],
    }));
  });

  after(async () => {
    await gh?.stop();
    await nginx?.stop('SIGQUIT');
  });

  it('presents the client certificate over https:// and h2://: nginx verifies it (200, its DN)', async () => {
    const h1 = await curl(gh.curlArgs('a.test', '/mtls/x'));
    expect(h1.status, h1.body.toString()).to.equal(200);
    expect(h1.body.toString()).to.match(/^verify=SUCCESS dn=CN=gatehouse-client proto=HTTP\/1\.1/);
    const h2 = await curl(gh.curlArgs('a.test', '/mtlsH2/x'));
    expect(h2.status, h2.body.toString()).to.equal(200);
    expect(h2.body.toString()).to.match(/^verify=SUCCESS dn=CN=gatehouse-client proto=HTTP\/2\.0/);
  });

  it('without a client certificate, or with one from another CA, passes nginx\'s 400 on', async () => {
    const none = await curl(gh.curlArgs('a.test', '/plain/x'));
    expect(none.status).to.equal(400);
    expect(none.body.toString()).to.include('No required SSL certificate was sent');
    const other = await curl(gh.curlArgs('a.test', '/stranger/x'));
    expect(other.status).to.equal(400);
    expect(other.body.toString()).to.include('The SSL certificate error');
  });

  it('offers only the upstream\'s protocols: TLSv1.3 against a TLSv1.2-only backend is a 502 logged with the cause', async () => {
    expect((await curl(gh.curlArgs('a.test', '/tls12/x'))).status).to.equal(200);
    const r = await curl(gh.curlArgs('a.test', '/tls13/x'));
    expect(r.status).to.equal(502);
    // OpenSSL's alert, as the backend sent it (nginx: "unsupported protocol").
    await gh.peer.waitForOutput(/upstream tls13: https:\/\/127\.0\.0\.1:\d+ marked down[^\n]*alert protocol version/, 5000);
  });
});
