// The per-request path: site by Host, the 421 check, URI normalisation, location, handler.
// Nothing here may throw into the server: one bad request must never take the process down.
import { absoluteLocation } from '../http/absolute-redirect.js';
import type { Exchange } from '../http/exchange.js';
import { normalizeRequestTarget } from '../http/normalize.js';
import type { Snapshot } from './types.js';
import { hostOfAuthority } from '../http/authority.js';
import type { RequestContext, RequestEnv } from '../request/context.js';
import { internalError } from '../request/errors.js';
import { special } from '../request/error-pages.js';
import { installResponseFilter } from '../request/response-filter.js';
import { RequestVars } from '../request/vars.js';
import { sendClientCertError, sendRedirect, sendStatus } from '../http/respond.js';
import { sameClientAuth } from '../config/client-auth.js';
import { escapeUriPath } from '../http/uri-bytes.js';
import { recordRequest } from '../observe/metrics.js';
import { serverRewrite } from '../rewrite/index.js';

function logAccess(snap: Snapshot, ctx: RequestContext): void {
  if (!snap.accessLog.enabled) return;
  // nginx access_log: the location's, else the server's, else the http level's (log.access).
  snap.accessLog.log(ctx.vars, ctx.route?.config.accessLog ?? ctx.site.config.accessLog);
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
    env: snap.env,
    host,
    // issue 18: the names and default site of the port the connection came in on.
    site: snap.table.forPort(ex.conn.localPort).matchHost(host),
    route: undefined,
    match: undefined,
    path: '/',
    args: '',
    internal: undefined,
    upstreamTarget: undefined,
    upstreamAddr: undefined,
    upstreamStartedAt: undefined,
    upstreamTime: undefined,
    upstreamStatus: undefined,
    upstreamHeaders: undefined,
    upstreamResponseTime: undefined,
    vars: undefined as unknown as RequestVars,
  };
  // RequestVars reads the context it belongs to, so it is made once the context exists.
  ctx.vars = new RequestVars(ctx);
  ex.useTimeouts?.(ctx.site.config.timeouts);
  return ctx;
}

/** The context of a new request, logged to the access log when it ends. */
export function startRequest(snap: Snapshot, ex: Exchange): RequestContext {
  const ctx = createContext(snap, ex);
  ex.onClose(() => {
    recordRequest(ctx.site, ctx.route, ex);
    logAccess(snap, ctx);
  });
  return ctx;
}

export function handleExchange(snap: Snapshot, ex: Exchange): void {
  routeRequest(snap, startRequest(snap, ex));
}

export function routeRequest(snap: Snapshot, ctx: RequestContext): void {
  try {
    route(snap, ctx);
  } catch (err) {
    internalError(ctx, err);
  }
}

/**
 * A request-level step: answers the request and returns false, or lets it go on. Named after
 * nginx's phases (server/chains.ts); the route's own steps follow find-location there.
 */
interface RequestPhase {
  readonly phase: 'post-read' | 'server-rewrite';
  readonly name: string;
  /** A promise when the step must wait (an `if -f` stat); it resolves to what it would return. */
  run(snap: Snapshot, ctx: RequestContext): boolean | Promise<boolean>;
}

const REQUEST_PHASES: readonly RequestPhase[] = [
  {
    phase: 'post-read',
    // issue 17: error pages, add_header and expires see every answer, the 400s below included.
    name: 'response filter',
    run: (_snap, ctx) => {
      installResponseFilter(ctx);
      return true;
    },
  },
  {
    phase: 'post-read',
    name: 'request validity',
    run: (_snap, ctx) => {
      if (!refusedRequest(ctx)) return true;
      sendStatus(ctx, 400);
      return false;
    },
  },
  {
    phase: 'post-read',
    name: 'certificate covers Host',
    // RFC 9110 §15.5.20: a connection's certificate must cover the Host it is used for (421).
    run: (snap, ctx) => {
      const cert = ctx.ex.conn.cert;
      if (!cert || ctx.host === '' || snap.config.origin !== 'native' || cert.covers(ctx.host)) return true;
      sendStatus(ctx, 421);
      return false;
    },
  },
  {
    phase: 'post-read',
    name: 'client certificate',
    // issue 19: mTLS, after the handshake so that the answer is readable (nginx's ngx_http_process_request).
    run: (_snap, ctx) => {
      const auth = ctx.site.config.tls.clientAuth;
      if (!auth) return true;
      const state = ctx.ex.conn.clientCert;
      if (!ctx.ex.conn.secure) {
        // nginx would serve a plain-HTTP request to such a server unchecked; gatehouse does not.
        sendClientCertError(ctx, 'no-cert');
        return false;
      }
      // The handshake was for a site with other (or no) client certificate settings: a client must
      // not pass a non-mTLS site's SNI, or an HTTP/2 connection coalesced from one, and then name
      // this site by Host (nginx: "client attempted to request the server name different from the one that was negotiated").
      if (!state || !sameClientAuth(auth, state.auth)) {
        sendStatus(ctx, 421);
        return false;
      }
      if (state.verdict === 'ok') return true;
      sendClientCertError(ctx, state.verdict);
      return false;
    },
  },
  {
    phase: 'post-read',
    name: 'URI normalisation',
    run: (_snap, ctx) => {
      const target = normalizeRequestTarget(ctx.ex.rawTarget);
      if (!target) {
        sendStatus(ctx, 400);
        return false;
      }
      ctx.path = target.path;
      ctx.args = target.args;
      return true;
    },
  },
  // issue 17: rewrite — the site's `rewrite:` list; a return there answers before any location.
  { phase: 'server-rewrite', name: 'rewrite', run: (_snap, ctx) => serverRewrite(ctx) },
];

