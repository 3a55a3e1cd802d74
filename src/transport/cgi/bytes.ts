// Byte strings. FastCGI, uwsgi and SCGI carry raw bytes, and Node hands us the request target and
// header values as latin1 ("binary") strings: one char per byte, exactly as the client sent them.
// Writing those as UTF-8 would double-encode every non-ASCII byte, so the codecs write strings as
// latin1. A string with a char above U+00FF cannot be a byte string; it is written as UTF-8, the
// only reading it can have. Text that is Unicode on purpose (the decoded path, a config value)
// goes through utf8ByteString() first, which gives the bytes nginx would send for it: nginx keeps
// $uri as the percent-decoded bytes, i.e. UTF-8 for a UTF-8 path.

/** A char above U+00FF: the string cannot be a byte string and is written as UTF-8. */
export const WIDE = /[\u0100-\uffff]/;
const NON_ASCII = /[\u0080-\uffff]/;
// router/uri-bytes.ts keeps a decoded byte that is not valid UTF-8 as the lone surrogate
// U+DC00+byte (PEP 383 "surrogateescape"); such a char stands for that one byte.
const ESCAPED_BYTE = /[\udc80-\udcff]/;

/** The bytes of a byte string (latin1), or of a wider string as UTF-8. */
export function toBytes(s: string): Buffer {
  return Buffer.from(s, WIDE.test(s) ? 'utf8' : 'latin1');
}

/**
 * A Unicode string as the byte string of its UTF-8 encoding (ASCII is returned as is), with a lone
 * U+DC80..U+DCFF turned back into the single byte it stands for.
 */
export function utf8ByteString(s: string): string {
  if (!NON_ASCII.test(s)) return s;
  if (!ESCAPED_BYTE.test(s)) return Buffer.from(s, 'utf8').toString('latin1');
  let out = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc80 || c > 0xdcff) continue;
    const prev = i > 0 ? s.charCodeAt(i - 1) : 0;
    if (prev >= 0xd800 && prev <= 0xdbff) continue; // the low half of a real surrogate pair
    out += Buffer.from(s.slice(start, i), 'utf8').toString('latin1') + String.fromCharCode(c - 0xdc00);
    start = i + 1;
  }
  return out + Buffer.from(s.slice(start), 'utf8').toString('latin1');
}
