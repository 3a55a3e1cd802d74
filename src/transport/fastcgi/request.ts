// The bytes that open a FastCGI request (FastCGI 1.0 §5.1-5.3): BEGIN_REQUEST, the params of
// nginx's fastcgi.conf as PARAMS records and their empty end record, and the empty STDIN record
// right away when there is no body. Also the names of END_REQUEST refusals, for error messages.
import { encodeBeginRequest, encodeParams, encodeStdinEnd, FcgiProtocolStatus, FcgiRole } from './codec.js';
import { fastcgiParams, withContentLength } from '../cgi/params.js';
import type { CgiUpstreamOptions } from '../cgi/options.js';
import { UpstreamError } from '../types.js';

/** php-fpm does not multiplex (FCGI_MPXS_CONNS=0): one request per connection, always id 1. */
export const REQUEST_ID = 1;

/**
 * nginx builds all params into one record and refuses more than 65535 bytes of them ("fastcgi
 * request record is too big"); php-fpm would reset the connection on a pair split across records.
 */
export const FASTCGI_MAX_PARAMS_BYTES = 0xffff;

/**
 * `contentLength` is $content_length: the declared length, the buffered length of a chunked body,
 * undefined ('') when the request has no body. Throws EPROTO when the params are over the limit.
 */
export function encodeRequestHead(
  opts: CgiUpstreamOptions,
  bodyLength: number,
  contentLength: number | undefined,
  keepConn: boolean,
): Buffer {
  const params = fastcgiParams(
    withContentLength(opts.info, contentLength),
    {
      root: opts.root ?? '',
      ...(opts.scriptFilename !== undefined ? { scriptFilename: opts.scriptFilename } : {}),
      ...(opts.index !== undefined ? { index: opts.index } : {}),
      ...(opts.splitPathInfo ? { splitPathInfo: opts.splitPathInfo } : {}),
      ...(opts.params !== undefined ? { params: opts.params } : {}),
      version: opts.version,
    },
  );
  const records = encodeParams(REQUEST_ID, params);
  let size = 0;
  for (const r of records) size += r.readUInt16BE(4);
  if (size > FASTCGI_MAX_PARAMS_BYTES) {
    throw new UpstreamError(
      'EPROTO',
      `FastCGI params are ${size} bytes, over the ${FASTCGI_MAX_PARAMS_BYTES}-byte limit (nginx: "fastcgi request record is too big"); the request headers are too large`,
    );
  }
  const parts = [encodeBeginRequest(REQUEST_ID, FcgiRole.RESPONDER, keepConn), ...records];
  if (bodyLength === 0) parts.push(encodeStdinEnd(REQUEST_ID));
  return Buffer.concat(parts);
}

/** Byte of FCGI_BEGIN_REQUEST's flags in the head (8-byte record header, then role u16): §5.1. */
const BEGIN_FLAGS_OFFSET = 8 + 2;

/**
 * Sets or clears FCGI_KEEP_CONN in a head from encodeRequestHead(). Whether a connection is kept
 * is only known once the call has a connection (a kept one, or a fresh one under overload), after
 * the head was built.
 */
export function setKeepConn(head: Buffer, keepConn: boolean): void {
  head[BEGIN_FLAGS_OFFSET] = keepConn ? 1 : 0;
}

const STATUS_NAMES: Record<number, string> = {
  [FcgiProtocolStatus.CANT_MPX_CONN]: 'FCGI_CANT_MPX_CONN',
  [FcgiProtocolStatus.OVERLOADED]: 'FCGI_OVERLOADED',
  [FcgiProtocolStatus.UNKNOWN_ROLE]: 'FCGI_UNKNOWN_ROLE',
};

/** An END_REQUEST whose protocolStatus is not REQUEST_COMPLETE (§5.5), as an EPROTO error. */
export function refusal(protocolStatus: number): UpstreamError {
  const name = STATUS_NAMES[protocolStatus] ?? String(protocolStatus);
  return new UpstreamError('EPROTO', `FastCGI application refused the request: protocolStatus ${name}`);
}

/** The text of an FCGI_STDERR record for the log: one entry per record, as nginx logs it. */
export function stderrText(content: Buffer): string {
  const max = 8192;
  const text = content.toString('utf8', 0, Math.min(content.length, max)).trim();
  return content.length > max ? `${text}...` : text;
}
