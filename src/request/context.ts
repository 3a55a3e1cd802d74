// The contract every stage after the router passes along: the request context, the narrow
// environment it gives handlers (not the whole compiled config), and the handler signature.
import type { IncomingHttpHeaders } from 'node:http';
import type { Exchange, ResponseHeaders } from '../http/exchange.js';
import type { TrustCheck } from '../http/trust.js';
import type { Logger } from '../log/types.js';
import type { CompiledRoute, CompiledSite, LocationMatch } from '../router/types.js';
import type { RequestVars } from './vars.js';

/** What code below the server may ask of the configuration a request runs under. */
export interface RequestEnv {
  readonly logger: Logger;
  /** Whether an address is a trusted proxy (X-Forwarded-For, PURGE). */
  readonly trust: TrustCheck;
  /** ngx_http_internal_redirect: location matching runs again for the new (decoded) path. */
  internalRedirect(ctx: RequestContext, path: string, args?: string): void;
  /** ngx_http_named_location: the `location @name` route handles the request as it stands. */
  runNamed(ctx: RequestContext, name: string): void | Promise<void>;
  /**
   * nginx's special response: answers a status gatehouse generates itself, with the location's
   * error page when it has one (request/error-pages.ts). http/respond.ts sendStatus calls it.
   */
  special?(ctx: RequestContext, status: number, extra: ResponseHeaders | undefined): void;
  /** `defaults: nginx`: absolute_redirect, a Location starting with "/" made absolute (http/absolute-redirect.ts). */
  absoluteRedirect?(ctx: RequestContext, location: string): string;
}

/** The request-target a cached route keyed a request on (handler/upstream-target.ts), for the proxy to send. */
export interface UpstreamTarget {
  /** The proxy route's runtime it was computed for (compared by identity). */
  readonly rt: object;
  readonly path: string;
  readonly args: string;
  readonly internal: boolean | undefined;
  readonly target: string;
}

export interface RequestContext {
  /** Route middleware may wrap it (compression); handlers read it from here, never keep their own. */
  ex: Exchange;
  readonly env: RequestEnv;
  /** Host without port, lower-case (http/authority.ts); '' when the client sent none or an invalid one. */
  readonly host: string;
  site: CompiledSite;
  route?: CompiledRoute;
  match?: LocationMatch;
  /** Normalised path and raw args. */
  path: string;
  args: string;
  /** Set by an internal redirect (nginx's r->internal); a tryFiles hit changes only the path. */
  internal?: boolean;
  upstreamTarget?: UpstreamTarget;
  upstreamAddr?: string;
  upstreamStartedAt?: number;
  upstreamTime?: number;
  // issue 17: logs. The upstream response as $upstream_status, $upstream_http_*, $upstream_response_time read it.
  upstreamStatus?: number;
  upstreamHeaders?: IncomingHttpHeaders;
  /** Seconds from the upstream request to the end of its response. */
  upstreamResponseTime?: number;
  vars: RequestVars;
}

/** A route's handler, or a route wrapped by its middleware. */
export type RouteHandler = (ctx: RequestContext) => void | Promise<void>;

/** A route wrapper (rate limit, compression, body limit, cache): undici's dispatch => dispatch. */
export type Middleware = (next: RouteHandler) => RouteHandler;
