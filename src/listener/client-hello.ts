// Reads the server name (SNI) and the ALPN list from a TLS ClientHello before TLS starts, so the
// certificate can be chosen up front. Node's SNICallback only adds the chosen certificate next to
// the server default (OpenSSL keeps one per key type), so an RSA site behind an ECDSA default could
// be served the default; and SNICallback never sees the ALPN list that TLS-ALPN-01 depends on
// (nodejs/node#45056). Layout: RFC 8446 §4.1.2 (ClientHello), RFC 6066 §3 (server_name),
// RFC 7301 §3.1 (ALPN).

export interface ClientHello {
  /** The host_name from server_name, lower-case; undefined when the client sent none. */
  servername: string | undefined;
  /** The protocols the client offers by ALPN, in its order; empty when it sent none. */
  alpn: string[];
}

const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
/** A ClientHello larger than this (it fits one 16 KiB record in practice) is refused. */
export const MAX_HELLO_BYTES = 16 * 1024 + 5;

/**
 * `incomplete` asks for more bytes; `invalid` means this is not a TLS ClientHello we can read (the
 * connection is then handed to TLS as is, which rejects it with a proper alert).
 */
export function parseClientHello(buf: Buffer): ClientHello | 'incomplete' | 'invalid' {
  if (buf.length < 5) return 'incomplete';
  if (buf[0] !== HANDSHAKE || buf[1] !== 3) return 'invalid';
  const recordLen = buf.readUInt16BE(3);
  if (buf.length < 5 + recordLen) return 'incomplete';
  // The ClientHello may span records in theory; every client we know sends it in one.
  const body = buf.subarray(5, 5 + recordLen);
  if (body.length < 4 || body[0] !== CLIENT_HELLO) return 'invalid';
  const helloLen = body.readUIntBE(1, 3);
  if (helloLen + 4 > body.length) return 'invalid';
  const hello = body.subarray(4, 4 + helloLen);
  let p = 2 + 32; // legacy_version, random
  if (p + 1 > hello.length) return 'invalid';
  p += 1 + (hello[p] ?? 0); // legacy_session_id
  if (p + 2 > hello.length) return 'invalid';
  p += 2 + hello.readUInt16BE(p); // cipher_suites
  if (p + 1 > hello.length) return 'invalid';
  p += 1 + (hello[p] ?? 0); // legacy_compression_methods
  const result: ClientHello = { servername: undefined, alpn: [] };
  if (p === hello.length) return result; // no extensions (SSL 3.0-style hello)
  if (p + 2 > hello.length) return 'invalid';
  const extEnd = p + 2 + hello.readUInt16BE(p);
  if (extEnd > hello.length) return 'invalid';
  p += 2;
  while (p + 4 <= extEnd) {
    const type = hello.readUInt16BE(p);
    const len = hello.readUInt16BE(p + 2);
    const data = hello.subarray(p + 4, p + 4 + len);
    if (data.length !== len) return 'invalid';
    if (type === EXT_SERVER_NAME) result.servername = readServerName(data);
    else if (type === EXT_ALPN) result.alpn = readAlpn(data);
    p += 4 + len;
  }
  return result;
}

function readServerName(data: Buffer): string | undefined {
  if (data.length < 2) return undefined;
  const end = Math.min(data.length, 2 + data.readUInt16BE(0));
  for (let p = 2; p + 3 <= end; ) {
    const nameType = data[p];
    const len = data.readUInt16BE(p + 1);
    if (nameType === 0 && p + 3 + len <= end) return data.toString('latin1', p + 3, p + 3 + len).toLowerCase();
    p += 3 + len;
  }
  return undefined;
}

function readAlpn(data: Buffer): string[] {
  if (data.length < 2) return [];
  const end = Math.min(data.length, 2 + data.readUInt16BE(0));
  const out: string[] = [];
  for (let p = 2; p < end; ) {
    const len = data[p] ?? 0;
    if (len === 0 || p + 1 + len > end) break;
    out.push(data.toString('latin1', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return out;
}
