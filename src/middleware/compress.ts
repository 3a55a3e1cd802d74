// README "Configuration reference" `compress`: wraps a route handler so that its responses, proxied or static, leave
// compressed when the client and the response allow it.
import type { RouteHandler } from '../request/context.js';
import { CompressingExchange } from './compress-exchange.js';
import { chooseCoding, type Coding } from './compress-negotiate.js';
import type { CompressRules } from '../config/types.js';

/**
 * BREACH (CVE-2013-3587): a compressed response that holds a secret (a CSRF token, a session
 * value) and reflects what an attacker put in the request leaks the secret through its length.
 * Such responses come from applications, to requests that carry credentials. So a proxied response
 * to a request with Cookie or Authorization leaves uncompressed unless the site says
 * `compressAuthenticated: true`; files gatehouse serves itself hold no per-user secret and are
 * always compressed (README "Security defaults").
 */
function credentialed(headers: { cookie?: unknown; authorization?: unknown }): boolean {
  return headers.cookie !== undefined || headers.authorization !== undefined;
}

/**
 * `guardCredentials` is set on proxy routes. The decision is taken when the proxy route runs, not
 * when the request enters the first route: a static route can hand over to a proxy route (tryFiles
 * to `@name` or to a URI, an index file redirected to `/index.php`), and arrives with its own
 * CompressingExchange already in place, which is told to let the upstream's answer pass untouched.
 */
export function withCompression(handler: RouteHandler, offered: readonly Coding[], guardCredentials = false, rules?: CompressRules): RouteHandler {
  if (offered.length === 0) return handler;
  return (ctx) => {
    const ex = ctx.ex;
    if (guardCredentials && credentialed(ex.headers)) {
      if (ex instanceof CompressingExchange) ex.withhold();
      return handler(ctx);
    }
    // Tunnels (WebSocket) carry no HTTP body; an internal redirect (tryFiles, @name) is wrapped once.
    if (!(ex instanceof CompressingExchange || ex.tunnel !== undefined)) {
      ctx.ex = new CompressingExchange(ex, chooseCoding(ex.headers['accept-encoding'], offered), rules);
    }
    return handler(ctx);
  };
}
