// FastCGI 1.0 records (FastCGI Specification, Open Market 1996): what the web server writes, and
// the bodies of the records it reads. Pure functions over Buffers; the record parser for the
// read side is in record-parser.ts.
import { WIDE } from '../cgi/bytes.js';
import { CgiProtocolError } from '../cgi/errors.js';
import { decodeNameValuePairs, encodeNameValuePair, encodeNameValuePairs, lengthSize, writeLength, type NameValuePairs } from './name-value.js';
export { encodeNameValuePair, encodeNameValuePairs, decodeNameValuePairs, type NameValuePairs } from './name-value.js';

// §8 "Types and constants".
export const FCGI_VERSION_1 = 1;
export const FCGI_HEADER_LEN = 8;
export const FCGI_NULL_REQUEST_ID = 0;
/** contentLength is a u16 (§3.3). */
export const FCGI_MAX_CONTENT_LEN = 0xffff;
/**
 * Where stream data (PARAMS, STDIN, ...) is cut into records: the largest multiple of 8 under
 * 65535, so a full record needs no padding. §3.3 only recommends 8-byte alignment, but php-fpm
 * drops the request when contentLength + paddingLength exceeds 65535 (main/fastcgi.c,
 * fcgi_read_request: `len + padding > FCGI_MAX_LENGTH`), which a 65535-byte record padded to 8
 * (65536) would do.
 */
export const FCGI_MAX_STREAM_CHUNK = 0xfff8;

export const FcgiType = {
  BEGIN_REQUEST: 1,
  ABORT_REQUEST: 2,
  END_REQUEST: 3,
  PARAMS: 4,
  STDIN: 5,
  STDOUT: 6,
  STDERR: 7,
  DATA: 8,
  GET_VALUES: 9,
  GET_VALUES_RESULT: 10,
  UNKNOWN_TYPE: 11,
} as const;
export type FcgiRecordType = (typeof FcgiType)[keyof typeof FcgiType];
export const FCGI_MAXTYPE = FcgiType.UNKNOWN_TYPE;

/** FCGI_BeginRequestBody.flags (§5.1): keep the connection open after the request. */
export const FCGI_KEEP_CONN = 1;

export const FcgiRole = { RESPONDER: 1, AUTHORIZER: 2, FILTER: 3 } as const;
export type FcgiRoleValue = (typeof FcgiRole)[keyof typeof FcgiRole];

/** FCGI_EndRequestBody.protocolStatus (§5.5). */
export const FcgiProtocolStatus = {
  REQUEST_COMPLETE: 0,
  CANT_MPX_CONN: 1,
  OVERLOADED: 2,
  UNKNOWN_ROLE: 3,
} as const;

/** Variable names for FCGI_GET_VALUES / FCGI_GET_VALUES_RESULT (§4.1). */
export const FCGI_MAX_CONNS = 'FCGI_MAX_CONNS';
export const FCGI_MAX_REQS = 'FCGI_MAX_REQS';
export const FCGI_MPXS_CONNS = 'FCGI_MPXS_CONNS';


const ZEROS = Buffer.alloc(8);

function checkRequestId(requestId: number): void {
  if (!Number.isInteger(requestId) || requestId < 0 || requestId > 0xffff) {
    throw new RangeError(`FastCGI requestId must be 0..65535, got ${requestId}`);
  }
}

/**
 * Padding that brings content to a multiple of 8 (§3.3: "We recommend that records be placed on
 * boundaries that are multiples of eight bytes").
 */
export function paddingFor(contentLength: number): number {
  return (8 - (contentLength & 7)) & 7;
}

/** FCGI_Header (§3.3): version, type, requestId (u16 BE), contentLength (u16 BE), paddingLength, reserved. */
export function encodeHeader(type: number, requestId: number, contentLength: number, paddingLength: number): Buffer {
  checkRequestId(requestId);
  const h = Buffer.allocUnsafe(FCGI_HEADER_LEN);
  h[0] = FCGI_VERSION_1;
  h[1] = type;
  h.writeUInt16BE(requestId, 2);
  h.writeUInt16BE(contentLength, 4);
  h[6] = paddingLength;
  h[7] = 0;
  return h;
}

/** One whole record, padded to 8 bytes. Content is at most 65535 bytes. */
export function encodeRecord(type: number, requestId: number, content: Buffer = ZEROS.subarray(0, 0)): Buffer {
  if (content.length > FCGI_MAX_CONTENT_LEN) {
    throw new RangeError(`FastCGI record content is ${content.length} bytes, over 65535`);
  }
  const padding = paddingFor(content.length);
  return Buffer.concat([encodeHeader(type, requestId, content.length, padding), content, ZEROS.subarray(0, padding)]);
}

