// issue 19: nginx's ssl_verify_client, ssl_client_certificate and ssl_verify_depth become the site's
// tls.clientAuth (README "Client certificates (mTLS)"), inherited from http like the certificate pair.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { readNginx } from '../../../../src/config/nginx/adapt/reader.js';
import { ConfigError } from '../../../../src/config/types.js';

describe('config/nginx adapt: client certificates (ssl_verify_client)', () => {
  let dir: string;
  let file: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-adapt-mtls-'));
    file = path.join(dir, 'nginx.conf');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', path.join(dir, 'ca.key'), '-days', '1', '-subj', '/CN=clients', '-out', path.join(dir, 'clients.crt')], { stdio: 'ignore' });
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const server = (inner: string) => `server {\n  listen 443 ssl;\n  server_name a.example;\n  ssl_certificate a.crt;\n  ssl_certificate_key a.key;\n${inner}}\n`;

  it('on, with the CA file relative to the conf folder, becomes clientAuth { ca } (require); depth 1 is nginx\'s default and left out', () => {
    const loaded = readNginx(server('  ssl_verify_client on;\n  ssl_client_certificate clients.crt;\n  ssl_verify_depth 1;\n'), file);
    expect(loaded.config.sites[0]?.tls).to.deep.include({ kind: 'files', cert: path.join(dir, 'a.crt') });
    expect(loaded.config.sites[0]?.tls.clientAuth).to.deep.include({ mode: 'require', depth: 1, ca: path.join(dir, 'clients.crt') });
  });

  it('optional_no_ca and a depth at http level are inherited by the server; off writes nothing', () => {
    const loaded = readNginx(`ssl_verify_client optional_no_ca;\nssl_verify_depth 3;\n${server('')}${server('  ssl_verify_client off;\n').replace('a.example', 'b.example')}`, file);
    expect(loaded.config.sites[0]?.tls.clientAuth).to.deep.equal({ mode: 'optional_no_ca', depth: 3 });
    expect(loaded.config.sites[1]?.tls.clientAuth).to.equal(undefined);
  });

  it('on without ssl_client_certificate is an error at ssl_verify_client, as nginx refuses to start', () => {
    try {
      readNginx(server('  ssl_verify_client on;\n'), file);
      expect.fail('expected a ConfigError');
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      expect(err.issues.map((i) => `${i.pos.line}:${i.pos.col} ${i.message}`)).to.include('6:3 tls.clientAuth with mode require needs ca: the PEM file of the CAs a client certificate must come from');
    }
  });

  it('an unknown ssl_verify_client value is an error at the value', () => {
    try {
      readNginx(server('  ssl_verify_client yes;\n  ssl_client_certificate clients.crt;\n'), file);
      expect.fail('expected a ConfigError');
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      expect(err.issues.some((i) => i.pos.line === 6 && i.pos.col === 21 && i.message.includes('invalid value "yes"'))).to.equal(true);
    }
  });
});
