// Conditional requests on a file (RFC 9110 §13): the preconditions in the order of §13.2.2, and
// If-Range (§13.1.5).
import type { IncomingHttpHeaders } from 'node:http';

export interface Validators {
  /** Strong entity tag, quoted: `"5f3a1c00-400"`. */
  etag: string;
  /** Modification time in whole seconds (HTTP dates have no finer grain). */
  mtimeSec: number;
}

export type Precondition = 'ok' | 304 | 412;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Entity tags of an If-Match / If-None-Match list; `*` stays `*`. Commas never occur inside a tag. */
function tagList(value: string): string[] {
  return value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

/** §8.8.3.2: strong comparison never matches a weak tag; weak comparison ignores `W/`. */
function matches(list: string[], etag: string, weak: boolean): boolean {
  for (const tag of list) {
    if (tag === '*' || tag === etag) return true;
    if (weak && tag.startsWith('W/') && tag.slice(2) === etag) return true;
  }
  return false;
}

function dateSec(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/**
 * RFC 9110 §13.2.2: If-Match, else If-Unmodified-Since (412 when it fails); then If-None-Match,
 * else If-Modified-Since (GET/HEAD only), which give 304 for GET/HEAD and 412 for other methods.
 * An invalid date makes its header ignored (§13.1.3, §13.1.4).
 */
export function evaluatePreconditions(method: string, headers: IncomingHttpHeaders, v: Validators): Precondition {
  const ifMatch = header(headers, 'if-match');
  if (ifMatch !== undefined) {
    if (!matches(tagList(ifMatch), v.etag, false)) return 412;
  } else {
    const since = dateSec(header(headers, 'if-unmodified-since'));
    if (since !== undefined && v.mtimeSec > since) return 412;
  }
  const safe = method === 'GET' || method === 'HEAD';
  const ifNoneMatch = header(headers, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    if (matches(tagList(ifNoneMatch), v.etag, true)) return safe ? 304 : 412;
  } else if (safe) {
    const since = dateSec(header(headers, 'if-modified-since'));
    if (since !== undefined && v.mtimeSec <= since) return 304;
  }
  return 'ok';
}

/**
 * §13.1.5 If-Range: the Range applies only when the validator still matches. An entity tag is
 * compared strongly; a date must equal Last-Modified exactly (a date is a weak validator unless
 * it is the exact one we sent). Anything else means "send the whole file".
 */
export function ifRangeHolds(headers: IncomingHttpHeaders, v: Validators): boolean {
  const value = header(headers, 'if-range')?.trim();
  if (value === undefined) return true;
  if (value.startsWith('"') || value.startsWith('W/')) return value === v.etag;
  return dateSec(value) === v.mtimeSec;
}
