// issue 19: the $ssl_client_* formats against OpenSSL's own (the library nginx calls): subject and
// issuer as `openssl x509 -nameopt RFC2253` prints them (X509_NAME_print_ex with XN_FLAG_RFC2253, as
// nginx ≥ 1.11.6), the SHA-1 fingerprint, and the URL-escaped PEM.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { escapedPem, rfc2253, sha1Fingerprint, tabbedPem } from '../../../src/http/client-cert.js';

function selfSigned(dir: string, name: string, subject: string): { file: string; cert: X509Certificate } {
  const file = path.join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', path.join(dir, `${name}.key`), '-days', '1', '-utf8', '-multivalue-rdn', '-subj', subject, '-out', file], { stdio: 'ignore' });
  return { file, cert: new X509Certificate(fs.readFileSync(file)) };
}

function opensslSays(file: string, what: string[]): string {
  return execFileSync('openssl', ['x509', '-in', file, '-noout', ...what]).toString().trim();
}

describe('http/client-cert: $ssl_client_* as OpenSSL prints them', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-client-cert-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [name, subject] of [
    ['plain', '/C=DE/O=Example/CN=client one'],
    ['escapes', '/C=DE/O=Example, Inc./OU=a+b;c"d<e>f/CN=#lead and trail '],
    ['utf8', '/C=DE/O=Müller & Söhne/CN=Zoë'],
    ['multi-valued RDN', '/C=DE/O=Example/CN=alice+UID=42'],
  ] as const) {
    it(`subject DN (${name}) is X509_NAME_print_ex(XN_FLAG_RFC2253)'s`, () => {
      const { file, cert } = selfSigned(dir, name.replace(/\W/g, '_'), subject);
      expect(rfc2253(cert.subject)).to.equal(opensslSays(file, ['-subject', '-nameopt', 'RFC2253']).replace(/^subject=/, ''));
      expect(rfc2253(cert.issuer)).to.equal(opensslSays(file, ['-issuer', '-nameopt', 'RFC2253']).replace(/^issuer=/, ''));
    });
  }

  it('fingerprint is SHA-1 lower-case without colons; the escaped PEM decodes to the PEM; $ssl_client_cert tabs its lines', () => {
    const { file, cert } = selfSigned(dir, 'fp', '/CN=fp');
    expect(sha1Fingerprint(cert)).to.equal(opensslSays(file, ['-fingerprint', '-sha1']).split('=')[1]!.replace(/:/g, '').toLowerCase());
    const escaped = escapedPem(cert);
    expect(escaped).to.match(/^[A-Za-z0-9%._~-]+$/);
    expect(escaped).to.contain('-----BEGIN%20CERTIFICATE-----%0A');
    expect(decodeURIComponent(escaped)).to.equal(fs.readFileSync(file, 'latin1'));
    const tabbed = tabbedPem(cert);
    expect(tabbed.startsWith('-----BEGIN CERTIFICATE-----\n\t')).to.equal(true);
    expect(tabbed.endsWith('-----END CERTIFICATE-----')).to.equal(true);
  });
});
