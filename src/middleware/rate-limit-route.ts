// README "Configuration reference" `rateLimit` on a site or a route: 429 with Retry-After for a client over its rate.
import { type RequestContext } from '../request/context.js';
import { headerValue } from '../http/headers.js';
import { clientAddress } from '../http/trust.js';
import { sendStatus } from '../http/respond.js';
import type { RouteHandler } from '../request/context.js';
import type { RateLimiter } from './rate-limit.js';

/** Requests already counted: nginx's limit_req counts a request once, not again after an internal redirect. */
const counted = new WeakSet<RequestContext>();

export function withRateLimit(handler: RouteHandler, limiter: RateLimiter | undefined): RouteHandler {
  if (limiter === undefined) return handler;
  return (ctx) => {
    if (!counted.has(ctx)) {
      counted.add(ctx);
      const { ex, env } = ctx;
      // The client as trustedProxies allow us to see it, so that clients behind a trusted load
      // balancer are limited one by one rather than all together.
      const key = clientAddress(ex.conn.remoteAddress, headerValue(ex, 'x-forwarded-for'), env.trust);
      const verdict = limiter.take(key);
      if (!verdict.ok) {
        // RFC 6585 §4; Retry-After in seconds (RFC 9110 §10.2.3).
        sendStatus(ctx, 429, { 'retry-after': String(verdict.retryAfterSec) });
        return;
      }
    }
    return handler(ctx);
  };
}
