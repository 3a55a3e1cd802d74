// Removing entries: the PURGE method (as Varnish, nginx's ngx_cache_purge and Squid accept it) from
// a trusted proxy or an admin.allow client, and the invalidation RFC 9111 §4.4 asks for after an
// unsafe request.
import type { RequestContext } from '../request/context.js';
import { sendStatus } from '../http/respond.js';
import { compileTrust, type TrustCheck } from '../http/trust.js';
import type { CacheStore } from './store.js';

/**
 * Who may PURGE: the `trustedProxies` and `admin.allow` entries, compiled once per config. Loopback is
 * not trusted by itself (security review F10): behind a local TLS terminator or tunnel (stunnel,
 * cloudflared, a sidecar) every internet client arrives from 127.0.0.1.
 */
export function compilePurgeAccess(trustedProxies: readonly string[], adminAllow: readonly string[] | undefined): TrustCheck {
  return compileTrust([...trustedProxies, ...(adminAllow ?? [])]);
}

/** 200 when the URI had entries (all its variants are gone), 404 when it had none, 403 for others. */
export async function purge(ctx: RequestContext, store: CacheStore, key: string, mayPurge: TrustCheck): Promise<void> {
  if (!mayPurge(ctx.ex.conn.remoteAddress)) {
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
