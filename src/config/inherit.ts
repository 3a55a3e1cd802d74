// Site-level defaults and nginx's inheritance (ngx_http_core_merge_loc_conf and every module's
// merge_loc_conf): a value written on a site applies to its routes, a route's to its nested
// routes, and a child that writes its own REPLACES the parent's. nginx never merges list-like
// directives: one add_header in a location drops every add_header of the server, one
// proxy_set_header drops the server's proxy_set_header list. The list below is the one place that
// says which keys inherit; a key added here inherits without any other change.
//
// Merging is done on the RAW values (before any parsing), not on parsed ones:
// - parsing a value can depend on the route that ends up holding it, as nginx's merge does:
//   tryFiles needs the route's (possibly inherited) root; a proxyRedirect `default` is computed
//   from the route's own proxy; a root's relative path or an errorPages `@name` are checked against
//   the site the route is in. A parsed site value could not be re-read in each route's context;
// - every parser of a key (this helper's and those added beside it) stays the one the route uses,
//   called as before with `[...route, key]` and `raw.key`: nothing per key learns about inheritance.
// Errors and positions stay right because the route's Ctx is derived (Ctx.derive) with a PathMap
// that sends `[...route, key]` to `[...site, key]` for an inherited key: `clean`, `pos`, `error`
// all land on the line the value is written on, and an error in a site value inherited by ten
// routes is one issue (native.ts dedupes identical issues).
import type { PathMap } from './context.js';
import type { Path } from './source.js';

/**
 * Keys inherited from a site (or route) by its routes. `a.b` is a part inherited on its own: the
 * request and response parts of `headers` are nginx's proxy_set_header and add_header lists,
 * each replaced as a whole. A group is one slot: a child that writes any of its keys takes none
 * of the parent's (nginx keeps `root` and `alias` in one field, so a nested route with its own
 * root drops the parent's alias and the other way round).
 */
export const INHERITED: ReadonlyArray<string | readonly string[]> = [
  ['root', 'alias'],
  'index',
  'maxBody',
  'headers.request',
  'headers.response',
  'errorPages',
  'interceptErrors',
  'retryStatuses',
  'access',
  'auth',
  'satisfy',
  'forwardAuth',
  'expires',
  'proxyRedirect',
  'proxyHideHeaders',
  'proxyPassHeaders',
  'accessLog',
  // nginx's fastcgi_param (uwsgi_param, scgi_param) list: a level with any param drops the outer ones.
  'params',
  // nginx merges fastcgi_split_path_info from the enclosing location.
  'splitPathInfo',
  // nginx's charset and charset_types merge separately (ngx_http_charset_merge_loc_conf).
  'charset',
  'charsetTypes',
];

/** Security headers `check` names when a route's own response headers drop a parent's. */
export const SECURITY_HEADERS = [
  'Strict-Transport-Security',
  'Content-Security-Policy',
  'X-Frame-Options',
  'X-Content-Type-Options',
  'Referrer-Policy',
  'Permissions-Policy',
];

type RawNode = Record<string, unknown>;

/** A parent as its children see it: its values after its own inheritance, and where it is. */
export interface Parent {
  raw: RawNode;
  at: Path;
}

export interface Inherited {
  /** The child's raw value with the inherited keys filled in; the child's own object is not changed. */
  raw: RawNode;
  /** For Ctx.derive: a path under the child that holds an inherited value goes to the parent's. */
  map: PathMap;
  /** The keys (as in INHERITED, dotted) the child took from its parent. */
  taken: string[];
}

function read(node: RawNode | undefined, key: string): unknown {
  const [head, part] = key.split('.') as [string, string | undefined];
  const v = node?.[head];
  if (part === undefined) return v;
  return v !== null && typeof v === 'object' ? (v as RawNode)[part] : undefined;
}

function write(node: RawNode, key: string, value: unknown): void {
  const [head, part] = key.split('.') as [string, string | undefined];
  if (part === undefined) {
    node[head] = value;
    return;
  }
  const own = node[head];
  // The child's object is copied, never written to: the raw config is read again by `check`.
  node[head] = { ...(own !== null && typeof own === 'object' ? (own as RawNode) : {}), [part]: value };
}

function startsWith(at: Path, prefix: Path): boolean {
  return prefix.length <= at.length && prefix.every((seg, i) => String(seg) === String(at[i]));
}

export function inherit(parent: Parent, child: RawNode, childAt: Path): Inherited {
  const raw: RawNode = { ...child };
  const taken: string[] = [];
  for (const entry of INHERITED) {
    const group = typeof entry === 'string' ? [entry] : entry;
    if (group.some((k) => read(child, k) !== undefined)) continue;
    for (const key of group) {
      const value = read(parent.raw, key);
      if (value === undefined) continue;
      write(raw, key, value);
      taken.push(key);
    }
  }
  const moves = taken.map((key) => {
    const parts = key.split('.');
    return { from: [...childAt, ...parts], to: [...parent.at, ...parts] };
  });
  const map: PathMap = (at) => {
    const move = moves.find((m) => startsWith(at, m.from));
    return move ? [...move.to, ...at.slice(move.from.length)] : at;
  };
  return { raw, map, taken };
}
