// The request-target sent upstream, with nginx proxy_pass semantics
// (ngx_http_proxy_create_request / ngx_http_proxy_create_key):
//
// - `proxy` with no URI part (`http://127.0.0.1:8080`): the target exactly as the client sent
//   it: not decoded, slashes not merged (r->unparsed_uri). Absolute-form loses scheme and host.
// - with a URI part, even just "/": the normalised path with the location's name replaced by the
//   URI part (for `= /x` that is the whole path), then re-escaped, then `?args` as sent.
//   nginx re-escapes with ngx_escape_uri(NGX_ESCAPE_URI) only when the request path held a `%`
//   escape (r->quoted_uri) or after an internal redirect; otherwise it copies the path bytes.
//   We do the same, except that non-ASCII is always sent as %XX of its UTF-8 bytes (nginx would
//   copy raw bytes that came in raw): RFC 3986 §2.1 makes both name the same resource, and raw
//   bytes above 0x7F are not valid on a request line.
// - a URI part with variables (`http://h/users/$1`): the evaluated text is the whole URI and the
//   request's args are not appended (nginx: plcf->proxy_lengths && ctx->vars.uri.len).
import type { VarSource } from '../http/vars-types.js';
import { originForm } from '../http/normalize.js';
import type { CompiledRoute, LocationMatch } from './types.js';
import { ESCAPE_NON_ASCII, ESCAPE_URI, ESCAPE_WIRE, escapeUriPath } from '../http/uri-bytes.js';

export interface UpstreamPathRequest {
  /** The request-target as sent by the client, args included. */
  rawTarget: string;
  /** The normalised path (normalizeRequestTarget). */
  path: string;
  /** Args as sent, without `?`. */
  args: string;
  /**
   * True after an internal redirect (try_files, error pages): rawTarget no longer describes the
   * request, so nginx rebuilds the URI from path and args, always escaped.
   */
  internal?: boolean;
}

/**
 * `vars` is needed only when the route's proxy URI holds variables; without it such a route
 * throws, so pass the request's VarSource whenever it exists.
 */
export function upstreamPath(
  route: CompiledRoute,
  match: LocationMatch,
  req: UpstreamPathRequest,
  vars?: VarSource,
): string {
  const template = route.proxyUriTemplate;
  if (template) {
    if (!vars) throw new Error(`proxy URI "${template.source}" has variables but no request variables were given`);
    const withCaptures =
      match.captures && vars.captures !== match.captures
        ? (Object.create(vars, { captures: { value: match.captures } }) as VarSource)
        : vars;
    const uri = template(withCaptures);
    // Captures and $uri are decoded text; nginx would put spaces and raw bytes on the request
    // line, which no HTTP/1.1 server parses. Escape just those and leave the author's `?`, `%`.
    if (uri !== '') return escapeUriPath(uri, ESCAPE_WIRE);
  }

  const uri = template ? undefined : route.proxy?.uri;
  const args = req.args === '' ? '' : `?${req.args}`;
  if (uri === undefined || match.rewritten) {
    if (!req.internal) return originForm(req.rawTarget);
    return escapeUriPath(req.path, ESCAPE_URI) + args;
  }

  const { kind, value } = route.location;
  const replaces = kind === 'prefix' || kind === 'prefix-no-regex' || kind === 'exact';
  // nginx cuts plcf->location.len bytes; when the path does not start with the name (only after
  // an internal redirect to a path outside it) we keep the whole path rather than cut blindly.
  const rest = replaces && req.path.startsWith(value) ? req.path.slice(value.length) : req.path;
  const quoted = req.internal === true || pathHasEscape(req.rawTarget);
  return uri + escapeUriPath(rest, quoted ? ESCAPE_URI : ESCAPE_NON_ASCII) + args;
}

/** Whether the path part of a raw target holds a `%` (nginx's r->quoted_uri). */
function pathHasEscape(rawTarget: string): boolean {
  const target = originForm(rawTarget);
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 0x25) return true;
    if (c === 0x3f || c === 0x23) return false;
  }
  return false;
}
