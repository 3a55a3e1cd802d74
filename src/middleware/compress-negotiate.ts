// Content-coding negotiation (RFC 9110 §12.5.3): the client's Accept-Encoding q-values decide what
// is acceptable, the site's `compress` order breaks ties between equally preferred codings.
export type Coding = 'br' | 'gzip' | 'zstd';

/** Parses `gzip;q=0.8, br, *;q=0` into coding → q (names lower-case; a bad q counts as 0). */
export function parseAcceptEncoding(header: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of header.split(',')) {
    const [rawName, ...params] = part.split(';');
    const name = (rawName ?? '').trim().toLowerCase();
    if (name === '') continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=(.*)$/i.exec(p);
      if (m) q = m[1]!.trim() === '' ? NaN : Number(m[1]);
    }
    if (!Number.isFinite(q) || q < 0 || q > 1) q = 0;
    // A coding listed twice keeps its highest weight.
    out.set(name, Math.max(q, out.get(name) ?? 0));
  }
  return out;
}

/**
 * The coding to use, or undefined for identity. No Accept-Encoding header means the client takes
 * anything (§12.5.3), but sending a coding it never asked for breaks too many clients: like nginx
 * and Caddy, only codings the client names (or `*`) are used. `x-gzip` is gzip (§8.4.1.3).
 * `identity` weighs against the codings: when the client prefers identity, it gets identity.
 */
export function chooseCoding(header: string | string[] | undefined, offered: readonly Coding[]): Coding | undefined {
  if (header === undefined || offered.length === 0) return undefined;
  const accepted = parseAcceptEncoding(Array.isArray(header) ? header.join(',') : header);
  if (accepted.size === 0) return undefined;
  const star = accepted.get('*');
  const weight = (coding: Coding): number =>
    accepted.get(coding) ?? (coding === 'gzip' ? accepted.get('x-gzip') : undefined) ?? star ?? 0;
  let best: Coding | undefined;
  let bestQ = 0;
  for (const coding of offered) {
    const q = weight(coding);
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  if (best === undefined) return undefined;
  const identity = accepted.get('identity') ?? (star !== undefined && !accepted.has('identity') ? star : undefined);
  if (identity !== undefined && identity > bestQ) return undefined;
  return best;
}
