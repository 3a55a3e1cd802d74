// A site's `routes:` list: nginx locations with what each one does (proxy, static root, return).
import { parseProxyTarget, type ProxyTarget } from './upstream-url.js';
import { parseLocation, type CompiledLocation } from './location-spec.js';
import type { Ctx } from './context.js';
import { accessSettings } from './access.js';
import { accessLogConfig } from './log-formats.js';
import { checkCgiTarget, paramsConfig, splitPathInfoConfig } from './cgi-params.js';
import { checkTemplate, headersConfig, list, parseReturn, rateLimitConfig } from './route-parts.js';
import { aliasConfig, nestingProblem } from './nesting.js';
import { inherit, type Parent } from './inherit.js';
import { MAX_NESTING, type RawRoute, type RawSite } from './schema.js';
import type { Path } from './source.js';
import { didYouMean } from './suggest.js';
import { rewriteConfig } from './rewrite.js';
import { responseKeys } from './response-headers.js';
import type { RouteConfig } from './types.js';
import { parseDuration, parseSize } from './units.js';

/**
 * nginx keeps one tree of static locations, so `/x` and `^~ /x` are the same location and it
 * rejects the pair as "duplicate location"; regexes are compared as written.
 */
function locationKey(loc: CompiledLocation): string {
  const group = loc.kind === 'prefix-no-regex' ? 'prefix' : loc.kind;
  return `${group} ${loc.value}`;
}

/**
 * A site's routes, and in each route its nested `routes:` (nginx's nested locations), each with
 * the values it inherits from its parent (config/inherit.ts) filled in.
 */
/** The names under `upstreams:`, and the protocol each one's servers speak. */
export interface UpstreamNames {
  names: ReadonlySet<string>;
  schemes: ReadonlyMap<string, string | undefined>;
}

export function routesConfig(ctx: Ctx, site: Path, rs: RawSite, upstreamNames: UpstreamNames): RouteConfig[] {
  const { names: upstreams, schemes } = upstreamNames;
  const raw = rs.routes ?? [];
  if (!ctx.shaped([...site, 'routes'])) return [];
  const named = new Set<string>();
  raw.forEach((r, i) => {
    const loc = typeof r?.location === 'string' ? r.location.trim() : '';
    if (loc.startsWith('@') && ctx.clean([...site, 'routes', i, 'location'])) named.add(loc.slice(1));
  });
  const holder: Holder = { raw: rs as unknown as Record<string, unknown>, at: site };
  const routes = levelConfig(ctx, holder, raw, { upstreams, schemes, named });
  // nginx serves a request that no location matches with the server's own settings: with a
  // site `root`, that is its files. The same here, as a `location: /` made of the site's values
  // (it is exactly what a plain "/" prefix does: the fallback when no other location matches).
  const catchAll = routes.some((r) => (r.locationSpec?.kind === 'prefix' || r.locationSpec?.kind === 'prefix-no-regex') && r.locationSpec.value === '/');
  if (rs.root !== undefined && ctx.clean([...site, 'root']) && !catchAll) {
    const at = [...site, 'routes', raw.length];
    const implicit = inherit(holder, { location: '/' }, at);
    const route = routeConfig(ctx.derive(implicit.map), at, { location: '/' }, implicit.raw as unknown as RawRoute, parseLocation('/'), { upstreams, schemes, named }, undefined);
    route.implicit = true;
    routes.push(route);
  }
  return routes;
}

interface RouteEnv {
  upstreams: ReadonlySet<string>;
  schemes: UpstreamNames['schemes'];
  /** Names of the site's `@name` locations, for tryFiles fallbacks. */
  named: ReadonlySet<string>;
}

/** What a list of routes needs of the route (or site) it is written in. */
interface Holder extends Parent {
  /** Absent for a site. */
  route?: RouteConfig;
}

