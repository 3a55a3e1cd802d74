// Request-target normalisation as nginx does it (ngx_http_parse_complex_uri, merge_slashes on):
// the result is what `$uri` holds, what locations are matched against and what files are looked up.
import { decodeUtf8Escaped, percentDecode } from './uri-bytes.js';

export interface NormalizedTarget {
  /** Decoded path: `%XX` decoded (`%2F` too), slashes merged, `.` and `..` resolved. */
  path: string;
  /** The query string without `?`, exactly as sent (not decoded), '' when there is none. */
  args: string;
}

// RFC 9112 §3.2.2 absolute-form; nginx takes the path after the authority (and "/" if there is none).
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/**
 * Returns undefined where nginx answers 400: a target that is neither origin-form nor absolute-form
 * (this includes OPTIONS `*`, which the caller handles before), a malformed `%` escape, a decoded
 * NUL, a raw control character or space, or a `..` that climbs above the root. A backslash is an
 * ordinary character (nginx only treats it as a separator on Windows).
 *
 * Bytes that are not valid UTF-8 are kept as lone surrogates U+DC80..U+DCFF (see uri-bytes.ts);
 * `escapeUriPath` turns them back into the same `%XX`.
 */
export function normalizeRequestTarget(target: string): NormalizedTarget | undefined {
  if (target.charCodeAt(0) === 0x2f && isNormal(target)) {
    const q = target.indexOf('?');
    return q === -1 ? { path: target, args: '' } : { path: target.slice(0, q), args: target.slice(q + 1) };
  }
  return normalizeSlow(target);
}

/** The path-and-query of a target as sent: absolute-form loses its scheme and authority. */
export function originForm(target: string): string {
  if (target.charCodeAt(0) === 0x2f) return target;
  const m = ABSOLUTE_FORM.exec(target);
  if (!m) return target;
  const rest = target.slice(m[0].length);
  return rest.charCodeAt(0) === 0x2f ? rest : `/${rest}`;
}

function normalizeSlow(target: string): NormalizedTarget | undefined {
  let t = target;
  if (t.charCodeAt(0) !== 0x2f) {
    const m = ABSOLUTE_FORM.exec(t);
    if (!m) return undefined;
    t = t.slice(m[0].length);
    if (t === '' || t.charCodeAt(0) === 0x3f) t = `/${t}`;
    else if (t.charCodeAt(0) !== 0x2f) return undefined;
  }
  if (hasControlOrSpace(t)) return undefined;

  // The path ends at the first raw `?` or `#`; a fragment (which clients should not send) is
  // dropped from the args as well. Escaped `%3F` / `%23` stay in the path as literal chars.
  const q = t.indexOf('?');
  const h = t.indexOf('#');
  let end = t.length;
  let args = '';
  if (q !== -1 && (h === -1 || q < h)) {
    end = q;
    args = h === -1 ? t.slice(q + 1) : t.slice(q + 1, h);
  } else if (h !== -1) {
    end = h;
  }

  let decoded: string;
  if (needsDecoding(t, end)) {
    const bytes = percentDecode(t, end);
    if (!bytes) return undefined;
    decoded = decodeUtf8Escaped(bytes);
  } else {
    decoded = end === t.length ? t : t.slice(0, end);
  }
  const path = resolveSegments(decoded);
  return path === undefined ? undefined : { path, args };
}

/**
 * True when the target has nothing to decode, resolve or reject: no `%`, `#`, `//`, `/.`, control
 * char, space or non-ASCII. That is the common case, and it costs one pass over the string.
 */
function isNormal(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x25 || c === 0x23) return false;
    if (c === 0x2f) {
      const next = t.charCodeAt(i + 1);
      if (next === 0x2f || next === 0x2e) return false;
    }
  }
  return true;
}

/** nginx (>= 1.21.1) answers 400 to spaces and control characters anywhere in the request line. */
function hasControlOrSpace(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return true;
  }
  return false;
}

function needsDecoding(t: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x25 || c >= 0x80) return true;
  }
  return false;
}

/**
 * Merges empty segments and removes dot segments (RFC 3986 §5.2.4, which nginx's state machine
 * agrees with, decoded separators included). A trailing `.` or `..` leaves a trailing slash, as
 * in nginx (`/a/b/..` is `/a/`). Undefined when `..` would climb above the root.
 */
export function resolveSegments(p: string): string | undefined {
  if (!p.includes('//') && !p.includes('/.')) return p;
  const segments = p.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i] as string;
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(seg);
  }
  const last = segments[segments.length - 1];
  const trailing = out.length > 0 && (last === '' || last === '.' || last === '..');
  return `/${out.join('/')}${trailing ? '/' : ''}`;
}
