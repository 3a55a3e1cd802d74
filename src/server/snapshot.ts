// One immutable, compiled view of a config: site table, route handlers, upstream pools, header
// templates. Built once per (re)load and swapped atomically; requests in flight keep the one
// they started with (Traefik-style: chains are built per config, never per request).
import { createHash } from 'node:crypto';
import type { Config, RateLimitConfig, RouteConfig, SiteConfig, UpstreamConfig } from '../config/types.js';
import type { AccessLog } from '../log/access-log.js';
import type { Logger } from '../log/types.js';
import { compileHeaderOps } from '../http/header-ops.js';
import { RateLimiter } from '../middleware/rate-limit.js';
import type { SharedLimits } from '../middleware/rate-limit-share.js';
import { compileTrust } from '../http/trust.js';
import { compileSiteTable } from '../router/site-table.js';
import { upstreamPath } from '../router/proxy-uri.js';
import type { CompiledRoute } from '../router/types.js';
import type { Middleware, RouteHandler } from '../request/context.js';
import { composeRoute, type RouteParts } from './chains.js';
import { requestEnv } from './dispatch.js';
import type { Snapshot } from './types.js';
import { bodyOptions, cgiRequest, compileCgiRoute, scriptExists, scriptFound } from '../handler/cgi-request.js';
import { handleProxy, type ProxyRuntime } from '../handler/proxy.js';
import { hiddenHeaders, type UpstreamResponsePolicy } from '../handler/proxy-headers.js';
import { compileProxyRedirect } from '../handler/proxy-redirect.js';
import { compileReturn } from '../handler/return.js';
import { handleStatic, type StaticRuntime } from '../handler/static.js';
import { StaticFiles } from '../handler/static-files.js';
import { aliasMap, rootMap, type DocumentMap } from '../handler/static-alias.js';
import { compileContentTypes, type ContentTypes } from '../handler/content-types.js';
import { compileTryFiles, withTryFiles } from '../handler/try-files.js';
import { cacheKeyFor } from '../handler/upstream-target.js';
import { compilePurgeAccess } from '../cache/purge.js';
import { CGI_SCHEMES } from '../config/upstream-url.js';
import { upstreamScheme } from '../config/upstreams.js';
import { DEFAULT_TUNNEL_IDLE_MS, effectiveMaxBody } from '../config/client.js';
import { UpstreamPool } from '../upstream/pool.js';
import { sendStatus } from '../http/respond.js';
import { rewriteProgram } from '../rewrite/index.js';
import { accessStep, type HtpasswdFiles } from '../access/satisfy.js';

/** What a proxy route tunnels unless it says otherwise (nginx tunnels only what a config asks for). */
const DEFAULT_UPGRADE = ['websocket'];

/**
 * `defaults: nginx`: nginx's proxy_set_header list holds `Upgrade ""` (ngx_http_proxy_headers), so a
 * location tunnels only when its config passes Upgrade (`proxy_set_header Upgrade $http_upgrade`);
 * otherwise an Upgrade request goes on as a plain one. WebSocket only: nginx would also tunnel h2c.
 */
function nginxUpgrade(rc: RouteConfig): string[] {
  const set = rc.headers?.request?.set ?? {};
  return Object.entries(set).some(([name, value]) => name.toLowerCase() === 'upgrade' && value !== '') ? DEFAULT_UPGRADE : [];
}

/** try_files as a route step: a hit runs the route's content handler with the found URI. */
function tryFilesStep(list: readonly string[], doc: DocumentMap): Middleware {
  const tf = compileTryFiles(list);
  return (next) => withTryFiles(tf, doc, next);
}

/** Where a route's URIs name files: under its alias, else its root (both possibly inherited); none without either. */
function documentMap(route: CompiledRoute, types: ContentTypes): DocumentMap | undefined {
  const rc = route.config;
  const symlinks = rc.symlinks ?? 'inside';
  if (rc.alias) return aliasMap(rc.alias, route.aliasTemplate, symlinks, types);
  return rc.root !== undefined ? rootMap(new StaticFiles(rc.root, symlinks, types)) : undefined;
}

/** Defaults for a `proxy: http://host:port` that names no upstream: one server, never marked down. */
function literalUpstream(name: string, url: string, route: RouteConfig): UpstreamConfig {
  return {
    name,
    servers: [{ url, weight: 1, backup: false }],
    balance: 'round-robin',
    maxFails: 0,
    failTimeoutMs: 10_000,
    retries: 0,
    timeouts: { connectMs: 5_000, readMs: route.timeoutMs ?? 60_000, sendMs: 60_000 },
    keepalive: 32,
  };
}

/**
 * The proxy value as nginx's proxy_pass would write it, the text `proxy_redirect default` replaces
 * (ngx_http_proxy_merge_loc_conf uses the URL as written): `http+unix:/s.sock:/u/` is
 * `http://unix:/s.sock:/u/`, a bare upstream name `http://NAME`.
 */
