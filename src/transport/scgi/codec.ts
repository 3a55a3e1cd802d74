// The SCGI request header (SCGI protocol spec, N. Schemenauer, "Request Format"): the headers as
// one netstring, `<length>:<name>\0<value>\0...,` then the body. The spec requires the first
// header to be CONTENT_LENGTH (decimal, present even when 0), a header SCGI with value 1, and no
// duplicate names; nginx's scgi module writes CONTENT_LENGTH itself, first, the same way.
// The response is not framed by the protocol: see http-response-head.ts (status line or CGI head).
import { toBytes } from '../cgi/bytes.js';
import { CgiProtocolError } from '../cgi/errors.js';

const NUL = Buffer.from([0]);

/**
 * The netstring that precedes the body. CONTENT_LENGTH (from `contentLength`) and SCGI=1 are
 * written here, first; entries with those names in `vars` are skipped.
 * Strings are byte strings (bytes.ts). Throws CgiProtocolError ESCGIVARS for what the format
 * cannot carry: a NUL byte in a name or value, an empty name, a duplicate name.
 */
export function encodeScgiRequest(vars: Iterable<readonly [string, string]>, contentLength: number): Buffer {
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) {
    throw new RangeError(`SCGI CONTENT_LENGTH must be a non-negative integer, got ${contentLength}`);
  }
  // "\0" then "1" are kept apart: "\01" would read as an octal escape.
  const parts: Buffer[] = [Buffer.from('CONTENT_LENGTH\0' + String(contentLength) + '\0SCGI\0' + '1\0', 'latin1')];
  const seen = new Set<string>(['CONTENT_LENGTH', 'SCGI']);
  for (const [name, value] of vars) {
    if (name === 'CONTENT_LENGTH' || name === 'SCGI') continue;
    if (name === '' || name.includes('\0') || value.includes('\0')) {
      throw new CgiProtocolError('ESCGIVARS', `SCGI header ${JSON.stringify(name)} is empty or holds a NUL byte`);
    }
    if (seen.has(name)) throw new CgiProtocolError('ESCGIVARS', `SCGI header ${name} appears twice`);
    seen.add(name);
    parts.push(toBytes(name), NUL, toBytes(value), NUL);
  }
  const headers = Buffer.concat(parts);
  return Buffer.concat([Buffer.from(`${headers.length}:`, 'latin1'), headers, Buffer.from(',', 'latin1')]);
}
