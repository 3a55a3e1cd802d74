// Which responses are worth compressing on the fly, decided from the response head alone.
import type { ResponseHeaders } from '../http/exchange.js';

/** README "Configuration reference": bodies under 1 KiB gain little and may grow (nginx's gzip_min_length is 20, Caddy's 512). */
export const MIN_LENGTH = 1024;

/**
 * Media types that are text underneath. mime-types does not expose mime-db's `compressible` flag,
 * so this is a short list in the spirit of Caddy's default `encode` matcher: images (but SVG),
 * audio, video, archives, fonts in WOFF/WOFF2 and gRPC are already compressed or framed.
 */
const COMPRESSIBLE = new Set([
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'application/json',
  'application/xml',
  'application/xhtml+xml',
  'application/wasm',
  'application/x-www-form-urlencoded',
  'application/vnd.ms-fontobject',
  'font/ttf',
  'font/otf',
  'image/svg+xml',
  'image/x-icon',
  'image/vnd.microsoft.icon',
  'image/bmp',
]);

export function isCompressibleType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (type.startsWith('text/')) return true;
  if (COMPRESSIBLE.has(type)) return true;
  // Structured syntax suffixes (RFC 6839): application/ld+json, application/atom+xml, ...
  return type.startsWith('application/') && (type.endsWith('+json') || type.endsWith('+xml'));
}

export function headerString(headers: ResponseHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/**
 * Whether a response of this status and head may be compressed, apart from what the client
 * accepts: the answer decides `Vary: Accept-Encoding` too. Never: bodiless statuses (RFC 9110
 * §6.4.1), partial content (the range applies to the identity bytes), `no-transform` (RFC 9111
 * §5.2.2.6), bodies already encoded (precompressed .br/.gz files, upstream compression), known
 * lengths under MIN_LENGTH. An unknown length (streamed) is compressed.
 */
export function mayCompress(status: number, headers: ResponseHeaders): boolean {
  if (status < 200 || status === 204 || status === 206 || status === 304) return false;
  // Cheapest first: most small responses stop here.
  const cl = headerString(headers, 'content-length');
  if (cl !== undefined && Number(cl) < MIN_LENGTH) return false;
  if (!isCompressibleType(headerString(headers, 'content-type'))) return false;
  const ce = headerString(headers, 'content-encoding');
  if (ce !== undefined && ce.trim().toLowerCase() !== 'identity') return false;
  if (headers['content-range'] !== undefined) return false;
  const cc = headerString(headers, 'cache-control');
  if (cc !== undefined && /(?:^|,)\s*no-transform\s*(?:,|$)/i.test(cc)) return false;
  return true;
}

/** Adds a token to Vary unless it (or `*`) is there already. */
export function addVary(headers: ResponseHeaders, token: string): void {
  const current = headerString(headers, 'vary');
  if (current === undefined || current.trim() === '') {
    headers.vary = token;
    return;
  }
  const tokens = current.split(',').map((t) => t.trim().toLowerCase());
  if (tokens.includes('*') || tokens.includes(token.toLowerCase())) return;
  headers.vary = `${current}, ${token}`;
}

/** nginx makes a strong ETag weak when it compresses: the bytes differ, the meaning does not (RFC 9110 §8.8.1). */
export function weakenEtag(headers: ResponseHeaders): void {
  const etag = headerString(headers, 'etag');
  if (etag !== undefined && etag.startsWith('"')) headers.etag = `W/${etag}`;
}
