// A client's own conditional GET answered from the cache (RFC 9110 §13): a browser that already
// has the stored response gets 304, as nginx's not_modified filter and Caddy's cache handler do.
import type { IncomingHttpHeaders } from 'node:http';
import type CachePolicy from 'http-cache-semantics';

/** Weak comparison (RFC 9110 §8.8.3.2): the opaque tags match, whether or not either is W/. */
function weakMatch(list: string, etag: string): boolean {
  const tag = etag.replace(/^W\//, '');
  return list.split(',').some((t) => {
    const candidate = t.trim();
    return candidate === '*' || candidate.replace(/^W\//, '') === tag;
  });
}

/**
 * True when the stored 200 need not be sent again. If-None-Match, when present, decides alone;
 * If-Modified-Since is read only without it (RFC 9110 §13.2.2 steps 3 and 4).
 */
export function notModified(req: IncomingHttpHeaders, res: CachePolicy.Headers): boolean {
  const inm = req['if-none-match'];
  const etag = res.etag;
  if (inm !== undefined) return typeof etag === 'string' && weakMatch(inm, etag);
  const ims = req['if-modified-since'];
  const lastModified = res['last-modified'];
  if (ims === undefined || typeof lastModified !== 'string') return false;
  const since = Date.parse(ims);
  const modified = Date.parse(lastModified);
  return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since;
}