function levelConfig(ctx: Ctx, holder: Holder, raw: RawRoute[], env: RouteEnv): RouteConfig[] {
  const list = [...holder.at, 'routes'];
  // The site's list is level 0; nginx has no bound, but a config nested this deep is a mistake.
  if (list.filter((seg) => seg === 'routes').length > MAX_NESTING + 1) {
    ctx.error(list, `routes are nested more than ${MAX_NESTING} levels deep`);
    return [];
  }
  const usable = (i: number): boolean => ctx.shaped([...list, i]);
  const locations = raw.map((r, i) => {
    const at = [...list, i, 'location'];
    if (!usable(i) || !ctx.clean(at)) return undefined;
    const loc = ctx.attempt(at, () => parseLocation(r.location));
    if (!loc || !holder.route?.locationSpec) return loc;
    const problem = nestingProblem(holder.route.locationSpec, holder.route.location, loc, r.location.trim());
    if (problem) ctx.error(at, problem);
    return problem ? undefined : loc;
  });
  const seen = new Map<string, number>();
  locations.forEach((loc, i) => {
    if (!loc) return;
    const key = locationKey(loc);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else {
      const line = ctx.pos([...list, first, 'location']).line;
      ctx.error([...list, i, 'location'], `duplicate location "${raw[i]?.location.trim()}" (first at line ${line})`);
    }
  });
  const routes: RouteConfig[] = [];
  raw.forEach((r, i) => {
    if (!usable(i)) return;
    const at = [...list, i];
    const inherited = inherit(holder, r as unknown as Record<string, unknown>, at);
    const rctx = ctx.derive(inherited.map);
    const route = routeConfig(rctx, at, r, inherited.raw as unknown as RawRoute, locations[i], env, holder.route);
    if (r.routes !== undefined && ctx.shaped([...at, 'routes'])) {
      route.routes = levelConfig(rctx, { raw: inherited.raw, at, route }, r.routes, env);
    }
    routes.push(route);
  });
  return routes;
}

/**
 * `own` is the route as written, `raw` the same with the inherited values filled in. What a route
 * does (proxy, root, alias, return) is read from `own`: a site's root inherited by a `return`
 * route is no conflict.
 */
function routeConfig(
  ctx: Ctx,
  at: Path,
  own: RawRoute,
  raw: RawRoute,
  loc: CompiledLocation | undefined,
  env: RouteEnv,
  parent: RouteConfig | undefined,
): RouteConfig {
  const route: RouteConfig = { location: String(raw.location ?? '').trim(), index: ['index.html'], pos: ctx.pos(at) };
  const ok = (key: string): boolean => (raw as unknown as Record<string, unknown>)[key] !== undefined && ctx.clean([...at, key]);

  const does = (['proxy', 'root', 'alias', 'return'] as const).filter((k) => own[k] !== undefined);
  const files = raw.root !== undefined || raw.alias !== undefined;
  // A route with an unknown key (`proxi:`) is already reported; "needs one of" would say it twice.
  // A route that only holds nested routes or rewrite steps (nginx's `location /old { rewrite ... permanent; }`),
  // or that serves files from an inherited root, does something.
  if (does.length === 0 && !files && own.routes === undefined && own.rewrite === undefined && ctx.clean(at)) {
    ctx.error(at, `route "${route.location}" needs one of proxy, root or return`);
  } else if (own.return !== undefined && does.length > 1) {
    const other = does.filter((k) => k !== 'return').join(' and ');
    ctx.error([...at, 'return'], `a route does one of proxy, root or return; this one also has ${other}`);
  }

  if (loc) route.locationSpec = loc;
  Object.assign(route, responseKeys(ctx, at, raw, env.named)); // issue 17
  let scheme: string | undefined;
  if (ok('proxy')) {
    const proxy = proxyValue(ctx, [...at, 'proxy'], raw.proxy as string, loc, env.upstreams);
    if (proxy) {
      route.proxy = proxy.text;
      if (proxy.target) route.proxyTarget = proxy.target;
      const upstream = proxy.target?.upstream;
      scheme = upstream !== undefined ? (env.schemes.get(upstream) ?? proxy.target?.scheme) : proxy.target?.scheme;
    }
  }
  if (ok('root')) route.root = ctx.resolve(raw.root as string);
  // issue 17: nest
  if (own.alias !== undefined) {
    const alias = aliasConfig(ctx, at, own, loc);
    if (alias) route.alias = alias;
  } else if (raw.alias !== undefined && parent?.alias) {
    route.alias = parent.alias;
  }
  if (own.internal !== undefined && ctx.clean([...at, 'internal'])) route.internal = own.internal;
  if (ok('index')) route.index = list(raw.index);
  if (ok('tryFiles')) route.tryFiles = tryFiles(ctx, at, raw, env.named);
  if (ok('symlinks')) {
    if (!files) ctx.error([...at, 'symlinks'], 'symlinks applies to static files; this route has no root');
    else route.symlinks = raw.symlinks as RouteConfig['symlinks'];
  }
  if (ok('return')) {
    const ret = ctx.attempt([...at, 'return'], () => parseReturn(raw.return as number | string));
    if (ret && (ret.text === undefined || checkTemplate(ctx, [...at, 'return'], ret.text))) route.return = ret;
  }
  const headers = headersConfig(ctx, [...at, 'headers'], raw.headers);
  if (headers) route.headers = headers;
  if (ok('cache')) route.cacheMs = parseDuration(raw.cache as string | number);
  if (ok('maxBody')) route.maxBody = parseSize(raw.maxBody as string | number);
  const rateLimit = rateLimitConfig(ctx, [...at, 'rateLimit'], raw.rateLimit);
  if (rateLimit) route.rateLimit = rateLimit;
  if (ok('timeout')) route.timeoutMs = parseDuration(raw.timeout as string | number);
  Object.assign(route, accessSettings(ctx, at, raw)); // issue 17: access
  if (ok('requestBuffering')) route.requestBuffering = raw.requestBuffering as boolean;
  if (ok('upgrade')) route.upgrade = raw.upgrade === 'off' ? [] : (raw.upgrade as string[]).map((p) => p.toLowerCase());
  if (ok('tunnelIdle')) {
    const ms = parseDuration(raw.tunnelIdle as string | number);
    // A zero timer would close a tunnel before anything could cross it.
    if (ms < 1000) ctx.error([...at, 'tunnelIdle'], 'tunnelIdle must be at least 1s');
    else route.tunnelIdleMs = ms;
  }
  // issue 17: rewrite
  const rewrite = rewriteConfig(ctx, [...at, 'rewrite'], own.rewrite, { tryFiles: raw.tryFiles !== undefined });
  if (rewrite) route.rewrite = rewrite;
  const accessLog = accessLogConfig(ctx, [...at, 'accessLog'], raw.accessLog);
  if (accessLog) route.accessLog = accessLog;
  const params = paramsConfig(ctx, [...at, 'params'], raw.params);
  if (params) route.params = params;
  const split = splitPathInfoConfig(ctx, [...at, 'splitPathInfo'], raw.splitPathInfo);
  if (split !== undefined) route.splitPathInfo = split;
  // An invalid proxy is reported already; where it would have sent the params is unknown.
  if (own.proxy === undefined || scheme !== undefined) checkCgiTarget(ctx, at, { location: route.location, own, raw, scheme });
  return route;
}

