// issue 17: rewrite — nginx's rewrite module at its two places: the site's list in the
// server-rewrite phase (before the location search, server/dispatch.ts) and a route's list in
// its rewrite phase (server/chains.ts).
import type { RewriteStep } from '../config/types.js';
import type { Middleware, RequestContext, RouteHandler } from '../request/context.js';
import { rewriteProgram } from './compile.js';
import { runProgram, type RunResult } from './run.js';

export { rewriteProgram } from './compile.js';

/**
 * A route's rewrite phase. After `last`, or a changed URI without `break`, the location search
 * runs again (ngx_http_core_post_rewrite_phase), counted against the 10 URI changes; after
 * `break` the route goes on with the new URI.
 */
export function withRewrite(steps: readonly RewriteStep[]): Middleware {
  const program = rewriteProgram(steps);
  return (next) => (ctx) => {
    const r = runProgram(program, ctx);
    return r instanceof Promise ? r.then((res) => afterRoute(res, ctx, next)) : afterRoute(r, ctx, next);
  };
}

function afterRoute(r: RunResult, ctx: RequestContext, next: RouteHandler): void | Promise<void> {
  if (r.signal === 'done') return;
  if (r.signal === 'last' || (r.signal === undefined && r.uriChanged)) {
    ctx.env.internalRedirect(ctx, ctx.path, ctx.args);
    return;
  }
  // break after a change: the location stays but its prefix no longer describes the URI.
  if (r.uriChanged && ctx.route) ctx.match = { ...(ctx.match ?? { route: ctx.route }), rewritten: true };
  return next(ctx);
}

/**
 * The site's list, before the location search: true to go on to it (with the URI as rewritten;
 * `last` and `break` both just end the list here, as in nginx), false when it answered.
 */
export function serverRewrite(ctx: RequestContext): boolean | Promise<boolean> {
  const steps = ctx.site.config.rewrite;
  if (!steps) return true;
  const r = runProgram(rewriteProgram(steps), ctx);
  return r instanceof Promise ? r.then((res) => res.signal !== 'done') : r.signal !== 'done';
}
