// A site's `compressRules`: nginx's gzip filter (ngx_http_gzip_header_filter, ngx_http_gzip_ok) in
// place of gatehouse's own choice of what to compress. Written by the nginx adapter from gzip_types,
// gzip_min_length, gzip_vary and gzip_proxied.
import type { Exchange, ResponseHeaders } from '../http/exchange.js';
import type { CompressRules } from '../config/types.js';
import { headerString } from './compress-policy.js';

/**
 * Whether the response is one nginx's gzip filter takes up (then `Vary` is due with gzip_vary):
 * status 200, 403 or 404, not HEAD, not encoded already, its type in gzip_types (text/html always),
 * and a Content-Length, when there is one, of at least gzip_min_length.
 */
export function gzipEligible(rules: CompressRules, status: number, headers: ResponseHeaders, ex: Exchange, body: string | Buffer | undefined): boolean {
  if (status !== 200 && status !== 403 && status !== 404) return false;
  if (ex.method === 'HEAD') return false;
  const ce = headerString(headers, 'content-encoding');
  if (ce !== undefined && ce !== '') return false;
  const cl = headerString(headers, 'content-length');
  const length = body !== undefined ? Buffer.byteLength(body) : cl !== undefined ? Number(cl) : undefined;
  if (length !== undefined && length < rules.minLength) return false;
  const type = headerString(headers, 'content-type')?.split(';', 1)[0]!.trim().toLowerCase();
  if (type === undefined || type === '') return false;
  return type === 'text/html' || rules.types.has('*') || rules.types.has(type);
}

/**
 * ngx_http_gzip_ok, apart from Accept-Encoding: gzip_http_version 1.1 (an HTTP/1.0 request is
 * answered as it is), and a request that came through a proxy (`Via`) only with gzip_proxied any.
 */
export function gzipRequestOk(rules: CompressRules, ex: Exchange): boolean {
  if (ex.protocol === 'HTTP/1.0') return false;
  return ex.headers.via === undefined || rules.proxied;
}