const ADDRESS_ONLY = new Set(['fastcgi', 'uwsgi', 'scgi']);

function proxyValue(ctx: Ctx, at: Path, value: string, loc: CompiledLocation | undefined, upstreams: ReadonlySet<string>): { text: string; target?: ProxyTarget } | undefined {
  const text = value.trim();
  const bareName = /^[A-Za-z0-9_.-]+$/.test(text);
  // When `upstreams:` itself is malformed its names are unknown, and that is already reported.
  if (bareName && !ctx.shaped(['upstreams'])) return { text };
  if (bareName && !upstreams.has(text)) {
    const hint = didYouMean(text, upstreams);
    ctx.error(at, `unknown upstream "${text}"${hint || `; declare it under upstreams:, or write a URL like http://${text}:8080`}`);
    return undefined;
  }
  const target = ctx.attempt(at, () => parseProxyTarget(text, upstreams));
  if (!target) return undefined;
  if (target.uri !== undefined) {
    if (ADDRESS_ONLY.has(target.scheme)) {
      ctx.error(at, `a ${target.scheme}:// proxy is an address and cannot have a URI part ("${target.uri}")`);
      return undefined;
    }
    // nginx's proxy_pass: in a regex or named location there is no matched prefix for the URI
    // part to replace, so nginx refuses the combination at config load; so do we.
    if (loc?.kind === 'regex' || loc?.kind === 'regex-ci') {
      ctx.error(at, 'proxy with a URI part cannot be used in a regex location; drop the path, or rewrite with a prefix location');
      return undefined;
    }
    if (loc?.kind === 'named') {
      ctx.error(at, 'proxy with a URI part cannot be used in a named location');
      return undefined;
    }
  }
  return { text, target };
}

/** nginx try_files: files to try (with variables), then a fallback: `=CODE`, a URI or `@name`. */
function tryFiles(ctx: Ctx, at: Path, raw: RawRoute, named: ReadonlySet<string>): string[] {
  const items = raw.tryFiles as string[];
  const where = [...at, 'tryFiles'];
  if (raw.root === undefined && raw.alias === undefined) ctx.error(where, 'tryFiles needs root (the folder the files are looked up in)');
  items.forEach((item, i) => {
    const p = [...where, i];
    if (i < items.length - 1) {
      checkTemplate(ctx, p, item);
      return;
    }
    const code = /^=(\d+)$/.exec(item);
    if (code) {
      const n = Number(code[1]);
      if (n < 100 || n > 599) ctx.error(p, `tryFiles fallback "${item}" is not an HTTP status (100-599)`);
    } else if (item.startsWith('@')) {
      // Named locations are site-level only (nginx: "named location can be on server level only").
      const name = item.slice(1);
      if (!named.has(name)) {
        ctx.error(p, `tryFiles falls back to "${item}", but this site has no "location: ${item}"${didYouMean(name, named)}`);
      }
    } else if (item.startsWith('/') || item.startsWith('$')) {
      checkTemplate(ctx, p, item);
    } else {
      ctx.error(p, `the last tryFiles item must be =CODE, a URI starting with "/", or @name (got "${item}")`);
    }
  });
  return items;
}
