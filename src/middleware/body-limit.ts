// README "Configuration reference" `maxBody` for routes that do not read the body (static files, `return`): a declared
// Content-Length over the limit is refused with 413 as nginx's client_max_body_size does for every
// location. Proxy routes (HTTP and CGI) check in the proxy handler, which also counts chunked bodies.
import { refuseBody } from '../http/respond.js';
import type { RouteHandler } from '../request/context.js';

export function withBodyLimit(handler: RouteHandler, maxBody: number | undefined): RouteHandler {
  if (maxBody === undefined) return handler;
  return (ctx) => {
    const declared = Number(ctx.ex.headers['content-length'] ?? 0);
    if (declared > maxBody) {
      refuseBody(ctx);
      return;
    }
    return handler(ctx);
  };
}
