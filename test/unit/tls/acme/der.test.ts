import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ariCertId, certIdParts } from '../../../../src/tls/acme/der.js';

function openssl(dir: string, args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

describe('ARI CertID (RFC 9773 §4.1)', () => {
  it('matches the AKI key identifier and serial bytes openssl reports, including a DER sign byte', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-der-'));
    openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'subjectKeyIdentifier=hash']);
    openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.csr', '-subj', '/CN=a.test']);
    fs.writeFileSync(path.join(dir, 'ext'), 'authorityKeyIdentifier=keyid\nsubjectAltName=DNS:a.test\n');
    // A serial with the high bit set: its DER content starts with 0x00 (RFC 9773's example does too).
    openssl(dir, ['x509', '-req', '-in', 'c.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '0x87654321aabb', '-out', 'c.pem', '-days', '1', '-extfile', 'ext']);
    const pem = fs.readFileSync(path.join(dir, 'c.pem'), 'utf8');
    const text = openssl(dir, ['x509', '-in', 'c.pem', '-noout', '-ext', 'authorityKeyIdentifier']);
    const kid = Buffer.from(/((?:[0-9A-F]{2}:)+[0-9A-F]{2})/.exec(text)![1]!.replace(/:/g, ''), 'hex');
    const parts = certIdParts(Buffer.from(new X509Certificate(pem).raw));
    expect(parts.keyIdentifier!.equals(kid)).to.equal(true);
    expect(parts.serial.toString('hex')).to.equal('0087654321aabb');
    expect(ariCertId(Buffer.from(new X509Certificate(pem).raw))).to.equal(`${kid.toString('base64url')}.${Buffer.from('0087654321aabb', 'hex').toString('base64url')}`);
  });

  it('is undefined for a certificate without an Authority Key Identifier', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-der-'));
    openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '1', '-subj', '/CN=x',
      '-addext', 'authorityKeyIdentifier=none', '-addext', 'subjectKeyIdentifier=none']);
    const raw = Buffer.from(new X509Certificate(fs.readFileSync(path.join(dir, 'c.pem'))).raw);
    expect(ariCertId(raw)).to.equal(undefined);
  });
});
