// issue 19: `tls.clientAuth` (README "Client certificates (mTLS)"): its errors at FILE:LINE:COL, and
// what a good one normalises to. The CA files are made by openssl at test time.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { expectErrorAt, valid, lines } from './helpers.js';

const HEAD = ['listen: { https: 8443 }', 'sites:'];

describe('config/client-auth', () => {
  let dir: string;
  let ca: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-client-auth-'));
    ca = path.join(dir, 'clients.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', path.join(dir, 'ca.key'), '-days', '1', '-subj', '/CN=clients', '-out', ca], { stdio: 'ignore' });
    fs.writeFileSync(path.join(dir, 'not-pem.crt'), 'hello\n');
    fs.writeFileSync(path.join(dir, 'broken.crt'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads mode (default require), depth (default 1, as ssl_verify_depth) and the CA bundle, resolved against the config folder', () => {
    const file = path.join(dir, 'gatehouse.yaml');
    const config = valid(lines(...HEAD, '  - hosts: [a.test]', '    tls: { issuer: internal, clientAuth: { ca: clients.crt } }', '  - hosts: [b.test]', '    tls: { clientAuth: { mode: optional_no_ca, depth: 3 } }'), file);
    const [a, b] = config.sites.map((s) => s.tls);
    expect(a).to.deep.include({ kind: 'internal' });
    expect(a!.clientAuth).to.deep.include({ mode: 'require', depth: 1, ca });
    expect(a!.clientAuth!.caPem).to.contain('-----BEGIN CERTIFICATE-----');
    expect(b!.clientAuth).to.deep.equal({ mode: 'optional_no_ca', depth: 3 });
  });

  it('require and optional need a ca: the error is at clientAuth', () => {
    const L = [...HEAD, '  - hosts: [a.test]', '    tls:', '      clientAuth: { mode: optional }'];
    expectErrorAt(L, '{ mode: optional }', 'tls.clientAuth with mode optional needs ca');
    expectErrorAt([...HEAD, '  - hosts: [a.test]', '    tls: { clientAuth: {} }'], '{}', 'tls.clientAuth with mode require needs ca');
  });

  it('a ca that is missing, not PEM, or unparsable is an error at the file name', () => {
    for (const [name, message] of [
      ['missing.crt', 'cannot be read (ENOENT)'],
      ['not-pem.crt', 'holds no PEM certificate'],
      ['broken.crt', 'certificate 1 cannot be parsed'],
    ]) {
      const L = [...HEAD, '  - hosts: [a.test]', `    tls: { clientAuth: { ca: ${path.join(dir, name!)} } }`];
      expectErrorAt(L, path.join(dir, name!), message!);
    }
  });

  it('rejects an unknown mode and a negative depth at their values', () => {
    // The bad value comes before the CA's path: the column is found by the value's first occurrence in
    // the line, and the temporary folder's random name can hold "-1" or "on" too (it once did, in CI).
    expectErrorAt([...HEAD, '  - hosts: [a.test]', `    tls: { clientAuth: { mode: on, ca: ${ca} } }`], 'on', 'mode must be require, optional or optional_no_ca');
    expectErrorAt([...HEAD, '  - hosts: [a.test]', `    tls: { clientAuth: { depth: -1, ca: ${ca} } }`], '-1', 'depth');
  });
});
