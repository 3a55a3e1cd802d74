// The internal CA's certificates, built with node-forge (the team's stack for the local CA).
//
// The root is an RSA-2048 certificate made and self-signed by forge as usual. Leaves use ECDSA P-256
// keys (smaller, faster handshakes), which forge cannot put in a certificate: its certificate model only
// knows RSA public keys. So a leaf is built as a forge certificate, its TBSCertificate taken as ASN.1, the
// SubjectPublicKeyInfo swapped for the EC one (RFC 5480), and the TBS bytes signed with the RSA root key
// (sha256WithRSAEncryption, RFC 4055) — which needs no EC support anywhere in forge. The alternative,
// @peculiar/x509 (present only as acme-client's dependency), would add a WebCrypto-based stack for this
// one job.
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { nameConstraintsExtension, type Subtrees } from './name-constraints.js';
import { isIpName } from './names.js';

const { asn1, pki } = forge;

export interface PemPair {
  certPem: string;
  keyPem: string;
}

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_P256 = '1.2.840.10045.3.1.7';
const OID_SKI = '2.5.29.14';

/** 16 random bytes, positive and minimally encoded as a DER INTEGER (RFC 5280 §4.1.2.2). */
function serialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}

/** A self-signed RSA root; with `permitted`, limited to those names by critical name constraints. */
export function createRootCa(notBefore: Date, notAfter: Date, permitted?: Subtrees): PemPair {
  const keys = pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialHex();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  // A distinct name per root, so a user who trusted an older root can tell them apart in a trust store.
  const attrs = [
    { name: 'commonName', value: `gatehouse Local CA ${notBefore.toISOString().slice(0, 10)} ${cert.serialNumber.slice(0, 8)}` },
    { name: 'organizationName', value: 'gatehouse' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    ...(permitted ? [nameConstraintsExtension(permitted)] : []),
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const keyPem = pki.privateKeyInfoToPem(pki.wrapRsaPrivateKey(pki.privateKeyToAsn1(keys.privateKey)));
  return { certPem: pki.certificateToPem(cert), keyPem };
}

/** A server certificate for `names` (DNS names and IPs) with a fresh ECDSA P-256 key, signed by `root`. */
export function createLeaf(root: PemPair, names: readonly string[], notBefore: Date, notAfter: Date): PemPair {
  if (names.length === 0) throw new Error('a certificate needs at least one name');
  const rootCert = pki.certificateFromPem(root.certPem);
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);

  const cert = pki.createCertificate();
  cert.serialNumber = serialHex();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setIssuer(rootCert.subject.attributes);
  // The CN is the first DNS name. Never an IP: a verifier checks the CN of a leaf without DNS SANs
  // against the root's DNS name constraints, and `127.0.0.1` looks like a DNS name to OpenSSL
  // (NAME_CONSTRAINTS_check_CN). RFC 5280 §4.2.1.6: with an empty subject the SAN must be critical; a
  // CN over 64 chars is not allowed.
  const cn = names.find((n) => !isIpName(n) && n.length <= 64);
  const withCn = cn !== undefined;
  cert.setSubject(withCn ? [{ name: 'commonName', value: cn }] : []);
  // Placeholder: forge needs an RSA key to serialise the TBS; the SPKI is replaced below.
  cert.publicKey = rootCert.publicKey;
  cert.siginfo.algorithmOid = pki.oids.sha256WithRSAEncryption!;
  const rootSki = rootCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      critical: !withCn,
      altNames: names.map((n) => (isIpName(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    },
    // RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits.
    {
      id: OID_SKI,
      value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, sha1Binary(point)),
    },
    ...(rootSki?.subjectKeyIdentifier
      ? [{ name: 'authorityKeyIdentifier', keyIdentifier: forge.util.hexToBytes(rootSki.subjectKeyIdentifier) }]
      : []),
  ]);

  const tbs = (pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  const fields = tbs.value as forge.asn1.Asn1[];
  // TBSCertificate: version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
  fields[6] = ecP256Spki(point);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const signature = sign('sha256', tbsDer, root.keyPem);

  const certAsn1 = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(pki.oids.sha256WithRSAEncryption!).getBytes()),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\0' + signature.toString('binary')),
  ]);
  const der = Buffer.from(asn1.toDer(certAsn1).getBytes(), 'binary');
  // Parsing it back with OpenSSL (through Node) both checks the encoding and gives a standard PEM.
  const certPem = new X509Certificate(der).toString();
  return { certPem, keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

/** SubjectPublicKeyInfo for an uncompressed P-256 point (RFC 5480 §2). */
function ecP256Spki(point: Buffer): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(OID_EC_PUBLIC_KEY).getBytes()),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(OID_P256).getBytes()),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\0' + point.toString('binary')),
  ]);
}

function sha1Binary(data: Buffer): string {
  return createHash('sha1').update(data).digest('binary');
}
