// Compiles a site's routes into the nginx location matcher (ngx_http_core_find_location). At one
// level (the site's routes, or the nested routes of one route):
//   1. an exact `= /x` location equal to the path wins at once;
//   2. else the longest prefix among `/x` and `^~ /x` is found;
//   3. auto_redirect: if no location has the path itself as its name, and a proxied location is
//      named path + "/", that location answers with a 301 to the slashed path. nginx returns this
//      (NGX_DONE from ngx_http_core_find_static_location) before looking at regexes;
//   4. the longest prefix's own nested routes are searched the same way (steps 1-6, recursively);
//      an exact match or a redirect found there ends the search;
//   5. else, unless the longest prefix of THIS level is `^~`, this level's regex locations are
//      tried in config order, first match wins, with its captures, and its nested routes are
//      searched in turn (their result, whatever it is, ends the search);
//   6. else the deepest prefix found, if any.
// So nested regexes are tried before the regexes of the levels above them, and a `^~` nested
// prefix stops only the regexes of its own level: nginx reads `noregex` from the location found at
// each level. Named locations (`@x`) never match a path; they are reached through named().
import type { ConfigIssue, RouteConfig, SiteConfig, SourcePos } from '../config/types.js';
import { compileTemplate } from '../http/variables.js';
import { parseLocation } from '../config/location-spec.js';
import { PrefixTree } from './prefix-tree.js';
import { parseProxyTarget } from '../config/upstream-url.js';
import type { CompiledLocation, CompiledRoute, CompiledSite, LocationMatch } from './types.js';

export interface SiteCompileContext {
  upstreamNames: ReadonlySet<string>;
  /** Problems are appended here; routes that cannot be compiled are left out. */
  issues: ConfigIssue[];
  /** Position used when a route or site carries none. */
  fallbackPos: SourcePos;
}

interface RegexEntry {
  regex: RegExp;
  route: CompiledRoute;
  /** Shared answer when the regex has no groups. */
  match: LocationMatch;
}

/** The locations of one level: a site's routes, or the nested routes of one route. */
interface Level {
  // Matches without captures are built once and shared by every request.
  exact: Map<string, LocationMatch>;
  prefixes: PrefixTree<LocationMatch>;
  regexes: RegexEntry[];
  redirects: Map<string, LocationMatch>;
}

/** nginx's return codes of the location search: NGX_OK, NGX_AGAIN, NGX_DECLINED, NGX_DONE. */
type Found = 'ok' | 'again' | 'declined' | 'done';

/** r->loc_conf and r->captures as the search goes. */
interface Search {
  match: LocationMatch | undefined;
  captures: string[] | undefined;
}

export function compileSite(site: SiteConfig, index: number, ctx: SiteCompileContext): CompiledSite {
  const routes: CompiledRoute[] = [];
  const named = new Map<string, CompiledRoute>();
  const nested = new Map<CompiledRoute, Level>();

  const compileLevel = (list: readonly RouteConfig[], parent: CompiledRoute | undefined): Level => {
    const level: Level = { exact: new Map(), prefixes: new PrefixTree(), regexes: [], redirects: new Map() };
    const mine: CompiledRoute[] = [];
    for (const rc of list) {
      const pos = rc.pos ?? site.pos ?? ctx.fallbackPos;
      const issue = (message: string): void => {
        ctx.issues.push({ pos, message, severity: 'error' });
      };
      const route = compileRoute(rc, routes.length, ctx.upstreamNames, issue);
      if (!route) continue;
      if (parent) route.parent = parent;
      const loc = route.location;
      const match: LocationMatch = Object.freeze({ route });
      let unique = true;
      switch (loc.kind) {
        case 'exact':
          unique = !level.exact.has(loc.value);
          if (unique) level.exact.set(loc.value, match);
          break;
        case 'prefix':
        case 'prefix-no-regex':
          unique = level.prefixes.insert(loc.value, match);
          break;
        case 'regex':
        case 'regex-ci':
          level.regexes.push({ regex: loc.regex as RegExp, route, match });
          break;
        case 'named':
          // The config refuses a nested named location ("can be on site level only").
          if (parent) unique = false;
          else {
            unique = !named.has(loc.value);
            if (unique) named.set(loc.value, route);
          }
          break;
      }
      if (!unique) {
        issue(parent && loc.kind === 'named' ? `named location "${rc.location.trim()}" can be on site level only` : `duplicate location "${rc.location.trim()}"`);
        continue;
      }
      routes.push(route);
      mine.push(route);
      if (rc.routes?.length) nested.set(route, compileLevel(rc.routes, route));
    }
    level.redirects = autoRedirects(mine, level.exact, level.prefixes);
    return level;
  };
  const top = compileLevel(site.routes, undefined);

  function findStatic(level: Level, path: string, s: Search): Found {
    const e = level.exact.get(path);
    if (e) {
      s.match = e;
      return 'ok';
    }
    const hit = level.prefixes.longest(path);
    if (level.redirects.size > 0 && (hit === undefined || hit.length !== path.length)) {
      const r = level.redirects.get(path);
      if (r) {
        s.match = r;
        return 'done';
      }
    }
    if (!hit) return 'declined';
    s.match = hit.value;
    return 'again';
  }

  function find(level: Level, path: string, s: Search): Found {
    let found = findStatic(level, path, s);
    let noregex = false;
    if (found === 'again') {
      const route = (s.match as LocationMatch).route;
      noregex = route.location.kind === 'prefix-no-regex';
      const inner = nested.get(route);
      found = inner ? find(inner, path, s) : 'declined';
    }
    if (found === 'ok' || found === 'done' || noregex) return found;
    for (const { regex, route, match } of level.regexes) {
      const m = regex.exec(path);
      if (!m) continue;
      s.match = match;
      // The captures are the last matched regex's: a nested regex without groups leaves $1 empty
      // even inside a regex location that had one (nginx 1.22, test/integration/nginx-locations).
      s.captures = m.length > 1 ? captures(m) : undefined;
      const inner = nested.get(route);
      if (inner) find(inner, path, s);
      return 'ok';
    }
    return found;
  }

  function matchLocation(path: string): LocationMatch | undefined {
    const s: Search = { match: undefined, captures: undefined };
    find(top, path, s);
    const match = s.match;
    if (!match || s.captures === undefined) return match;
    return { route: match.route, captures: s.captures };
  }

  return {
    index,
    config: site,
    routes,
    matchLocation,
    named: (name) => named.get(name.startsWith('@') ? name.slice(1) : name),
  };
}

