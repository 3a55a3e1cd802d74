// The PROXY protocol header a load balancer puts in front of a connection (haproxy's
// proxy-protocol.txt, versions 1 and 2): the client's address as the balancer saw it. Parsed by
// hand and strictly: every byte comes from the network, and a header we cannot read whole is a
// refused connection, never a guess (nginx's ngx_proxy_protocol_read does the same: "broken header").
import ipaddr from 'ipaddr.js';

/** The client address the header gives; undefined: keep the TCP peer's (LOCAL, UNKNOWN, unsupported family). */
export interface ProxiedPeer {
  address: string;
  port: number;
}

export type ProxyHeader =
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  /** `length` bytes are the header; what follows belongs to TLS or HTTP. */
  | { kind: 'header'; length: number; version: 1 | 2; source: ProxiedPeer | undefined };

/** §2.1: a v1 line is at most 107 bytes, CRLF included. */
export const MAX_V1_BYTES = 107;
/**
 * v2 headers carry TLVs after the addresses (§2.2); haproxy's and AWS NLB's are a few hundred bytes.
 * The 16-bit length would allow 64 KiB from an untrusted peer; past this it is refused.
 */
export const MAX_V2_BYTES = 4096;
/** The most a reader needs to buffer before a header is whole or refused. */
export const MAX_HEADER_BYTES = MAX_V2_BYTES;

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED = 16;
const CMD_LOCAL = 0x20;
const CMD_PROXY = 0x21;
const AF_INET = 0x1;
const AF_INET6 = 0x2;
const TRANSPORT_STREAM = 0x1;

const incomplete: ProxyHeader = { kind: 'incomplete' };
const invalid = (reason: string): ProxyHeader => ({ kind: 'invalid', reason });

/** True while `buf` is still a prefix of `prefix` (more bytes could make it match). */
function startsLike(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.compare(prefix, 0, n, 0, n) === 0;
}

/** Reads a v1 or v2 header at the start of `buf`. */
export function parseProxyHeader(buf: Buffer): ProxyHeader {
  if (buf.length === 0) return incomplete;
  if (buf[0] === 0x50) return startsLike(buf, V1_PREFIX) ? parseV1(buf) : invalid('not a PROXY protocol header');
  if (buf[0] === 0x0d) return startsLike(buf, V2_SIGNATURE) ? parseV2(buf) : invalid('not a PROXY protocol header');
  return invalid('not a PROXY protocol header');
}

// §2.1: "PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP sport SP dport CRLF, or "PROXY UNKNOWN" ... CRLF.
const DEC_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_TEXT = new RegExp(`^${DEC_OCTET}(?:\\.${DEC_OCTET}){3}$`);
/** The spec's ports have no sign, no leading zero, and fit 16 bits. */
const PORT_TEXT = /^(?:0|[1-9]\d{0,4})$/;

function parseV1(buf: Buffer): ProxyHeader {
  if (buf.length < V1_PREFIX.length) return incomplete;
  const searchEnd = Math.min(buf.length, MAX_V1_BYTES);
  const lf = buf.subarray(0, searchEnd).indexOf(0x0a);
  if (lf === -1) return buf.length >= MAX_V1_BYTES ? invalid('v1 header longer than 107 bytes') : incomplete;
  if (buf[lf - 1] !== 0x0d) return invalid('v1 header not ended by CRLF');
  const line = buf.toString('latin1', V1_PREFIX.length, lf - 1);
  const length = lf + 1;
  // UNKNOWN: the rest of the line is to be ignored, and the peer's address kept (§2.1).
  if (line === 'UNKNOWN' || line.startsWith('UNKNOWN ')) return { kind: 'header', length, version: 1, source: undefined };
  const parts = line.split(' ');
  if (parts.length !== 5) return invalid('v1 header needs protocol, two addresses and two ports');
  const [proto, src = '', dst = '', sport = '', dport = ''] = parts;
  const valid = proto === 'TCP4' ? validV4 : proto === 'TCP6' ? validV6 : undefined;
  if (!valid) return invalid(`v1 protocol "${printable(proto ?? '')}" is not TCP4, TCP6 or UNKNOWN`);
  if (!valid(src) || !valid(dst)) return invalid(`v1 address is not a valid ${proto} address`);
  if (!validPort(sport) || !validPort(dport)) return invalid('v1 port is not a number from 0 to 65535');
  return { kind: 'header', length, version: 1, source: { address: normalise(src), port: Number(sport) } };
}

