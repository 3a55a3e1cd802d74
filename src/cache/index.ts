// The cache's one hook into snapshot building: a proxy route with `cache:` gets the cache in front.
import type { CacheStoreConfig } from '../config/types.js';
import type { Logger } from '../log/types.js';
import type { RequestContext } from '../request/context.js';
import type { TrustCheck } from '../http/trust.js';
import type { CompiledRoute } from '../router/types.js';
import type { RouteHandler } from '../request/context.js';
import { cacheRoute } from './route-cache.js';
import { cacheStoreFor } from './store.js';

export function wrapCachedRoute(
  handlers: Map<CompiledRoute, RouteHandler>,
  route: CompiledRoute,
  ttlMs: number,
  config: CacheStoreConfig | undefined,
  logger: Logger,
  key: (ctx: RequestContext) => string,
  mayPurge: TrustCheck,
): void {
  const handler = handlers.get(route);
  if (!handler) return;
  const store = cacheStoreFor(config, (message) => logger.warn(message));
  handlers.set(route, cacheRoute(handler, { ttlMs, store, key, mayPurge }));
}