function route(snap: Snapshot, ctx: RequestContext, from = 0): void {
  for (let i = from; i < REQUEST_PHASES.length; i++) {
    const go = REQUEST_PHASES[i]!.run(snap, ctx);
    if (go === true) continue;
    if (go !== false) {
      go.then((ok) => ok && route(snap, ctx, i + 1)).catch((err: unknown) => internalError(ctx, err));
    }
    return;
  }
  // find-location, then the route's phases (server/chains.ts).
  runLocation(snap, ctx);
}

/** Picks the location for ctx.path and runs its handler; also used by internal redirects. */
function runLocation(snap: Pick<Snapshot, 'handlers'>, ctx: RequestContext): void {
  const match = ctx.site.matchLocation(ctx.path);
  // ngx_http_core_find_config_phase: an `internal` location is 404 to a request from outside,
  // before its auto_redirect is considered.
  if (!match || (match.route.config.internal === true && !ctx.internal)) {
    sendStatus(ctx, 404);
    return;
  }
  if (match.autoRedirect) {
    sendRedirect(ctx, 301, `${escapeUriPath(ctx.path)}/${ctx.args ? `?${ctx.args}` : ''}`);
    return;
  }
  ctx.route = match.route;
  ctx.match = match;
  if (match.captures) ctx.vars.captures = match.captures;
  const handler = snap.handlers.get(match.route);
  if (!handler) {
    sendStatus(ctx, 404);
    return;
  }
  const result = handler(ctx);
  if (result instanceof Promise) result.catch((err: unknown) => internalError(ctx, err));
}

/** nginx's NGX_HTTP_MAX_URI_CHANGES: more internal redirects than this is a loop, answered 500. */
const MAX_URI_CHANGES = 10;
const redirects = new WeakMap<RequestContext, number>();

function countRedirect(ctx: RequestContext): boolean {
  const n = (redirects.get(ctx) ?? 0) + 1;
  redirects.set(ctx, n);
  if (n <= MAX_URI_CHANGES) return true;
  ctx.env.logger.error('rewrite or internal redirection cycle', { uri: ctx.ex.rawTarget });
  sendStatus(ctx, 500);
  return false;
}

/** The environment the requests of `snap` run in: its logger and trust, and nginx's internal redirects over its routes. */
export function requestEnv(snap: Omit<Snapshot, 'env'>): RequestEnv {
  const env: RequestEnv = {
    logger: snap.logger,
    trust: snap.trust,
    internalRedirect(ctx, path, args = ctx.args) {
      if (!countRedirect(ctx)) return;
      ctx.path = path;
      ctx.args = args;
      ctx.internal = true;
      runLocation(snap, ctx);
    },
    special,
    runNamed(ctx, name) {
      if (!countRedirect(ctx)) return;
      const route = ctx.site.named(name);
      const handler = route && snap.handlers.get(route);
      if (!route || !handler) {
        sendStatus(ctx, 404);
        return;
      }
      ctx.route = route;
      ctx.match = { route };
      // No `internal` check: nginx's named location skips the find-config phase that makes it.
      return handler(ctx);
    },
  };
  if (snap.config.origin === 'nginx') env.absoluteRedirect = (ctx, location) => absoluteLocation(ctx.ex, ctx.host, location);
  return env;
}
