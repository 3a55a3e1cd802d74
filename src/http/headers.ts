// Reading request header fields as one value.
import type { Exchange } from './exchange.js';

/** A field's value; repeated fields joined as RFC 9110 §5.3 allows (cookies with "; ", RFC 6265 §5.4). */
export function headerValue(ex: Exchange, name: string): string | undefined {
  const v = ex.headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(name === 'cookie' ? '; ' : ', ') : v;
}
