// What a proxy route sends upstream, as the HTTP cache's key (security review F4): the upstream,
// the request target as forwarded and the Host header as forwarded, port part included. nginx's default
// proxy_cache_key is `$scheme$proxy_host$request_uri`: the raw URI, never the normalised `$uri`.
// A key built from the normalised path and the Host without its port let one client store the
// backend's answer to `/x/..%2Fvictim` (or to `Host: a.test:8443`) under the key of `/victim`
// (or of `Host: a.test`), which the backend sees as other requests (RFC 3986 §6.2.2.2: `%2F` is
// not `/`; RFC 9111 §2: the key is the target URI).
//
// The cache computes the target once for its key and leaves it on the request context; the proxy
// handler sends that value as long as route, path and args are the ones it was computed for (a
// tryFiles hit or an internal redirect changes them), so key and request cannot drift apart and the
// path is not built twice. Uncached routes pay one property read.
import type { RequestContext } from '../request/context.js';
export type { UpstreamTarget } from '../request/context.js';
import { upstreamHost, type RequestHeaderPolicy } from './proxy-headers.js';

/** What the target and key need of a proxy route's runtime (proxy.ts ProxyRuntime). */
export interface TargetRuntime {
  path(ctx: RequestContext): string;
  readonly requestHeaders: RequestHeaderPolicy;
}

/** The request-target to send: the one the cache keyed on, while it still describes the request. */
export function targetFor(ctx: RequestContext, rt: TargetRuntime): string {
  const known = ctx.upstreamTarget;
  if (known !== undefined && known.rt === rt && known.path === ctx.path && known.args === ctx.args && known.internal === ctx.internal) {
    return known.target;
  }
  return rt.path(ctx);
}

/**
 * The cache key of a request on this route: scheme, the upstream it goes to, the Host sent and the
 * target sent. The upstream is part of it as nginx's `$proxy_host` is: routes (or sites) sharing
 * the cache that send one Host and target to two upstreams (`/a/` → A and `/b/` → B, both stripped
 * to `/x`) ask two different servers and must not be served each other's answers. `upstream` is
 * the pool key (`upstream:NAME` or `literal:URL`), so every route to one pool keys alike.
 * A newline separates the parts because none can hold one (upstream names are tokens, llhttp and
 * nghttp2 refuse CR/LF in field values, a request target has no control characters), while a Host
 * may hold a `/`.
 */
export function cacheKeyFor(ctx: RequestContext, rt: TargetRuntime, upstream: string): string {
  const target = targetFor(ctx, rt);
  ctx.upstreamTarget = { rt, path: ctx.path, args: ctx.args, internal: ctx.internal, target };
  return `${ctx.ex.conn.secure ? 'https' : 'http'}\n${upstream}\n${upstreamHost(ctx, rt.requestHeaders)}\n${target}`;
}
