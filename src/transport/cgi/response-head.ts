// What the CGI-style response-head parsers share: the result shape, the head-size limit, a line
// splitter that accepts CRLF and bare LF, header-line validation, and RFC 3875 §6 status rules.
import { STATUS_CODES } from 'node:http';
import { CgiProtocolError } from './errors.js';

export interface ResponseHead {
  status: number;
  statusText: string;
  /**
   * In arrival order, names as sent (PHP sends `Content-type`), repeated names kept as separate
   * entries. `Status` is consumed, not included.
   */
  headers: Array<[string, string]>;
  /** Bytes that followed the empty line: the start of the body (possibly empty). */
  body: Buffer;
}

export interface HeadParserOptions {
  /** Bytes allowed up to and including the empty line that ends the head. Default 64 KiB. */
  maxHeadBytes?: number;
}

export const DEFAULT_MAX_HEAD_BYTES = 64 * 1024;

export function headError(message: string): CgiProtocolError {
  return new CgiProtocolError('ECGIHEAD', message);
}

/**
 * Splits bytes into lines up to the first empty line. Lines end with LF; one CR before it is
 * dropped (RFC 3875 §6.3 allows a bare NL as the response line end; RFC 9112 §2.2 lets a recipient
 * accept a bare LF). Lines are decoded as latin1 so every byte survives.
 */
export class HeadLineReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private headBytes = 0;

  constructor(private readonly maxHeadBytes: number) {}

  /** True when no partial line is buffered and no line was read yet. */
  get untouched(): boolean {
    return this.headBytes === 0 && this.pendingBytes === 0;
  }

  /**
   * Calls onLine for each complete non-empty line. Returns the bytes after the empty line once it
   * is found, or undefined while more bytes are needed.
   */
  push(chunk: Buffer, onLine: (line: string) => void): Buffer | undefined {
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(0x0a, start);
      if (lf === -1) {
        this.pending.push(chunk.subarray(start));
        this.pendingBytes += chunk.length - start;
        this.checkSize(this.headBytes + this.pendingBytes);
        return undefined;
      }
      const lineBytes = this.pendingBytes + (lf + 1 - start);
      this.checkSize(this.headBytes + lineBytes);
      this.headBytes += lineBytes;
      let line = this.pendingBytes
        ? Buffer.concat([...this.pending, chunk.subarray(start, lf)]).toString('latin1')
        : chunk.toString('latin1', start, lf);
      this.pending = [];
      this.pendingBytes = 0;
      start = lf + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') return chunk.subarray(start);
      onLine(line);
    }
    return undefined;
  }

  private checkSize(bytes: number): void {
    if (bytes > this.maxHeadBytes) throw headError(`upstream response head is over ${this.maxHeadBytes} bytes`);
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: HTAB, SP, VCHAR, obs-text (RFC 9110 §5.5). Rejecting the rest (CR, NUL, other
// controls) here means Node's writeHead never throws on what an upstream sent.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** `Name: value` (RFC 3875 §6.3, RFC 9112 §5): a token, a colon with no space before it, the value trimmed. */
export function parseHeaderLine(line: string): [string, string] {
  if (line[0] === ' ' || line[0] === '\t') throw headError('upstream sent a folded header line');
  const colon = line.indexOf(':');
  const name = colon > 0 ? line.slice(0, colon) : '';
  if (!TOKEN.test(name)) throw headError(`upstream sent an invalid header line: ${JSON.stringify(line.slice(0, 64))}`);
  const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
  if (!FIELD_VALUE.test(value)) throw headError(`upstream sent an invalid value for header ${name}`);
  return [name, value];
}

/** A status code and its text from "404 Not Found" / "404" (the value of a CGI Status header). */
export function parseStatusValue(value: string): { status: number; statusText: string } {
  const m = /^(\d{3})(?:[ \t]+(.*))?$/.exec(value);
  const status = m ? Number(m[1]) : NaN;
  if (!m || status < 100) throw headError(`upstream sent an invalid status ${JSON.stringify(value.slice(0, 64))}`);
  return { status, statusText: m[2] || (STATUS_CODES[status] ?? '') };
}

/**
 * The status of a CGI response (RFC 3875 §6.3.3, as nginx's fastcgi/scgi/uwsgi modules decide it,
 * ngx_http_fastcgi_process_header): the first `Status` header; else 302 when there is a `Location`;
 * else 200. A later duplicate `Status` is ignored as nginx ignores it ("upstream sent duplicate
 * header line"), and every `Status` line is removed, as ngx_http_fastcgi_hide_headers hides it.
 *
 * A `Location: /local/path` is a "local redirect" in RFC 3875 §6.2.2, which a CGI server would
 * follow internally. nginx does not: it answers 302 and passes the Location on exactly as sent,
 * still relative (ngx_http_upstream_rewrite_location deliberately keeps an upstream's relative
 * Location away from the header filter's absolute_redirect; seen with nginx 1.22.1: "HTTP/1.1 302
 * Moved Temporarily" + "Location: /local"). We do the same.
 */
export function cgiHead(headers: Array<[string, string]>, body: Buffer): ResponseHead {
  let status: { status: number; statusText: string } | undefined;
  let hasLocation = false;
  const kept: Array<[string, string]> = [];
  for (const h of headers) {
    const lower = h[0].toLowerCase();
    if (lower === 'status') {
      status ??= parseStatusValue(h[1]);
      continue;
    }
    if (lower === 'location') hasLocation = true;
    kept.push(h);
  }
  status ??= hasLocation ? { status: 302, statusText: 'Moved Temporarily' } : { status: 200, statusText: 'OK' };
  // Fields written out: `{ ...status, headers, body }` takes V8 11 (Node 20) a slow runtime path,
  // about 2 µs per response.
  return { status: status.status, statusText: status.statusText, headers: kept, body };
}

/** Lower-case names, repeated headers as arrays: the shape node:http takes for outgoing headers. */
export function headerRecord(headers: ReadonlyArray<readonly [string, string]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    const prev = out[key];
    if (prev === undefined) out[key] = key === 'set-cookie' ? [value] : value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[key] = [prev, value];
  }
  return out;
}
