// The TLS-ALPN-01 challenge certificate (RFC 8737 §3): self-signed, one dNSName SAN, and the critical
// id-pe-acmeIdentifier extension holding SHA-256 of the key authorization.
//
// Built here, DER by hand, rather than with acme-client's createAlpnCertificate: that one marks the
// certificate as a CA with keyUsage keyCertSign/cRLSign only, and a TLS 1.2 client that checks key usage
// (OpenSSL: "ecc cert not for signing") refuses it, as does OpenSSL's own server-side certificate choice
// for ECDHE-RSA. This one is an ordinary server certificate (digitalSignature, serverAuth).
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto';

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

const seq = (...c: Buffer[]): Buffer => tlv(0x30, ...c);
const octets = (b: Buffer): Buffer => tlv(0x04, b);

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function utcTime(d: Date): Buffer {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return tlv(0x17, Buffer.from(s, 'ascii'));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), octets(value));
}

const ACME_IDENTIFIER = '1.3.6.1.5.5.7.1.31';

/** PEM certificate and key for answering TLS-ALPN-01 for `name` with `keyAuth`, signed by `keyPem`. */
export function alpnCertificate(name: string, keyAuth: string, keyPem: string): { certPem: string; keyPem: string } {
  const key = createPrivateKey(keyPem);
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const rsa = key.asymmetricKeyType === 'rsa';
  // ecdsa-with-SHA256 (no parameters) / sha256WithRSAEncryption (NULL parameters)
  const sigAlg = rsa ? seq(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00])) : seq(oid('1.2.840.10045.4.3.2'));
  const cn = seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(name, 'utf8')))));
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const now = Date.now();
  const extensions = [
    extension('2.5.29.17', false, seq(tlv(0x82, Buffer.from(name, 'ascii')))), // subjectAltName dNSName
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x07, 0x80]))), // keyUsage digitalSignature
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage serverAuth
    extension(ACME_IDENTIFIER, true, octets(createHash('sha256').update(keyAuth).digest())),
  ];
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([0x02]))), // v3
    tlv(0x02, serial),
    sigAlg,
    cn,
    seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 7 * 86_400_000))),
    cn,
    spki,
    tlv(0xa3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, key);
  const der = seq(tbs, sigAlg, tlv(0x03, Buffer.concat([Buffer.from([0x00]), signature])));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return { certPem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`, keyPem };
}
