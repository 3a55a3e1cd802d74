// The order a request goes through gatehouse, written once. Named after nginx's phases
// (ngx_http_core_module: post-read, server-rewrite, find-location, rewrite, preaccess, access,
// try-files, content, log) where gatehouse has them. The request-level steps run in
// server/dispatch.ts from REQUEST_PHASES; the steps of a route, once its location is found, are
// ROUTE_PHASES below, composed once per configuration into one handler per route. A new step (the
// nginx rewrite and access modules) is an entry in one of these lists, not another level of nesting.
import type { Middleware, RouteHandler } from '../request/context.js';
import { withCache, type RouteCacheConfig } from '../cache/index.js';
import { withBodyLimit } from '../middleware/body-limit.js';
import { withCompression } from '../middleware/compress.js';
import type { Coding } from '../middleware/compress-negotiate.js';
import type { CompressRules } from '../config/types.js';
import type { RateLimiter } from '../middleware/rate-limit.js';
import { withRateLimit } from '../middleware/rate-limit-route.js';
import { withRewrite } from '../rewrite/index.js';
import type { RewriteStep } from '../config/types.js';

/** What a route's configuration asks of each step; a step with nothing to do is left out. */
export interface RouteParts {
  /** limit_req: the route's limiter, else its site's. */
  limiter: RateLimiter | undefined;
  /** gzip/brotli: the codings offered, and whether a proxied answer to a request with credentials stays uncompressed (BREACH). */
  compress: { offered: readonly Coding[]; guardCredentials: boolean; rules?: CompressRules | undefined };
  /** client_max_body_size for routes that do not read the body themselves (proxy routes count it as they read). */
  maxBody: number | undefined;
  /** proxy_cache. */
  cache: RouteCacheConfig | undefined;
  /** try_files, or FastCGI's check that the script exists: runs before the content handler. */
  tryFiles: Middleware | undefined;
  /** issue 17: rewrite — the location's rewrite/return/set/if list. */
  rewrite: readonly RewriteStep[] | undefined;
  /** issue 17: access. allow/deny, basic auth, forward auth under `satisfy` (access/satisfy.ts). */
  access: Middleware | undefined;
}

interface RoutePhase {
  /** nginx's phase the step belongs to. */
  readonly phase: 'rewrite' | 'preaccess' | 'access' | 'try-files' | 'content';
  readonly name: string;
  build(parts: RouteParts): Middleware | undefined;
}

/** Outermost first: a request meets them in this order, the content handler last. */
export const ROUTE_PHASES: readonly RoutePhase[] = [
  { phase: 'rewrite', name: 'rewrite', build: (p) => p.rewrite && withRewrite(p.rewrite) },
  { phase: 'preaccess', name: 'rate limit', build: (p) => p.limiter && ((next) => withRateLimit(next, p.limiter)) },
  { phase: 'access', name: 'access', build: (p) => p.access },
  // An output filter in nginx; here it wraps the exchange before anything can answer.
  { phase: 'content', name: 'compression', build: (p) => (next) => withCompression(next, p.compress.offered, p.compress.guardCredentials, p.compress.rules) },
  { phase: 'content', name: 'body limit', build: (p) => (p.maxBody === undefined ? undefined : (next) => withBodyLimit(next, p.maxBody)) },
  { phase: 'content', name: 'cache', build: (p) => p.cache && withCache(p.cache) },
  { phase: 'try-files', name: 'try files', build: (p) => p.tryFiles },
];

/** One route's handler: its content handler behind the steps its configuration asks for. */
export function composeRoute(parts: RouteParts, content: RouteHandler): RouteHandler {
  let handler = content;
  for (let i = ROUTE_PHASES.length - 1; i >= 0; i--) {
    const step = ROUTE_PHASES[i]!.build(parts);
    if (step) handler = step(handler);
  }
  return handler;
}
