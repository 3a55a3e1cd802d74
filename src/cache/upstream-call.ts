// Runs the route's proxy handler against a FillExchange instead of the client's exchange: the
// same route, path, variables and upstream pool, but a response the cache sees first.
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestContext, RouteHandler } from '../request/context.js';
import { internalError } from '../request/errors.js';
import { RequestVars } from '../request/vars.js';
import { FillExchange, type FillHooks } from './fill-exchange.js';

/** Request fields a cache fill must not pass on: it needs the whole response (RFC 9111 §4.3.1). */
const CONDITIONAL = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range'];

/** The client's request headers without its own conditionals. */
export function fillRequestHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out = { ...headers };
  for (const name of CONDITIONAL) delete out[name];
  return out;
}

export function callUpstream(
  ctx: RequestContext,
  handler: RouteHandler,
  method: string,
  headers: IncomingHttpHeaders,
  maxObject: number,
  hooks: FillHooks,
): FillExchange {
  const ex = new FillExchange(ctx.ex, method, headers, maxObject, hooks);
  const derived = Object.create(ctx, { ex: { value: ex } }) as RequestContext;
  const vars = new RequestVars(derived, ctx.vars);
  const captures = ctx.vars.captures;
  if (captures) vars.captures = captures;
  derived.vars = vars;
  // What the access log of the client's request reports about the upstream.
  ex.onClose(() => {
    if (derived.upstreamAddr !== undefined) ctx.upstreamAddr = derived.upstreamAddr;
    if (derived.upstreamTime !== undefined) ctx.upstreamTime = derived.upstreamTime;
    if (derived.upstreamStatus !== undefined) ctx.upstreamStatus = derived.upstreamStatus;
    if (derived.upstreamHeaders !== undefined) ctx.upstreamHeaders = derived.upstreamHeaders;
    if (derived.upstreamResponseTime !== undefined) ctx.upstreamResponseTime = derived.upstreamResponseTime;
  });
  try {
    const result = handler(derived);
    if (result instanceof Promise) result.catch((err: unknown) => failed(ctx, ex, err));
  } catch (err) {
    failed(ctx, ex, err);
  }
  return ex;
}

/** The fill's own exchange gets the 500: the client's request is answered by the cache from it. */
function failed(ctx: RequestContext, ex: FillExchange, err: unknown): void {
  internalError({ ...ctx, ex }, err, 'cache fill failed');
}
