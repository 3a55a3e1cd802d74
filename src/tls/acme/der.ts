// The two fields of a certificate that ARI's CertID needs (RFC 9773 §4.1): the Authority Key Identifier's
// keyIdentifier and the serial number's DER content bytes. Node's X509Certificate exposes neither in raw
// form (serialNumber is hex without the sign byte), so this walks the DER by hand: a few TLVs deep.

interface Tlv {
  tag: number;
  /** First content byte. */
  start: number;
  /** One past the last content byte. */
  end: number;
}

function readTlv(buf: Buffer, at: number): Tlv {
  if (at + 2 > buf.length) throw new Error('truncated DER');
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > buf.length) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  if (start + len > buf.length) throw new Error('truncated DER');
  return { tag, start, end: start + len };
}

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const t = readTlv(buf, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

/** id-ce-authorityKeyIdentifier, 2.5.29.35, as DER OID content. */
const AKI_OID = Buffer.from([0x55, 0x1d, 0x23]);

export interface CertIdParts {
  keyIdentifier: Buffer | undefined;
  serial: Buffer;
}

export function certIdParts(der: Buffer): CertIdParts {
  const cert = readTlv(der, 0);
  const tbs = children(der, cert)[0];
  if (!tbs) throw new Error('not a certificate');
  const fields = children(der, tbs);
  let i = 0;
  if (fields[0]?.tag === 0xa0) i++; // [0] version
  const serialTlv = fields[i];
  if (!serialTlv || serialTlv.tag !== 0x02) throw new Error('certificate has no serial number');
  const serial = der.subarray(serialTlv.start, serialTlv.end);
  let keyIdentifier: Buffer | undefined;
  const extensions = fields.find((f) => f.tag === 0xa3);
  if (extensions) {
    const list = children(der, extensions)[0];
    for (const ext of list ? children(der, list) : []) {
      const [oid, ...rest] = children(der, ext);
      if (!oid || oid.tag !== 0x06 || !der.subarray(oid.start, oid.end).equals(AKI_OID)) continue;
      const value = rest.find((r) => r.tag === 0x04);
      if (!value) break;
      const aki = readTlv(der, value.start);
      // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, ... }
      const kid = children(der, aki).find((c) => c.tag === 0x80);
      if (kid) keyIdentifier = Buffer.from(der.subarray(kid.start, kid.end));
      break;
    }
  }
  return { keyIdentifier, serial: Buffer.from(serial) };
}

/** RFC 9773 CertID: base64url(AKI keyIdentifier) "." base64url(serial); undefined without an AKI. */
export function ariCertId(der: Buffer): string | undefined {
  const { keyIdentifier, serial } = certIdParts(der);
  if (!keyIdentifier) return undefined;
  return `${keyIdentifier.toString('base64url')}.${serial.toString('base64url')}`;
}