/** FCGI_BEGIN_REQUEST (§5.1): role (u16 BE), flags, 5 reserved bytes. */
export function encodeBeginRequest(requestId: number, role: FcgiRoleValue, keepConn: boolean): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16BE(role, 0);
  body[2] = keepConn ? FCGI_KEEP_CONN : 0;
  return encodeRecord(FcgiType.BEGIN_REQUEST, requestId, body);
}

/** FCGI_ABORT_REQUEST (§5.4): an empty record on the request's id. */
export function encodeAbortRequest(requestId: number): Buffer {
  return encodeRecord(FcgiType.ABORT_REQUEST, requestId);
}

/** FCGI_END_REQUEST (§5.5), as an application sends it: for fake servers in tests. */
export function encodeEndRequest(requestId: number, appStatus: number, protocolStatus: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt32BE(appStatus >>> 0, 0);
  body[4] = protocolStatus;
  return encodeRecord(FcgiType.END_REQUEST, requestId, body);
}

export interface EndRequest {
  appStatus: number;
  protocolStatus: number;
}

export function decodeEndRequest(content: Buffer): EndRequest {
  if (content.length < 8) {
    throw new CgiProtocolError('EFCGIPROTO', `FastCGI END_REQUEST body is ${content.length} bytes, expected 8`);
  }
  return { appStatus: content.readUInt32BE(0), protocolStatus: content[4]! };
}

/** FCGI_UNKNOWN_TYPE body (§4.2): the type the application did not understand. */
export function decodeUnknownType(content: Buffer): number {
  if (content.length < 1) {
    throw new CgiProtocolError('EFCGIPROTO', 'FastCGI UNKNOWN_TYPE body is empty');
  }
  return content[0]!;
}

/**
 * A stream record carrying `size` bytes made of `parts`, padded to 8, as one Buffer.
 */
function streamRecord(type: number, requestId: number, parts: Buffer[], size: number): Buffer {
  const padding = paddingFor(size);
  return Buffer.concat([encodeHeader(type, requestId, size, padding), ...parts, ZEROS.subarray(0, padding)]);
}

/**
 * FCGI_PARAMS (§5.2): the pairs as a stream of records, then the empty record that ends it.
 * Pairs are packed whole into records of up to FCGI_MAX_STREAM_CHUNK bytes. A pair larger than
 * that straddles records: §3.3 defines a stream as the concatenation of its records' content, so
 * that is valid FastCGI, and Go's net/http/fcgi or flup reassemble it; php-fpm parses each record
 * on its own and refuses it, as nginx refuses to send more than 65535 bytes of params at all
 * ("fastcgi request record is too big"). Order is kept.
 */
export function encodeParams(requestId: number, params: NameValuePairs): Buffer[] {
  const list = Array.isArray(params) ? (params as ReadonlyArray<readonly [string, string]>) : [...params];
  return encodeParamsOneRecord(requestId, list) ?? encodeParamsChunked(requestId, list);
}

/**
 * The common case, on the per-request hot path: every pair fits one record. One allocation holds
 * the record and the empty one after it; the same bytes as encodeParamsChunked() would write.
 */
function encodeParamsOneRecord(requestId: number, list: ReadonlyArray<readonly [string, string]>): Buffer[] | undefined {
  const n = list.length;
  const utf8 = new Array<boolean>(n * 2);
  const lengths = new Array<number>(n * 2);
  let size = 0;
  for (let i = 0; i < n; i++) {
    const [name, value] = list[i]!;
    const nameWide = WIDE.test(name);
    const valueWide = WIDE.test(value);
    const nl = nameWide ? Buffer.byteLength(name, 'utf8') : name.length;
    const vl = valueWide ? Buffer.byteLength(value, 'utf8') : value.length;
    utf8[2 * i] = nameWide;
    utf8[2 * i + 1] = valueWide;
    lengths[2 * i] = nl;
    lengths[2 * i + 1] = vl;
    size += lengthSize(nl) + lengthSize(vl) + nl + vl;
    if (size > FCGI_MAX_STREAM_CHUNK) return undefined;
  }
  if (size === 0) return [encodeHeader(FcgiType.PARAMS, requestId, 0, 0)];
  const padding = paddingFor(size);
  const recordEnd = FCGI_HEADER_LEN + size + padding;
  const out = Buffer.allocUnsafe(recordEnd + FCGI_HEADER_LEN);
  writeHeaderAt(out, 0, FcgiType.PARAMS, requestId, size, padding);
  let off = FCGI_HEADER_LEN;
  for (let i = 0; i < n; i++) {
    const [name, value] = list[i]!;
    off = writeLength(out, off, lengths[2 * i]!);
    off = writeLength(out, off, lengths[2 * i + 1]!);
    off += out.write(name, off, utf8[2 * i] ? 'utf8' : 'latin1');
    off += out.write(value, off, utf8[2 * i + 1] ? 'utf8' : 'latin1');
  }
  out.fill(0, off, recordEnd);
  writeHeaderAt(out, recordEnd, FcgiType.PARAMS, requestId, 0, 0);
  return [out.subarray(0, recordEnd), out.subarray(recordEnd)];
}

