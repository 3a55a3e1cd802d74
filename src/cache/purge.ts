// Removing entries: the PURGE method (as Varnish, nginx's ngx_cache_purge and Squid accept it) from
// loopback or a trusted proxy, and the invalidation RFC 9111 §4.4 asks for after an unsafe request.
import ipaddr from 'ipaddr.js';
import type { RequestContext } from '../handler/context.js';
import { sendStatus } from '../handler/respond.js';
import type { CacheStore } from './store.js';

function isLoopback(address: string): boolean {
  return ipaddr.isValid(address) && ipaddr.process(address).range() === 'loopback';
}

/** 200 when the URI had entries (all its variants are gone), 404 when it had none, 403 for others. */
export async function purge(ctx: RequestContext, store: CacheStore, key: string): Promise<void> {
  const remote = ctx.ex.conn.remoteAddress;
  if (!isLoopback(remote) && !ctx.snap.trust(remote)) {
    sendStatus(ctx, 403);
    return;
  }
  const removed = await store.delete(key);
  sendStatus(ctx, removed ? 200 : 404);
}

/** A POST/PUT/DELETE/PATCH answered with 2xx or 3xx makes the stored responses of its URI invalid. */
export function invalidateOnSuccess(ctx: RequestContext, store: CacheStore, key: string): void {
  ctx.ex.onClose(() => {
    const status = ctx.ex.status;
    if (status >= 200 && status < 400) void store.delete(key);
  });
}
