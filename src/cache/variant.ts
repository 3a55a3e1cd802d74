// What the cache keeps: per primary key (scheme, and the Host and request-target sent upstream:
// handler/upstream-target.ts), the variants a Vary header asked to be kept apart (RFC 9111 §4.1),
// each a CachePolicy (http-cache-semantics: freshness, Age, revalidation) plus the body.
import type { IncomingHttpHeaders } from 'node:http';
import CachePolicy from 'http-cache-semantics';

export interface Variant {
  /** The request's values of the fields the response's Vary names, joined; '' without Vary. */
  readonly secondary: string;
  readonly vary: readonly string[];
  readonly status: number;
  policy: CachePolicy;
  /** Epoch ms after which the route's `cache:` duration forbids serving without revalidation. */
  cappedUntil: number;
  readonly body: Buffer;
}

export const POLICY_OPTIONS: CachePolicy.Options = { shared: true };

/** The request as http-cache-semantics sees it: no HTTP/2 pseudo-headers, `host` always set. */
export function policyRequest(url: string, method: string, host: string, headers: IncomingHttpHeaders): CachePolicy.Request {
  const out: CachePolicy.Headers = {};
  for (const name in headers) {
    if (name.charCodeAt(0) !== 58 /* ':' */) out[name] = headers[name];
  }
  out.host = host;
  return { url, method, headers: out };
}

/** Field names of a Vary value, lower-case; `*` never matches a later request (RFC 9111 §4.1). */
export function varyFields(vary: string | string[] | undefined): string[] {
  if (vary === undefined) return [];
  const text = Array.isArray(vary) ? vary.join(',') : vary;
  return text
    .split(',')
    .map((f) => f.trim().toLowerCase())
    .filter((f) => f !== '')
    .sort();
}

/**
 * The secondary key: the request's values for the Vary'd fields, normalised as RFC 9111 §4.1
 * allows (whitespace around commas, repeated fields combined). Undefined for `Vary: *`.
 */
export function secondaryKey(fields: readonly string[], headers: CachePolicy.Headers): string | undefined {
  if (fields.length === 0) return '';
  if (fields.includes('*')) return undefined;
  return fields
    .map((f) => {
      const v = headers[f];
      const text = v === undefined ? '' : Array.isArray(v) ? v.join(',') : v;
      return `${f}=${text.replace(/\s*,\s*/g, ',').trim()}`;
    })
    .join('\n');
}

/** The stored variant this request selects, if any. */
export function selectVariant(variants: readonly Variant[] | undefined, req: CachePolicy.Request): Variant | undefined {
  if (!variants) return undefined;
  for (const v of variants) {
    if (secondaryKey(v.vary, req.headers) === v.secondary) return v;
  }
  return undefined;
}

/** Replaces the variant with the same secondary key (or adds one), newest first, at most `max`. */
export function withVariant(variants: readonly Variant[] | undefined, next: Variant, max = 16): Variant[] {
  const rest = (variants ?? []).filter((v) => v.secondary !== next.secondary);
  return [next, ...rest].slice(0, max);
}

/** Bytes a variant costs in memory: the body plus its headers, roughly. */
export function variantSize(v: Variant): number {
  let size = v.body.length + 256 + v.secondary.length;
  const headers = v.policy.responseHeaders();
  for (const name in headers) size += name.length + String(headers[name]).length + 4;
  return size;
}
