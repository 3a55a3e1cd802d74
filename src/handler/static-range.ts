// The Range header of a GET on a file (RFC 9110 §14): which bytes to send, as a sorted list of
// non-overlapping ranges, or why not.
//
// Abuse: a request asking for thousands of small or overlapping ranges makes the server do far
// more work than the file is worth (the "Apache Killer", CVE-2011-3192). nginx answers with the
// whole file when the ranges add up to more than the file, and `max_ranges` (unlimited by
// default) caps their number. We coalesce overlapping and nearly adjacent ranges (RFC 9110 §14.6
// allows it), and, like nginx with `max_ranges`, ignore the header when it asks for more than
// MAX_RANGES ranges.

export interface ByteRange {
  start: number;
  /** Inclusive, as in Content-Range. */
  end: number;
}

/** `ignore`: send the whole file with 200 (no Range, bad syntax, or too many ranges). */
export type RangeResult = { kind: 'ignore' } | { kind: 'unsatisfiable' } | { kind: 'ranges'; ranges: ByteRange[] };

export const MAX_RANGES = 100;
/**
 * Ranges closer than this are sent as one: a multipart part header costs about this much, so a
 * smaller gap is cheaper to send than to skip (Apache merges only touching ranges; Go merges none).
 */
const COALESCE_GAP = 80;

const IGNORE: RangeResult = { kind: 'ignore' };
const SPEC = /^\s*(?:(\d{1,15})\s*-\s*(\d{0,15})|-\s*(\d{1,15}))\s*$/;

/**
 * RFC 9110 §14.1.2 `bytes=` ranges against a representation of `size` bytes. A header that is not
 * valid byte-range syntax is ignored (§14.2: a server MAY ignore it); a valid one none of whose
 * ranges overlaps the file is unsatisfiable (416).
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return IGNORE;
  const eq = header.indexOf('=');
  if (eq === -1 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return IGNORE;
  const specs = header.slice(eq + 1).split(',');
  if (specs.length > MAX_RANGES) return IGNORE;
  const ranges: ByteRange[] = [];
  let valid = 0;
  for (const spec of specs) {
    // RFC 9110 §5.6.1: empty list elements are allowed and do not count.
    if (spec.trim() === '') continue;
    const m = SPEC.exec(spec);
    if (!m) return IGNORE;
    valid++;
    if (m[3] !== undefined) {
      const suffix = Number(m[3]);
      if (suffix > 0 && size > 0) ranges.push({ start: Math.max(0, size - suffix), end: size - 1 });
      continue;
    }
    const first = Number(m[1]);
    const last = m[2] === '' ? Infinity : Number(m[2]);
    if (last < first) return IGNORE;
    if (first < size) ranges.push({ start: first, end: Math.min(last, size - 1) });
  }
  if (valid === 0) return IGNORE;
  if (ranges.length === 0) return { kind: 'unsatisfiable' };
  return { kind: 'ranges', ranges: coalesce(ranges) };
}

function coalesce(ranges: ByteRange[]): ByteRange[] {
  if (ranges.length === 1) return ranges;
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: ByteRange[] = [{ ...(sorted[0] as ByteRange) }];
  for (let i = 1; i < sorted.length; i++) {
    const r = sorted[i] as ByteRange;
    const last = out[out.length - 1] as ByteRange;
    if (r.start <= last.end + 1 + COALESCE_GAP) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}