function proxyUrlAsNginx(text: string): string {
  const unix = /^(https?)\+unix:(?:\/\/(?=\/))?(.*)$/i.exec(text);
  if (unix) return `${(unix[1] ?? '').toLowerCase()}://unix:${unix[2] ?? ''}`;
  return text.includes('://') ? text : `http://${text}`;
}

/** issue 17: proxy_hide_header / proxy_pass_header and proxy_redirect of a proxy route. */
function upstreamResponsePolicy(route: CompiledRoute, site: SiteConfig, cgi: boolean): UpstreamResponsePolicy {
  const rc = route.config;
  const hidden = hiddenHeaders(cgi, rc.proxyHideHeaders ?? site.proxyHideHeaders, rc.proxyPassHeaders ?? site.proxyPassHeaders);
  const rules = rc.proxyRedirect ?? site.proxyRedirect ?? ['default'];
  // proxy_redirect is the HTTP proxy's; FastCGI, uwsgi and SCGI responses are not rewritten.
  if (cgi || rules === 'off') return { hidden, redirects: [] };
  const target = route.proxy!;
  const text = (rc.proxy ?? '').trim();
  const loc = route.location;
  return {
    hidden,
    redirects: compileProxyRedirect(rules, {
      // nginx refuses `default` with variables in proxy_pass; a regex or named location has no prefix to put back.
      proxyUrl: route.proxyUriTemplate ? undefined : proxyUrlAsNginx(text),
      hasUri: target.uri !== undefined,
      location: loc.kind === 'regex' || loc.kind === 'regex-ci' || loc.kind === 'named' ? '/' : loc.value,
    }),
  };
}

function hstsValue(site: SiteConfig): string | undefined {
  return site.hstsMs !== undefined ? `max-age=${Math.floor(site.hstsMs / 1000)}` : undefined;
}

/** The same limit in every process of a cluster, whatever else their configs differ in mid-reload. */
function limitId(hosts: readonly string[], location: string | undefined, limit: RateLimitConfig): string {
  return createHash('sha256').update(JSON.stringify([hosts, location ?? null, limit.ratePerSec, limit.burst])).digest('hex').slice(0, 16);
}