function writeHeaderAt(buf: Buffer, at: number, type: number, requestId: number, contentLength: number, paddingLength: number): void {
  checkRequestId(requestId);
  buf[at] = FCGI_VERSION_1;
  buf[at + 1] = type;
  buf.writeUInt16BE(requestId, at + 2);
  buf.writeUInt16BE(contentLength, at + 4);
  buf[at + 6] = paddingLength;
  buf[at + 7] = 0;
}

/** The general case: pairs packed into as many records as they need (see encodeParams). */
function encodeParamsChunked(requestId: number, params: NameValuePairs): Buffer[] {
  const records: Buffer[] = [];
  let parts: Buffer[] = [];
  let size = 0;
  const flush = (): void => {
    if (size === 0) return;
    records.push(streamRecord(FcgiType.PARAMS, requestId, parts, size));
    parts = [];
    size = 0;
  };
  for (const [name, value] of params) {
    const pair = encodeNameValuePair(name, value);
    if (size + pair.length <= FCGI_MAX_STREAM_CHUNK) {
      parts.push(pair);
      size += pair.length;
      continue;
    }
    flush();
    let off = 0;
    while (pair.length - off > FCGI_MAX_STREAM_CHUNK) {
      const piece = pair.subarray(off, off + FCGI_MAX_STREAM_CHUNK);
      records.push(streamRecord(FcgiType.PARAMS, requestId, [piece], piece.length));
      off += FCGI_MAX_STREAM_CHUNK;
    }
    parts.push(pair.subarray(off));
    size = pair.length - off;
  }
  flush();
  records.push(encodeHeader(FcgiType.PARAMS, requestId, 0, 0));
  return records;
}

/**
 * Stream data (§3.3) as records of up to FCGI_MAX_STREAM_CHUNK bytes. Returns the pieces to write
 * in order: per record its header, the data (a slice of `data`, not copied) and its padding when
 * any. Empty data gives no pieces: an empty record would end the stream (use encodeStreamEnd).
 */
export function encodeStream(type: number, requestId: number, data: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let off = 0; off < data.length; off += FCGI_MAX_STREAM_CHUNK) {
    const slice = data.subarray(off, off + FCGI_MAX_STREAM_CHUNK);
    const padding = paddingFor(slice.length);
    pieces.push(encodeHeader(type, requestId, slice.length, padding), slice);
    if (padding) pieces.push(ZEROS.subarray(0, padding));
  }
  return pieces;
}

/** The empty record that ends a stream (§3.3). */
export function encodeStreamEnd(type: number, requestId: number): Buffer {
  return encodeHeader(type, requestId, 0, 0);
}

/** FCGI_STDIN (§5.3): one chunk of the request body. */
export function encodeStdin(requestId: number, chunk: Buffer): Buffer[] {
  return encodeStream(FcgiType.STDIN, requestId, chunk);
}

/** The empty FCGI_STDIN record: the body is complete (sent even when there is no body). */
export function encodeStdinEnd(requestId: number): Buffer {
  return encodeStreamEnd(FcgiType.STDIN, requestId);
}

/** FCGI_GET_VALUES (§4.1): a management record (request id 0) naming variables, values empty. */
export function encodeGetValues(names: Iterable<string>): Buffer {
  const pairs: Array<[string, string]> = [];
  for (const name of names) pairs.push([name, '']);
  return encodeRecord(FcgiType.GET_VALUES, FCGI_NULL_REQUEST_ID, encodeNameValuePairs(pairs));
}

/** FCGI_GET_VALUES_RESULT (§4.1), as an application sends it: for fake servers in tests. */
export function encodeGetValuesResult(values: NameValuePairs): Buffer {
  return encodeRecord(FcgiType.GET_VALUES_RESULT, FCGI_NULL_REQUEST_ID, encodeNameValuePairs(values));
}

export function decodeGetValuesResult(content: Buffer): Map<string, string> {
  return new Map(decodeNameValuePairs(content));
}
