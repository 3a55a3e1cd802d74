// Byte strings. FastCGI, uwsgi and SCGI carry raw bytes, and Node hands us the request target and
// header values as latin1 ("binary") strings: one char per byte, exactly as the client sent them.
// Writing those as UTF-8 would double-encode every non-ASCII byte, so the codecs write strings as
// latin1. A string with a char above U+00FF cannot be a byte string; it is written as UTF-8, the
// only reading it can have. Text that is Unicode on purpose (a decoded path, a config value) goes
// through utf8ByteString() first, which gives the bytes nginx would send for it (nginx keeps $uri
// as the decoded bytes, i.e. UTF-8 for a UTF-8 percent-encoded path).

const WIDE = /[^\x00-\xff]/;
const NON_ASCII = /[^\x00-\x7f]/;

/** The bytes of a byte string (latin1), or of a wider string as UTF-8. */
export function toBytes(s: string): Buffer {
  return Buffer.from(s, WIDE.test(s) ? 'utf8' : 'latin1');
}

/** A Unicode string as the byte string of its UTF-8 encoding (ASCII is returned as is). */
export function utf8ByteString(s: string): string {
  return NON_ASCII.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}
