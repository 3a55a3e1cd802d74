// The uwsgi request packet (uWSGI docs, "The uwsgi Protocol"): a 4-byte header — modifier1 (u8),
// datasize (u16 LITTLE-endian), modifier2 (u8) — then the vars, each as key size (u16 LE), key,
// value size (u16 LE), value; the request body follows, CONTENT_LENGTH bytes of it. modifier1 = 0
// means "WSGI request with vars", what nginx's uwsgi_modifier1 defaults to.
// The response is a plain HTTP/1.x head and body with no framing: see http-response-head.ts.
import { toBytes } from '../cgi/bytes.js';
import { CgiProtocolError } from '../cgi/errors.js';

export const UWSGI_HEADER_LEN = 4;
/** datasize is a u16, so the var block can never exceed this. */
export const UWSGI_MAX_VARS_BYTES = 0xffff;

export interface UwsgiModifiers {
  modifier1?: number;
  modifier2?: number;
}

/**
 * The header and var block of a request, as one Buffer; write the body after it. Strings are byte
 * strings (bytes.ts). Throws CgiProtocolError EUWSGIVARS when the var block is over 65535 bytes
 * (nginx refuses the same: "uwsgi request is too big"). uWSGI itself accepts only what fits its
 * --buffer-size (4096 by default) and resets the connection otherwise.
 */
export function encodeUwsgiRequest(vars: Iterable<readonly [string, string]>, modifiers: UwsgiModifiers = {}): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  for (const [name, value] of vars) {
    const k = toBytes(name);
    const v = toBytes(value);
    parts.push(k, v);
    size += 2 + k.length + 2 + v.length;
  }
  if (size > UWSGI_MAX_VARS_BYTES) {
    throw new CgiProtocolError(
      'EUWSGIVARS',
      `uwsgi request variables are ${size} bytes, over the protocol's ${UWSGI_MAX_VARS_BYTES}-byte limit`,
    );
  }
  const out = Buffer.allocUnsafe(UWSGI_HEADER_LEN + size);
  out[0] = modifiers.modifier1 ?? 0;
  out.writeUInt16LE(size, 1);
  out[3] = modifiers.modifier2 ?? 0;
  let off = UWSGI_HEADER_LEN;
  for (const part of parts) {
    out.writeUInt16LE(part.length, off);
    off += 2 + part.copy(out, off + 2);
  }
  return out;
}
