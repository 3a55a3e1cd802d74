// The Host header (or HTTP/2 :authority) as gatehouse accepts it: RFC 3986 §3.2.2/§3.2.3
// `host [ ":" port ]`, checked as nginx's ngx_http_validate_host checks it and stricter on two
// points, because gatehouse forwards the raw value (Host, X-Forwarded-Host, HTTP_HOST) where nginx
// configs usually send `$host`:
// - the port must be digits: nginx accepts `a.test:@evil.test` (it stops looking at the first
//   ":"), which an application building links from Host turns into a link to evil.test;
// - a name is letters, digits, "-", "_" and "." only (nginx refuses only separators, controls and
//   spaces): nothing a browser sends is refused, and no `,`, `@`, `;` or quote reaches an application.
// Both refuse: no host, "..", "/" and "\", spaces and control characters. One trailing dot is dropped.

/** The host, lower-case, without port and trailing dot; undefined when the authority is invalid. */
export function hostOfAuthority(authority: string): string | undefined {
  const len = authority.length;
  if (len === 0) return undefined;
  let end: number;
  let host: string;
  if (authority.charCodeAt(0) === 0x5b /* [ */) {
    end = authority.indexOf(']');
    if (end < 2 || !ipLiteral(authority, 1, end)) return undefined;
    host = authority.slice(1, end).toLowerCase();
    end++;
  } else {
    end = authority.indexOf(':');
    if (end === -1) end = len;
    if (!regName(authority, end)) return undefined;
    // One trailing dot names the same host (nginx drops it too).
    host = (authority.charCodeAt(end - 1) === 0x2e ? authority.slice(0, end - 1) : authority.slice(0, end)).toLowerCase();
  }
  if (end === len) return host;
  if (authority.charCodeAt(end) !== 0x3a /* : */ || len - end - 1 > 5) return undefined;
  for (let i = end + 1; i < len; i++) {
    const c = authority.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  return host;
}

/** letters, digits, "-", "_", "."; not empty, no "..", and not only a dot. */
function regName(s: string, end: number): boolean {
  if (end === 0 || (end === 1 && s.charCodeAt(0) === 0x2e)) return false;
  let prevDot = false;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (prevDot) return false;
      prevDot = true;
      continue;
    }
    prevDot = false;
    const alnum = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
    if (!alnum && c !== 0x2d && c !== 0x5f) return false;
  }
  return true;
}

/** An IPv6 address (or IPv4-mapped form) between the brackets: hex digits, ":" and ".". */
function ipLiteral(s: string, start: number, end: number): boolean {
  let colons = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3a) colons++;
    else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) || c === 0x2e)) return false;
  }
  return colons >= 2;
}

/** nginx's HTTP/2 method check (ngx_http_v2_parse_method): upper-case letters, "_" and "-". */
export function validH2Method(method: string): boolean {
  if (method === 'GET' || method === 'POST') return true;
  if (method.length === 0) return false;
  for (let i = 0; i < method.length; i++) {
    const c = method.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x2d)) return false;
  }
  return true;
}

/**
 * RFC 9113 §8.3.1: an HTTP/2 `host` field beside `:authority` must identify the same entity, after
 * the scheme-based normalisation of RFC 3986 §6.2.3: host case-insensitive (and one trailing dot
 * dropped, as hostOfAuthority does), an omitted port meaning the scheme's default. Anything that is
 * not clearly the same (another name, another port, an invalid value) is not. The request is then
 * routed by `:authority` and forwarded with it (Host, X-Forwarded-Host, HTTP_HOST), so router and
 * backend see one host whichever spelling the `host` field had.
 */
export function sameAuthority(a: string, b: string, defaultPort: number): boolean {
  if (a === b) return true;
  const hostA = hostOfAuthority(a);
  if (hostA === undefined || hostA !== hostOfAuthority(b)) return false;
  return portOf(a, defaultPort) === portOf(b, defaultPort);
}

/** The port of an authority hostOfAuthority accepted: the digits after the host, else the default. */
function portOf(authority: string, defaultPort: number): number {
  const hostEnd = authority.charCodeAt(0) === 0x5b /* [ */ ? authority.indexOf(']') + 1 : authority.indexOf(':');
  if (hostEnd === -1 || hostEnd >= authority.length - 1) return defaultPort;
  return Number(authority.slice(hostEnd + 1));
}
