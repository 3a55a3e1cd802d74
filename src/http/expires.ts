// nginx's `expires` (ngx_http_headers_filter, ngx_http_set_expires): an Expires date and the
// Cache-Control that matches it, replacing whatever the response had. Applied only to the
// statuses add_header without `always` applies to (add-headers.ts SAFE_STATUSES).
import type { ResponseHeaders } from './exchange.js';

/** `epoch`, `max`, a time from the request (`access`) or from the response's Last-Modified (`modified`). */
export type ExpiresConfig = { kind: 'epoch' } | { kind: 'max' } | { kind: 'access'; seconds: number } | { kind: 'modified'; seconds: number };

/** The same fixed values nginx sends for `epoch` and `max` (max is ten years, whatever the date). */
const EPOCH = { expires: 'Thu, 01 Jan 1970 00:00:01 GMT', cacheControl: 'no-cache' };
const MAX = { expires: 'Thu, 31 Dec 2037 23:55:55 GMT', cacheControl: 'max-age=315360000' };

function httpDate(sec: number): string {
  return new Date(sec * 1000).toUTCString();
}

/**
 * The Expires and Cache-Control values for a response sent at `nowMs` whose Last-Modified is
 * `lastModified` (`modified` counts from it; without one, from now, as nginx does).
 */
export function expiresValues(cfg: ExpiresConfig, nowMs: number, lastModified: string | undefined): { expires: string; cacheControl: string } {
  if (cfg.kind === 'epoch') return EPOCH;
  if (cfg.kind === 'max') return MAX;
  const now = Math.floor(nowMs / 1000);
  if (cfg.seconds === 0) return { expires: httpDate(now), cacheControl: 'max-age=0' };
  const lm = cfg.kind === 'modified' && lastModified !== undefined ? Date.parse(lastModified) : NaN;
  let at: number;
  let maxAge: number;
  if (Number.isNaN(lm)) {
    at = now + cfg.seconds;
    maxAge = cfg.seconds;
  } else {
    at = Math.floor(lm / 1000) + cfg.seconds;
    maxAge = at - now;
  }
  // A negative time, or a `modified` date already past: the response must not be reused unchecked.
  return { expires: httpDate(at), cacheControl: cfg.seconds < 0 || maxAge < 0 ? 'no-cache' : `max-age=${maxAge}` };
}

/** Sets Expires and replaces every Cache-Control of `headers` (lower-case names). */
export function applyExpires(headers: ResponseHeaders, cfg: ExpiresConfig, nowMs: number): void {
  const lm = headers['last-modified'];
  const v = expiresValues(cfg, nowMs, typeof lm === 'string' ? lm : undefined);
  headers.expires = v.expires;
  headers['cache-control'] = v.cacheControl;
}
