// Compiles a site's routes into the nginx location matcher (ngx_http_core_find_location):
//   1. an exact `= /x` location equal to the path wins at once;
//   2. else the longest prefix among `/x` and `^~ /x` is found;
//   3. auto_redirect: if no location has the path itself as its name, and a proxied location is
//      named path + "/", that location answers with a 301 to the slashed path. nginx returns this
//      (NGX_DONE from ngx_http_core_find_static_location) before looking at regexes;
//   4. if the longest prefix is `^~`, it wins;
//   5. else regex locations are tried in config order, first match wins, with its captures;
//   6. else the longest prefix, if any.
// Named locations (`@x`) never match a path; they are reached through named().
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

export function compileSite(site: SiteConfig, index: number, ctx: SiteCompileContext): CompiledSite {
  const routes: CompiledRoute[] = [];
  // Matches without captures are built once and shared by every request.
  const exact = new Map<string, LocationMatch>();
  const prefixes = new PrefixTree<LocationMatch>();
  const regexes: RegexEntry[] = [];
  const named = new Map<string, CompiledRoute>();

  site.routes.forEach((rc, i) => {
    const pos = rc.pos ?? site.pos ?? ctx.fallbackPos;
    const issue = (message: string): void => {
      ctx.issues.push({ pos, message, severity: 'error' });
    };
    const route = compileRoute(rc, i, ctx.upstreamNames, issue);
    if (!route) return;
    const loc = route.location;
    const match: LocationMatch = Object.freeze({ route });
    let unique = true;
    switch (loc.kind) {
      case 'exact':
        unique = !exact.has(loc.value);
        if (unique) exact.set(loc.value, match);
        break;
      case 'prefix':
      case 'prefix-no-regex':
        unique = prefixes.insert(loc.value, match);
        break;
      case 'regex':
      case 'regex-ci':
        regexes.push({ regex: loc.regex as RegExp, route, match });
        break;
      case 'named':
        unique = !named.has(loc.value);
        if (unique) named.set(loc.value, route);
        break;
    }
    if (!unique) {
      issue(`duplicate location "${rc.location.trim()}"`);
      return;
    }
    routes.push(route);
  });

  const redirects = autoRedirects(routes, exact, prefixes);

  function matchLocation(path: string): LocationMatch | undefined {
    const e = exact.get(path);
    if (e) return e;
    const hit = prefixes.longest(path);
    if (redirects.size > 0 && (hit === undefined || hit.length !== path.length)) {
      const r = redirects.get(path);
      if (r) return r;
    }
    if (hit && hit.value.route.location.kind === 'prefix-no-regex') return hit.value;
    for (const { regex, route, match } of regexes) {
      const m = regex.exec(path);
      if (!m) continue;
      if (m.length === 1) return match;
      // issue 17: rewrite — named captures are variables ($name), request/vars.ts.
      return m.groups ? { route, captures: captures(m), groups: m.groups } : { route, captures: captures(m) };
    }
    return hit?.value;
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
