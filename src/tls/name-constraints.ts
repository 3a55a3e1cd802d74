// X.509 name constraints for the internal CA's root (RFC 5280 §4.2.1.10): the root may only vouch for
// names a local CA should ever sign, so a copy of its key cannot mint a certificate for a public site
// that clients who trusted the root would accept (security review F13). OpenSSL, BoringSSL, NSS, Go
// and the platform verifiers enforce them along the chain.
//
// Only permitted subtrees of two kinds are written: dNSName (a name matches when it is the base or
// ends in "." + base, RFC 5280 "adding zero or more labels to the left") and iPAddress (address and
// mask, 8 bytes for IPv4 and 32 for IPv6). With any subtree of a kind present, every name of that kind
// in a leaf must fall in one of them.
import ipaddr from 'ipaddr.js';
import forge from 'node-forge';
import { LOCAL_SUFFIXES } from '../config/hosts.js';
import { isIpName, normalizeName } from './names.js';

const { asn1 } = forge;

export const OID_NAME_CONSTRAINTS = '2.5.29.30';
const GN_DNS = 2;
const GN_IP = 7;

export interface Subtrees {
  /** dNSName bases, lower-case, without a leading dot. */
  dns: string[];
  /** iPAddress subtrees as CIDRs (`10.0.0.0/8`, `fc00::/7`). */
  ip: string[];
}

/**
 * What every root permits: the suffixes gatehouse treats as local (config/hosts.ts: `tls` defaults to
 * internal for them) and loopback, private (RFC 1918, RFC 4193) and link-local addresses.
 */
export const LOCAL_SUBTREES: Readonly<Subtrees> = Object.freeze({
  dns: [...LOCAL_SUFFIXES],
  ip: ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '::1/128', 'fc00::/7', 'fe80::/10'],
});

/** Does a root with these subtrees permit certificate name `name` (DNS, `*.` wildcard or IP)? Undefined: no constraints. */
export function permits(subtrees: Subtrees | undefined, name: string): boolean {
  if (!subtrees) return true;
  const n = normalizeName(name);
  if (isIpName(n)) {
    const ip = ipaddr.parse(n);
    return subtrees.ip.some((cidr) => {
      const [net, bits] = ipaddr.parseCIDR(cidr);
      return net.kind() === ip.kind() && ip.match(net, bits);
    });
  }
  // OpenSSL compares a wildcard SAN as a string: `*.app.test` is under `test` as `x.app.test` is.
  return subtrees.dns.some((base) => n === base || n.endsWith(`.${base}`));
}

/** LOCAL_SUBTREES plus each of `names` they do not cover: a wildcard by its parent name, an IP alone. */
export function subtreesFor(names: readonly string[]): Subtrees {
  const out: Subtrees = { dns: [...LOCAL_SUBTREES.dns], ip: [...LOCAL_SUBTREES.ip] };
  for (const name of names.map(normalizeName)) {
    if (permits(out, name)) continue;
    if (isIpName(name)) out.ip.push(`${name}/${ipaddr.parse(name).kind() === 'ipv4' ? 32 : 128}`);
    else out.dns.push(name.startsWith('*.') ? name.slice(2) : name);
  }
  return out;
}

/** The extension for forge's setExtensions: critical, as RFC 5280 §4.2.1.10 requires of a CA. */
export function nameConstraintsExtension(subtrees: Subtrees): { id: string; critical: true; value: forge.asn1.Asn1 } {
  const subtree = (base: forge.asn1.Asn1) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [base]);
  const bases = [
    ...subtrees.dns.map((d) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, GN_DNS, false, d)),
    ...subtrees.ip.map((cidr) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, GN_IP, false, ipSubtreeBytes(cidr))),
  ];
  const permitted = asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, bases.map(subtree));
  return { id: OID_NAME_CONSTRAINTS, critical: true, value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [permitted]) };
}

/** Network address then mask, as binary string (RFC 5280: "the address ... followed by the mask"). */
function ipSubtreeBytes(cidr: string): string {
  const [net, bits] = ipaddr.parseCIDR(cidr);
  const mask = net.kind() === 'ipv4' ? ipaddr.IPv4.subnetMaskFromPrefixLength(bits) : ipaddr.IPv6.subnetMaskFromPrefixLength(bits);
  const m = mask.toByteArray();
  const a = net.toByteArray().map((b, i) => b & m[i]!);
  return Buffer.from([...a, ...m]).toString('binary');
}

/**
 * The permitted subtrees of a certificate's name constraints, or undefined when it has none (a root made
 * before gatehouse wrote them). Throws on excluded subtrees or kinds it did not write: such a root was
 * not made by gatehouse and is not reasoned about.
 */
export function readSubtrees(certPem: string): Subtrees | undefined {
  const cert = forge.pki.certificateFromPem(certPem);
  const ext = (cert.extensions as Array<{ id?: string; value?: string }>).find((e) => e.id === OID_NAME_CONSTRAINTS);
  if (!ext?.value) return undefined;
  const nc = asn1.fromDer(ext.value);
  const out: Subtrees = { dns: [], ip: [] };
  for (const trees of nc.value as forge.asn1.Asn1[]) {
    if (trees.tagClass !== asn1.Class.CONTEXT_SPECIFIC || trees.type !== 0) throw new Error('name constraints with excluded subtrees');
    for (const st of trees.value as forge.asn1.Asn1[]) {
      const base = (st.value as forge.asn1.Asn1[])[0]!;
      const bytes = base.value as string;
      if (base.type === GN_DNS) out.dns.push(bytes.toLowerCase());
      else if (base.type === GN_IP && (bytes.length === 8 || bytes.length === 32)) out.ip.push(cidrOf(Buffer.from(bytes, 'binary')));
      else throw new Error(`name constraints with a GeneralName of type ${base.type}`);
    }
  }
  return out;
}

function cidrOf(raw: Buffer): string {
  const half = raw.length / 2;
  const addr = ipaddr.fromByteArray([...raw.subarray(0, half)]);
  const mask = ipaddr.fromByteArray([...raw.subarray(half)]);
  return `${addr.toString()}/${mask.prefixLengthFromSubnetMask() ?? half * 8}`;
}