export function buildSnapshot(config: Config, logger: Logger, accessLog: AccessLog, sharedLimits?: SharedLimits): Snapshot {
  const limiter = (hosts: readonly string[], location: string | undefined, limit: RateLimitConfig): RateLimiter => {
    const l = new RateLimiter(limit);
    sharedLimits?.attach(limitId(hosts, location, limit), l);
    return l;
  };
  const table = compileSiteTable(config);
  const contentTypes = compileContentTypes(config.mimeTypes);
  const pools = new Map<string, UpstreamPool>();
  const poolFor = (key: string, make: () => UpstreamConfig): UpstreamPool => {
    let pool = pools.get(key);
    if (!pool) {
      pool = new UpstreamPool(make(), logger);
      pools.set(key, pool);
    }
    return pool;
  };
  const handlers = new Map<CompiledRoute, RouteHandler>();
  const htpasswdFiles: HtpasswdFiles = new Map();
  const mayPurge = compilePurgeAccess(config.trustedProxies, config.admin?.allow);
  /** A proxy route's content handler; fills in the route's cache and script-check steps. */
  const proxyContent = (route: CompiledRoute, site: SiteConfig, parts: RouteParts, hsts: string | undefined): RouteHandler => {
    const rc = route.config;
    const target = route.proxy!;
    const upstreamName = target.upstream;
    const upstreamConfig = upstreamName !== undefined ? config.upstreams[upstreamName] : undefined;
    const poolKey = upstreamName !== undefined && upstreamConfig ? `upstream:${upstreamName}` : `literal:${target.scheme}://${target.address}`;
    const pool =
      upstreamName !== undefined && upstreamConfig
        ? poolFor(poolKey, () => upstreamConfig)
        : poolFor(poolKey, () =>
            literalUpstream(
              `${target.scheme}://${target.address}`,
              // A unix socket path (fastcgi+unix:/run/php.sock) keeps its +unix form.
              target.address?.startsWith('/') ? `${target.scheme}+unix:${target.address}` : `${target.scheme}://${target.address}`,
              rc,
            ),
          );
    const rt: ProxyRuntime = {
      pool,
      path: (ctx) =>
        upstreamPath(route, ctx.match ?? { route }, { rawTarget: ctx.ex.rawTarget, path: ctx.path, args: ctx.args, internal: ctx.internal }, ctx.vars),
      requestHeaders: {
        style: config.origin,
        proxyHost: target.proxyHost,
        // The route's own list, else its parent's (config/inherit.ts): nginx's proxy_set_header
        // rule, one list replaces the other, never merged.
        ops: compileHeaderOps(rc.headers?.request),
        underscores: site.underscoresInHeaders,
      },
      responseOps: compileHeaderOps(rc.headers?.response),
      hsts,
      // issue 17: the route's own value, else its site's (until the nest work inherits them at load).
      responsePolicy: upstreamResponsePolicy(route, site, CGI_SCHEMES.has((upstreamConfig && upstreamScheme(upstreamConfig)) ?? target.scheme)),
      interceptErrors: rc.interceptErrors ?? site.interceptErrors ?? false,
      maxBody: effectiveMaxBody(rc, site, config),
      readTimeoutMs: rc.timeoutMs,
      retries: upstreamConfig?.retries ?? 0,
      retryStatuses: new Set(rc.retryStatuses ?? site.retryStatuses ?? []),
      upgrade: new Set(rc.upgrade ?? (config.origin === 'nginx' ? nginxUpgrade(rc) : DEFAULT_UPGRADE)),
      tunnelIdleMs: rc.tunnelIdleMs ?? DEFAULT_TUNNEL_IDLE_MS,
    };
    // FastCGI / uwsgi / SCGI: the CGI params ride on the request; tryFiles may check the script.
    const scheme = (upstreamConfig && upstreamScheme(upstreamConfig)) ?? target.scheme;
    const cgi = CGI_SCHEMES.has(scheme) ? compileCgiRoute(scheme, rc, rt.requestHeaders.ops, config.bodyBuffer) : undefined;
    if (cgi) {
      route.fastcgi = { splitPathInfo: cgi.splitPathInfo, index: cgi.index };
      rt.decorate = (ctx, req) => {
        req.cgi = cgiRequest(ctx, cgi);
      };
    } else if (rc.requestBuffering) {
      rt.buffer = bodyOptions(config.bodyBuffer, true);
    }
    // Under an alias the script name is always checked for a climb (cgi-request.ts scriptFilename).
    if (cgi?.missingScriptStatus !== undefined || (cgi && cgi.alias && scheme === 'fastcgi')) {
      parts.tryFiles = (next) => async (ctx) => {
        if (!(await scriptExists(ctx, cgi))) return;
        scriptFound(ctx, cgi);
        return next(ctx);
      };
    } else if (rc.tryFiles) {
      // nginx try_files before proxy_pass: a hit forwards the found URI, else the fallback runs.
      const doc = documentMap(route, contentTypes);
      if (doc) parts.tryFiles = tryFilesStep(rc.tryFiles, doc);
    }
    if (rc.cacheMs) {
      parts.cache = {
        ttlMs: rc.cacheMs,
        store: config.cache,
        logger,
        key: (ctx) => {
          // A Host set from $proxy_host reads it, as the proxy handler does.
          ctx.vars.proxyHost = target.proxyHost;
          return cacheKeyFor(ctx, rt, poolKey);
        },
        mayPurge,
      };
    }
    return (ctx) => {
      ctx.vars.proxyHost = target.proxyHost;
      handleProxy(ctx, rt);
    };
  };
  for (const site of table.sites) {
    // issue 17: rewrite — compiled now, not at the first request.
    if (site.config.rewrite) rewriteProgram(site.config.rewrite);
    const hsts = hstsValue(site.config);
    // A site's limit is one bucket per client across the routes that have no limit of their own.
    const siteLimiter = site.config.rateLimit && limiter(site.config.hosts, undefined, site.config.rateLimit);
    for (const route of site.routes) {
      const rc = route.config;
      const parts: RouteParts = {
        limiter: rc.rateLimit ? limiter(site.config.hosts, rc.location, rc.rateLimit) : siteLimiter,
        compress: { offered: site.config.compress, guardCredentials: route.proxy !== undefined && !site.config.compressAuthenticated, rules: site.config.compressRules },
        maxBody: route.proxy ? undefined : effectiveMaxBody(rc, site.config, config),
        cache: undefined,
        tryFiles: undefined,
        rewrite: rc.rewrite,
        // The route's settings already hold what it inherits (config/inherit.ts).
        access: accessStep(rc, logger, htpasswdFiles),
      };
      let content: RouteHandler | undefined;
      if (rc.return) {
        content = compileReturn(rc.return);
      } else if (route.proxy) {
        content = proxyContent(route, site.config, parts, hsts);
      } else {
        const doc = documentMap(route, contentTypes);
        if (doc) {
          const rt: StaticRuntime = { files: doc.files, doc, index: rc.index, hsts };
          content = (ctx) => handleStatic(ctx, rt);
          if (rc.tryFiles) parts.tryFiles = tryFilesStep(rc.tryFiles, doc);
        }
      }
      // issue 17: rewrite — a route of rewrite steps alone answers 404 when none of them answered.
      if (!content && rc.rewrite) content = (ctx) => sendStatus(ctx, 404);
      if (content) handlers.set(route, composeRoute(parts, content));
    }
  }
  const httpsPort = config.listen.https[0]?.port;
  const compiled = {
    config,
    table,
    logger,
    accessLog,
    trust: compileTrust(config.trustedProxies),
    handlers,
    pools,
    httpsPort,
    async dispose() {
      await Promise.all([...pools.values()].map((p) => p.close()));
    },
  };
  return { ...compiled, env: requestEnv(compiled) };
}
