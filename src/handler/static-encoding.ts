// Which precompressed file beside a static file to send (nginx gzip_static / brotli_static,
// Caddy's file_server `precompressed`), from the request's Accept-Encoding (RFC 9110 §12.5.3).

export type StaticEncoding = 'br' | 'gzip';

/** File suffix of each encoding, in our order of preference (smaller first). */
export const PRECOMPRESSED: ReadonlyArray<readonly [StaticEncoding, string]> = [
  ['br', '.br'],
  ['gzip', '.gz'],
];

/** q-values of the codings a client listed; `*` covers the ones it did not name. */
function qValues(header: string): Map<string, number> {
  const q = new Map<string, number>();
  for (const item of header.split(',')) {
    const [name, ...params] = item.split(';');
    const coding = name?.trim().toLowerCase();
    if (!coding) continue;
    let weight = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) weight = Math.min(1, Math.max(0, Number(m[1]) || 0));
    }
    // §8.4.1.3: x-gzip is gzip.
    q.set(coding === 'x-gzip' ? 'gzip' : coding, weight);
  }
  return q;
}

/**
 * The highest-q coding among `available` that the client accepts (q=0 refuses it, §12.4.2), br
 * on a tie; undefined means identity. No Accept-Encoding means "anything" in RFC terms, but
 * like nginx and Caddy we send encoded bytes only to clients that asked for them.
 */
export function chooseEncoding(header: string | string[] | undefined, available: ReadonlySet<StaticEncoding>): StaticEncoding | undefined {
  if (header === undefined || available.size === 0) return undefined;
  const q = qValues(Array.isArray(header) ? header.join(',') : header);
  const star = q.get('*') ?? 0;
  let best: StaticEncoding | undefined;
  let bestQ = 0;
  for (const [coding] of PRECOMPRESSED) {
    if (!available.has(coding)) continue;
    const weight = q.get(coding) ?? star;
    if (weight > bestQ) {
      best = coding;
      bestQ = weight;
    }
  }
  // A client that prefers identity outright (`br;q=0.1, identity`) gets it.
  const identity = q.get('identity');
  return identity !== undefined && identity > bestQ ? undefined : best;
}
