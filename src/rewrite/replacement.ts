// The replacement of `rewrite REGEX REPLACEMENT`, with nginx's rules (ngx_http_rewrite,
// ngx_http_script_regex_start_code / _end_code):
// - starting with http://, https:// or $scheme, or with flag redirect/permanent, it is a redirect;
// - otherwise the first literal `?` splits it into the new URI and new args; the request's args
//   are appended (after `&`) unless the replacement ends with `?`, which drops them;
// - a capture copied into the args, or into a redirect, is escaped (NGX_ESCAPE_ARGS) when the
//   request path held `%` or `+` (r->quoted_uri, r->plus_in_uri), since it is decoded text;
// - a redirect's text is unescaped (NGX_UNESCAPE_REDIRECT) before the request's args go after it.
// Where nginx would put raw bytes on a request line or in a header (a decoded CR LF from $uri,
// non-ASCII), gatehouse escapes them: README "Coming from nginx".
import { compileTemplate, type Template } from '../http/variables.js';
import { originForm } from '../http/normalize.js';
import { escapeUriPath, ESCAPE_WIRE } from '../http/uri-bytes.js';
import type { VarSource } from '../http/vars-types.js';

type Part = string | number | Template;

export interface Replacement {
  readonly redirect: boolean;
  /** The whole text (a redirect) or the part before the first `?`. */
  readonly uri: readonly Part[];
  /** The part after the first `?` (not a redirect), undefined when there is none. */
  readonly args: readonly Part[] | undefined;
  /** nginx's add_args: the replacement does not end with `?`. */
  readonly addArgs: boolean;
  /** The replacement holds a `?` (a redirect then joins the request's args with `&`). */
  readonly hasQuery: boolean;
}

/** ngx_escape_uri's NGX_ESCAPE_ARGS: " ", "#", "%", "&", "+", ";", "?", controls and non-ASCII. */
const ESCAPE_ARGS = (() => {
  const t = new Uint8Array(128);
  for (let c = 0; c <= 0x20; c++) t[c] = 1;
  t[0x7f] = 1;
  for (const ch of ' #%&+;?') t[ch.charCodeAt(0)] = 1;
  return t;
})();

const VAR = /\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z_][A-Za-z0-9_]*|[1-9]))/g;

function parts(text: string): Part[] {
  const out: Part[] = [];
  let last = 0;
  for (let m = VAR.exec(text); m; m = VAR.exec(text)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const name = (m[1] ?? m[2]) as string;
    out.push(/^\d$/.test(name) ? Number(name) : compileTemplate(`$${name}`));
    last = m.index + m[0].length;
  }
  VAR.lastIndex = 0;
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function compileReplacement(text: string, explicitRedirect: boolean): Replacement {
  const redirect = explicitRedirect || /^(https?:\/\/|\$scheme)/.test(text);
  const addArgs = !text.endsWith('?');
  const body = addArgs ? text : text.slice(0, -1);
  const q = redirect ? -1 : body.indexOf('?');
  return {
    redirect,
    uri: parts(q === -1 ? body : body.slice(0, q)),
    args: q === -1 ? undefined : parts(body.slice(q + 1)),
    addArgs,
    hasQuery: body.includes('?'),
  };
}

/** r->quoted_uri || r->plus_in_uri: the path as sent held a `%` escape or a `+`. */
export function quotedUri(rawTarget: string): boolean {
  const t = originForm(rawTarget);
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x25 || c === 0x2b) return true;
    if (c === 0x3f || c === 0x23) return false;
  }
  return false;
}

function render(list: readonly Part[], v: VarSource, escapeCaptures: boolean): string {
  let out = '';
  for (const p of list) {
    if (typeof p === 'string') out += p;
    else if (typeof p === 'number') {
      const cap = v.captures?.[p - 1];
      if (cap) out += escapeCaptures ? escapeUriPath(cap, ESCAPE_ARGS) : cap;
    } else out += p(v);
  }
  return out;
}

export interface Rewritten {
  /** The new decoded path (not yet normalised), or a redirect's Location. */
  uri: string;
  /** The new args (a URI rewrite only). */
  args: string;
}

/**
 * The new URI and args of a matched rewrite: `args` is the request's args before it; $1..$9 are
 * read from `v.captures`.
 */
export function applyReplacement(r: Replacement, v: VarSource, args: string, quoted: boolean): Rewritten {
  if (r.redirect) {
    let location = unescapeRedirect(render(r.uri, v, quoted));
    if (r.addArgs && args) location += (r.hasQuery ? '&' : '?') + args;
    return { uri: escapeUriPath(location, ESCAPE_WIRE), args };
  }
  const uri = render(r.uri, v, false);
  let newArgs: string;
  if (r.args) {
    newArgs = render(r.args, v, quoted);
    if (r.addArgs && args) newArgs += `&${args}`;
  } else {
    newArgs = r.addArgs ? args : '';
  }
  // Decoded text from variables ($uri) may hold what a request line cannot carry.
  return { uri, args: escapeUriPath(newArgs, ESCAPE_WIRE) };
}

/**
 * ngx_unescape_uri(NGX_UNESCAPE_REDIRECT): up to the first `?`, `%XX` is decoded when it stands for
 * a printable char above `%` (so `%0D%0A`, `%20`, `%25` stay escaped).
 */
export function unescapeRedirect(s: string): string {
  if (!s.includes('%')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '?') return out + s.slice(i);
    if (c === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      const ch = parseInt(s.slice(i + 1, i + 3), 16);
      if (ch === 0x3f) return `${out}?${s.slice(i + 3)}`;
      if (ch > 0x25 && ch < 0x7f) {
        out += String.fromCharCode(ch);
        i += 2;
        continue;
      }
    }
    out += c;
  }
  return out;
}