function validV4(text: string): boolean {
  return IPV4_TEXT.test(text);
}

function validV6(text: string): boolean {
  // No zone index ("%eth0") and nothing but hex digits, colons and an embedded dotted quad.
  return /^[0-9a-fA-F:.]{2,45}$/.test(text) && ipaddr.IPv6.isValid(text);
}

function validPort(text: string): boolean {
  return PORT_TEXT.test(text) && Number(text) <= 65535;
}

/** For messages: a hostile header's text, without control bytes, bounded. */
function printable(text: string): string {
  return text.slice(0, 16).replace(/[^\x20-\x7e]/g, '?');
}

/** `::ffff:a.b.c.d` is the IPv4 client a dual-stack socket would report as `a.b.c.d` (connection-info.ts). */
function normalise(address: string): string {
  if (!address.includes(':')) return address;
  const ip = ipaddr.IPv6.parse(address);
  return ip.isIPv4MappedAddress() ? ip.toIPv4Address().toString() : ip.toRFC5952String();
}

// §2.2: 12-byte signature, version/command, family/transport, 16-bit length, then the addresses
// (IPv4 12 bytes, IPv6 36, UNIX 216) and TLVs up to `length`.
function parseV2(buf: Buffer): ProxyHeader {
  if (buf.length < V2_FIXED) return incomplete;
  const verCmd = buf[12];
  if (verCmd !== CMD_LOCAL && verCmd !== CMD_PROXY) return invalid(`v2 version/command byte 0x${(verCmd ?? 0).toString(16)} is not LOCAL or PROXY`);
  const famTransport = buf[13] ?? 0;
  const bodyLength = buf.readUInt16BE(14);
  const length = V2_FIXED + bodyLength;
  if (length > MAX_V2_BYTES) return invalid(`v2 header of ${length} bytes is over the ${MAX_V2_BYTES}-byte limit`);
  if (buf.length < length) return incomplete;
  // LOCAL: the balancer's own connection (health checks); family and addresses are ignored (§2.2).
  if (verCmd === CMD_LOCAL) return { kind: 'header', length, version: 2, source: undefined };
  const body = buf.subarray(V2_FIXED, length);
  const family = famTransport >> 4;
  const addrBytes = family === AF_INET ? 12 : family === AF_INET6 ? 36 : family === 0x3 ? 216 : 0;
  if (family > 0x3 || (famTransport & 0x0f) > 0x2) return invalid(`v2 family/transport byte 0x${famTransport.toString(16)} is not defined`);
  if (body.length < addrBytes) return invalid('v2 header shorter than its addresses');
  if (!validTlvs(body.subarray(addrBytes))) return invalid('v2 TLV runs past the header');
  // PROXY over a family or transport we do not serve (UNSPEC, UNIX, DGRAM): keep the peer's address,
  // as §2.2 tells a receiver to, and as nginx does ("unsupported address family").
  if ((famTransport & 0x0f) !== TRANSPORT_STREAM || (family !== AF_INET && family !== AF_INET6)) {
    return { kind: 'header', length, version: 2, source: undefined };
  }
  if (family === AF_INET) {
    const address = `${body[0]}.${body[1]}.${body[2]}.${body[3]}`;
    return { kind: 'header', length, version: 2, source: { address, port: body.readUInt16BE(8) } };
  }
  const ip = ipaddr.fromByteArray([...body.subarray(0, 16)]) as ipaddr.IPv6;
  const address = ip.isIPv4MappedAddress() ? ip.toIPv4Address().toString() : ip.toRFC5952String();
  return { kind: 'header', length, version: 2, source: { address, port: body.readUInt16BE(32) } };
}

/** §2.2.7: type (1 byte), length (2 bytes), value; each must end inside the header. */
function validTlvs(tlvs: Buffer): boolean {
  let p = 0;
  while (p < tlvs.length) {
    if (p + 3 > tlvs.length) return false;
    p += 3 + tlvs.readUInt16BE(p + 1);
    if (p > tlvs.length) return false;
  }
  return true;
}
