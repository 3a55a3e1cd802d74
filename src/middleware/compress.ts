// SPEC §2 `compress`: wraps a route handler so that its responses, proxied or static, leave
// compressed when the client and the response allow it.
import { H2WebSocketExchange } from '../listener/h2-websocket.js';
import { UpgradeExchange } from '../listener/upgrade-exchange.js';
import type { RouteHandler } from '../snapshot.js';
import { CompressingExchange } from './compress-exchange.js';
import { chooseCoding, type Coding } from './compress-negotiate.js';

export function withCompression(handler: RouteHandler, offered: readonly Coding[]): RouteHandler {
  if (offered.length === 0) return handler;
  return (ctx) => {
    const ex = ctx.ex;
    // Tunnels (WebSocket) carry no HTTP body; an internal redirect (tryFiles, @name) is wrapped once.
    if (!(ex instanceof CompressingExchange || ex instanceof UpgradeExchange || ex instanceof H2WebSocketExchange)) {
      ctx.ex = new CompressingExchange(ex, chooseCoding(ex.headers['accept-encoding'], offered));
    }
    return handler(ctx);
  };
}
