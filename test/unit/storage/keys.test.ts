import { expect } from 'chai';
import {
  acmeAccountKeys,
  certificateKeys,
  certificatesPrefix,
  httpChallengeKey,
  internalCaKeys,
  issueLockName,
  issuerKeyFromDirectory,
  safeName,
  tlsAlpnChallengeKey,
} from '../../../src/storage/keys.js';

describe('storage keys', () => {
  it('sanitises names: lower-case, wildcards, IPv6, no dot-leading or traversal', () => {
    expect(safeName('*.Example.COM.')).to.equal('wildcard_.example.com');
    expect(safeName('::1')).to.equal('--1');
    expect(() => safeName('..')).to.throw(); // nothing left once dots are removed
    expect(safeName('../../etc')).to.not.include('..');
    expect(safeName('a/b')).to.equal('a_b');
    expect(() => safeName('')).to.throw();
  });

  it('namespaces certificates by issuer', () => {
    expect(certificateKeys('acme-v02.api.letsencrypt.org-directory', '*.example.com')).to.deep.equal({
      cert: 'certificates/acme-v02.api.letsencrypt.org-directory/wildcard_.example.com/wildcard_.example.com.crt',
      key: 'certificates/acme-v02.api.letsencrypt.org-directory/wildcard_.example.com/wildcard_.example.com.key',
      meta: 'certificates/acme-v02.api.letsencrypt.org-directory/wildcard_.example.com/wildcard_.example.com.json',
      pending: 'certificates/acme-v02.api.letsencrypt.org-directory/wildcard_.example.com/wildcard_.example.com.pending',
    });
    expect(certificatesPrefix()).to.equal('certificates/');
    expect(certificatesPrefix('internal')).to.equal('certificates/internal/');
  });

  it('derives distinct issuer keys for production and staging directories', () => {
    const prod = issuerKeyFromDirectory('https://acme-v02.api.letsencrypt.org/directory');
    const staging = issuerKeyFromDirectory('https://acme-staging-v02.api.letsencrypt.org/directory');
    expect(prod).to.equal('acme-v02.api.letsencrypt.org-directory');
    expect(staging).to.not.equal(prod);
    expect(issuerKeyFromDirectory('https://127.0.0.1:14000/dir')).to.equal('127.0.0.1-14000-dir');
  });

  it('builds the fixed keys of the CA, accounts, challenges and locks', () => {
    expect(internalCaKeys()).to.deep.equal({ cert: 'internal-ca/root.crt', key: 'internal-ca/root.key' });
    expect(acmeAccountKeys('x', 'Ops@Example.com').json).to.equal('acme/x/accounts/ops@example.com.json');
    expect(httpChallengeKey('abc-_123')).to.equal('challenges/http-01/abc-_123');
    expect(() => httpChallengeKey('../x')).to.throw();
    expect(tlsAlpnChallengeKey('Example.com')).to.equal('challenges/tls-alpn-01/example.com.json');
    expect(issueLockName('internal', 'Example.com')).to.equal('issue/internal/example.com');
  });
});
