// Bytes <-> string for request paths. nginx works on raw bytes; we keep paths as JS strings so
// that regexes, fs calls and templates see text, without losing a byte on the way back out:
//
// - Percent-decoded bytes are read as UTF-8. A byte that is not part of a valid UTF-8 sequence
//   becomes the lone surrogate U+DC00+byte (Python's "surrogateescape", PEP 383), so `%FF` stays
//   `%FF` when the path is escaped again for an upstream, exactly as nginx would send it.
// - Node hands the request target over as a latin1 string (one char per wire byte, for HTTP/1 and
//   HTTP/2 alike), so chars U+0080..U+00FF in a raw target are taken as bytes, not as text.

const HEX: string[] = Array.from({ length: 256 }, (_, b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`);

function asciiTable(chars: string, extra: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) if (extra(c)) t[c] = 1;
  for (const ch of chars) t[ch.charCodeAt(0)] = 1;
  return t;
}

const isControlOrSpace = (c: number): boolean => c <= 0x20 || c === 0x7f;

/**
 * ngx_escape_uri(NGX_ESCAPE_URI) as of nginx 1.21.1, which escapes every char RFC 3986 §2 does not
 * allow in a URI (%00-%20, %7F-%FF and `"<>\^`{|}`) plus `#`, `%` and `?`, which would change the
 * meaning of a path. Non-ASCII is always escaped, whatever the table.
 */
export const ESCAPE_URI = asciiTable('"#%<>?\\^`{|}', isControlOrSpace);
/** Only what cannot be put on a request line at all: controls, space, DEL and non-ASCII. */
export const ESCAPE_WIRE = asciiTable('', isControlOrSpace);
/** Non-ASCII only (for paths nginx would copy byte for byte). */
export const ESCAPE_NON_ASCII = new Uint8Array(128);

const FATAL_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Percent-decodes `s.slice(0, end)` into bytes. Returns undefined for a malformed escape (`%`, `%4`,
 * `%zz`) or a decoded NUL, both of which ngx_http_parse_complex_uri answers with 400.
 */
export function percentDecode(s: string, end: number): Uint8Array | undefined {
  // Worst case is a char above U+07FF: 3 bytes per UTF-16 unit.
  const out = new Uint8Array(end * 3);
  let n = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexValue(i + 1 < end ? s.charCodeAt(i + 1) : -1);
      const lo = hexValue(i + 2 < end ? s.charCodeAt(i + 2) : -1);
      if (hi < 0 || lo < 0) return undefined;
      const b = (hi << 4) | lo;
      if (b === 0) return undefined;
      out[n++] = b;
      i += 2;
    } else if (c <= 0xff) {
      out[n++] = c;
    } else {
      // Not from the wire (Node gives latin1): someone handed us text, so store its UTF-8 form.
      const cp = s.codePointAt(i) as number;
      if (cp > 0xffff) i++;
      n = writeUtf8(out, n, cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
    }
  }
  return out.subarray(0, n);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

function writeUtf8(out: Uint8Array, n: number, cp: number): number {
  if (cp < 0x80) {
    out[n++] = cp;
  } else if (cp < 0x800) {
    out[n++] = 0xc0 | (cp >> 6);
    out[n++] = 0x80 | (cp & 0x3f);
  } else if (cp < 0x10000) {
    out[n++] = 0xe0 | (cp >> 12);
    out[n++] = 0x80 | ((cp >> 6) & 0x3f);
    out[n++] = 0x80 | (cp & 0x3f);
  } else {
    out[n++] = 0xf0 | (cp >> 18);
    out[n++] = 0x80 | ((cp >> 12) & 0x3f);
    out[n++] = 0x80 | ((cp >> 6) & 0x3f);
    out[n++] = 0x80 | (cp & 0x3f);
  }
  return n;
}

/** UTF-8 to string; bytes outside a valid sequence become U+DC80..U+DCFF (see the file comment). */
export function decodeUtf8Escaped(bytes: Uint8Array): string {
  try {
    return FATAL_UTF8.decode(bytes);
  } catch {
    return decodeSlow(bytes);
  }
}

// Well-formed sequences per Unicode 15 Table 3-7 (no overlongs, no surrogates, max U+10FFFF).
function decodeSlow(b: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    let need = 0;
    let cp = 0;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      cp = c & 0x0f;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      cp = c & 0x07;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    }
    let j = 1;
    for (; j <= need; j++) {
      const d = b[i + j];
      if (d === undefined || d < lo || d > hi) break;
      cp = (cp << 6) | (d & 0x3f);
      lo = 0x80;
      hi = 0xbf;
    }
    if (need === 0 || j <= need) {
      out += String.fromCharCode(0xdc00 + c);
      i++;
    } else {
      out += String.fromCodePoint(cp);
      i += need + 1;
    }
  }
  return out;
}

/**
 * Percent-encodes the chars `table` marks, and every non-ASCII char as its UTF-8 bytes (a lone
 * U+DC80..U+DCFF as the single byte it stands for). Uppercase hex, as ngx_escape_uri writes.
 */
export function escapeUriPath(s: string, table: Uint8Array = ESCAPE_URI): string {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80 || table[c] === 1) break;
  }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  const buf = new Uint8Array(4);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      out += table[c] === 1 ? HEX[c] : s[i];
      continue;
    }
    if (c >= 0xdc80 && c <= 0xdcff) {
      out += HEX[c - 0xdc00];
      continue;
    }
    let cp = s.codePointAt(i) as number;
    if (cp > 0xffff) i++;
    else if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    const n = writeUtf8(buf, 0, cp);
    for (let k = 0; k < n; k++) out += HEX[buf[k] as number];
  }
  return out;
}