function captures(m: RegExpExecArray): string[] {
  const out = new Array<string>(m.length - 1);
  for (let i = 1; i < m.length; i++) out[i - 1] = m[i] ?? '';
  return out;
}

function compileRoute(
  rc: RouteConfig,
  index: number,
  upstreamNames: ReadonlySet<string>,
  issue: (message: string) => void,
): CompiledRoute | undefined {
  let location: CompiledLocation;
  try {
    location = rc.locationSpec ?? parseLocation(rc.location);
  } catch (err) {
    issue((err as Error).message);
    return undefined;
  }
  const route: CompiledRoute = { index, location, config: rc };
  if (rc.alias?.path.includes('$')) {
    try {
      route.aliasTemplate = compileTemplate(rc.alias.path);
    } catch (err) {
      issue(`alias "${rc.alias.path}": ${(err as Error).message}`);
      return undefined;
    }
  }
  if (rc.proxy === undefined) return route;
  try {
    route.proxy = rc.proxyTarget ?? parseProxyTarget(rc.proxy, upstreamNames);
  } catch (err) {
    issue((err as Error).message);
    return undefined;
  }
  const uri = route.proxy.uri;
  if (uri === undefined) return route;
  if (uri.includes('$')) {
    try {
      route.proxyUriTemplate = compileTemplate(uri);
    } catch (err) {
      issue(`proxy "${rc.proxy}": ${(err as Error).message}`);
      return undefined;
    }
  } else if (location.kind === 'regex' || location.kind === 'regex-ci' || location.kind === 'named') {
    // The same rule as nginx's proxy_pass: there is no prefix to replace, so a fixed URI part
    // would silently drop the request path.
    issue(
      `proxy "${rc.proxy}" cannot have a URI part in a regex or named location ` +
        `("${rc.location.trim()}"); drop the path, or use variables such as $1 or $uri`,
    );
    return undefined;
  }
  return route;
}

/**
 * Map from a request path to the redirecting match, built from every `= /x/` or `/x/` location
 * whose name ends in "/" and that proxies (nginx sets auto_redirect in proxy_pass, fastcgi_pass,
 * uwsgi_pass, scgi_pass, grpc_pass and memcached_pass only, so files and `return` never redirect).
 * As in ngx_http_create_locations_tree, when both `= /x/` and `/x/` exist the exact one is used.
 */
function autoRedirects(
  routes: CompiledRoute[],
  exact: ReadonlyMap<string, LocationMatch>,
  prefixes: PrefixTree<LocationMatch>,
): Map<string, LocationMatch> {
  const out = new Map<string, LocationMatch>();
  for (const route of routes) {
    const { kind, value } = route.location;
    if (kind !== 'exact' && kind !== 'prefix' && kind !== 'prefix-no-regex') continue;
    if (!route.proxy || value.length < 2 || !value.endsWith('/')) continue;
    const target = (exact.get(value) ?? prefixes.get(value))?.route ?? route;
    out.set(value.slice(0, -1), Object.freeze({ route: target, autoRedirect: true }));
  }
  return out;
}
