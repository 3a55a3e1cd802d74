// The per-request path: site by Host, the 421 check, URI normalisation, location, handler.
// Nothing here may throw into the server: one bad request must never take the process down.
import type { Exchange } from '../http/exchange.js';
import { normalizeRequestTarget } from '../http/normalize.js';
import type { Snapshot } from '../snapshot.js';
import { hostOfAuthority } from '../http/authority.js';
import { RequestVars, type RequestContext } from './context.js';
import { headerValue } from '../http/headers.js';
import { sendRedirect, sendStatus } from '../http/respond.js';
import { escapeUriPath } from '../http/uri-bytes.js';
import { recordRequest } from '../admin/metrics.js';

function logAccess(ctx: RequestContext): void {
  const { ex, snap } = ctx;
  if (!snap.accessLog.enabled) return;
  snap.accessLog.log({
    remoteAddr: ex.conn.remoteAddress,
    method: ex.method,
    target: ex.rawTarget,
    protocol: ex.protocol,
    // 499 (nginx's code) when the client left before a response head was sent.
    status: ex.status || 499,
    bytesSent: ex.bytesSent,
    referer: headerValue(ex, 'referer'),
    userAgent: headerValue(ex, 'user-agent'),
    host: ctx.host,
    upstreamAddr: ctx.upstreamAddr,
    upstreamTime: ctx.upstreamTime,
    requestTime: (performance.now() - ex.startedAt) / 1000,
    tlsVersion: ex.conn.tlsVersion,
  });
}

/**
 * The host a request is for: its Host (or :authority), validated (authority.ts); '' for an invalid
 * one, which route() answers with 400. Without any (HTTP/1.0), the TLS name, as nginx serves such
 * a request from the server SNI chose.
 */
function requestHost(ex: Exchange): string {
  if (ex.authority !== undefined) return hostOfAuthority(ex.authority) ?? '';
  const sni = ex.conn.servername;
  return sni === undefined ? '' : (hostOfAuthority(sni) ?? '');
}

/**
 * A request the protocol layer let through but gatehouse refuses (400): see Exchange.malformed,
 * authority.ts. A Host header is validated also when it is not what the request is routed by (an
 * absolute-form target's authority wins, RFC 9112 §3.2.2): nginx's ngx_http_process_host refuses
 * an invalid one whatever the request line said, and it would reach applications as $http_host.
 */
export function refusedRequest(ctx: RequestContext): boolean {
  const { ex } = ctx;
  if (ex.malformed !== undefined || (ex.authority !== undefined && ctx.host === '')) return true;
  const host = ex.headers.host;
  return host !== undefined && host !== ex.authority && hostOfAuthority(host) === undefined;
}

export function createContext(snap: Snapshot, ex: Exchange): RequestContext {
  const host = requestHost(ex);
  // Every field is set here, so that all contexts share one object shape (V8 hidden class): fields
  // added later by the handlers would give each request path a shape of its own.
  const ctx: RequestContext = {
    ex,
    snap,
    host,
    site: snap.table.matchHost(host),
    route: undefined,
    match: undefined,
    path: '/',
    args: '',
    internal: undefined,
    upstreamTarget: undefined,
    upstreamAddr: undefined,
    upstreamStartedAt: undefined,
    upstreamTime: undefined,
    vars: undefined as unknown as RequestVars,
  };
  ctx.vars = new RequestVars(ctx);
  ex.useTimeouts?.(ctx.site.config.timeouts);
  return ctx;
}

/** The context of a new request, logged to the access log when it ends. */
export function startRequest(snap: Snapshot, ex: Exchange): RequestContext {
  const ctx = createContext(snap, ex);
  ex.onClose(() => {
    recordRequest(ctx);
    logAccess(ctx);
  });
  return ctx;
}

export function handleExchange(snap: Snapshot, ex: Exchange): void {
  routeRequest(startRequest(snap, ex));
}

export function routeRequest(ctx: RequestContext): void {
  try {
    route(ctx);
  } catch (err) {
    internalError(ctx, err);
  }
}

function route(ctx: RequestContext): void {
  const { ex, snap } = ctx;
  if (refusedRequest(ctx)) {
    sendStatus(ctx, 400);
    return;
  }
  // RFC 9110 §7.4 / SPEC §4: a connection's certificate must cover the Host it is used for.
  const cert = ex.conn.cert;
  if (cert && ctx.host !== '' && snap.config.origin === 'native' && !cert.covers(ctx.host)) {
    sendStatus(ctx, 421);
    return;
  }
  const target = normalizeRequestTarget(ex.rawTarget);
  if (!target) {
    sendStatus(ctx, 400);
    return;
  }
  ctx.path = target.path;
  ctx.args = target.args;
  runLocation(ctx);
}

/** Picks the location for ctx.path and runs its handler; also used by internal redirects. */
export function runLocation(ctx: RequestContext): void {
  const match = ctx.site.matchLocation(ctx.path);
  if (!match) {
    sendStatus(ctx, 404);
    return;
  }
  if (match.autoRedirect) {
    sendRedirect(ctx, 301, `${escapeUriPath(ctx.path)}/${ctx.args ? `?${ctx.args}` : ''}`);
    return;
  }
  ctx.route = match.route;
  ctx.match = match;
  if (match.captures) (ctx.vars as RequestVars).captures = match.captures;
  const handler = ctx.snap.handlers.get(match.route);
  if (!handler) {
    sendStatus(ctx, 404);
    return;
  }
  const result = handler(ctx);
  if (result instanceof Promise) result.catch((err: unknown) => internalError(ctx, err));
}

function internalError(ctx: RequestContext, err: unknown): void {
  ctx.snap.logger.error(`request failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, {
    uri: ctx.ex.rawTarget,
  });
  try {
    sendStatus(ctx, 500);
  } catch {
    ctx.ex.abort();
  }
}
