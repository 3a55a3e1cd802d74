// The cache as route middleware: a proxy route with `cache:` gets it in front of its upstream.
import type { CacheStoreConfig } from '../config/types.js';
import type { Logger } from '../log/types.js';
import type { Middleware, RequestContext } from '../request/context.js';
import type { TrustCheck } from '../http/trust.js';
import { cacheRoute } from './route-cache.js';
import { cacheStoreFor } from './store.js';

export interface RouteCacheConfig {
  ttlMs: number;
  store: CacheStoreConfig | undefined;
  logger: Logger;
  /** What the route sends upstream, as the key (handler/upstream-target.ts cacheKeyFor). */
  key(ctx: RequestContext): string;
  mayPurge: TrustCheck;
}

export function withCache(c: RouteCacheConfig): Middleware {
  const store = cacheStoreFor(c.store, (message) => c.logger.warn(message));
  return (next) => cacheRoute(next, { ttlMs: c.ttlMs, store, key: c.key, mayPurge: c.mayPurge });
}
