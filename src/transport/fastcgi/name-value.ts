// FastCGI name-value pairs (FastCGI 1.0 §3.4), the encoding of FCGI_PARAMS and FCGI_GET_VALUES.
import { CgiProtocolError } from '../cgi/errors.js';
import { toBytes } from '../cgi/bytes.js';

export type NameValuePairs = Iterable<readonly [string, string]>;

// §3.4 name-value pairs: each length is one byte when under 128, else four bytes (u32 BE, top bit set).

export function lengthSize(n: number): number {
  return n < 128 ? 1 : 4;
}

export function writeLength(buf: Buffer, offset: number, n: number): number {
  if (n < 128) {
    buf[offset] = n;
    return offset + 1;
  }
  if (n > 0x7fffffff) throw new RangeError(`FastCGI name or value is ${n} bytes, over 2^31-1`);
  buf.writeUInt32BE((n | 0x80000000) >>> 0, offset);
  return offset + 4;
}

/** One name-value pair (§3.4, FCGI_NameValuePair11/14/41/44). Strings are byte strings (bytes.ts). */
export function encodeNameValuePair(name: string, value: string): Buffer {
  const n = toBytes(name);
  const v = toBytes(value);
  const out = Buffer.allocUnsafe(lengthSize(n.length) + lengthSize(v.length) + n.length + v.length);
  let off = writeLength(out, 0, n.length);
  off = writeLength(out, off, v.length);
  off += n.copy(out, off);
  v.copy(out, off);
  return out;
}

export function encodeNameValuePairs(pairs: NameValuePairs): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of pairs) parts.push(encodeNameValuePair(name, value));
  return Buffer.concat(parts);
}

/** Decodes a whole name-value stream; names and values come back as byte strings (latin1). */
export function decodeNameValuePairs(content: Buffer): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let off = 0;
  const readLength = (): number => {
    if (off >= content.length) throw truncatedPairs();
    const b = content[off]!;
    if (b < 128) {
      off += 1;
      return b;
    }
    if (off + 4 > content.length) throw truncatedPairs();
    const n = content.readUInt32BE(off) & 0x7fffffff;
    off += 4;
    return n;
  };
  while (off < content.length) {
    const nameLength = readLength();
    const valueLength = readLength();
    if (off + nameLength + valueLength > content.length) throw truncatedPairs();
    const name = content.toString('latin1', off, off + nameLength);
    off += nameLength;
    out.push([name, content.toString('latin1', off, off + valueLength)]);
    off += valueLength;
  }
  return out;
}

function truncatedPairs(): CgiProtocolError {
  return new CgiProtocolError('EFCGIPROTO', 'FastCGI name-value pair runs past the end of its data');
}
