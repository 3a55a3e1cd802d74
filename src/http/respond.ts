// Short error and redirect responses. One place maps statuses to bodies; bodies never show internals.
import { STATUS_CODES } from 'node:http';
import { clientCertErrorBody, ERROR_CONTENT_TYPE, errorBody } from './error-body.js';
import type { Exchange, ResponseHeaders } from './exchange.js';

/**
 * nginx's ngx_http_special_response_handler: what answers a status gatehouse generates itself.
 * The request environment provides it (request/error-pages.ts: the route's `errorPages`), and it
 * ends with sendPlain when no page applies.
 */
export interface SpecialResponder {
  special?(ctx: HasExchange, status: number, extra: ResponseHeaders | undefined): void;
  /** `defaults: nginx`: a redirect's Location that starts with "/" made absolute (http/absolute-redirect.ts). */
  absoluteRedirect?(ctx: HasExchange, location: string): string;
}

/** Whatever carries the exchange (a request context), and the environment that may answer for it. */
export interface HasExchange {
  readonly ex: Exchange;
  readonly env?: SpecialResponder;
}

export function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}

/** An error or redirect status: the route's error page when it has one for `status`, else sendPlain. */
export function sendStatus(ctx: HasExchange, status: number, extra?: ResponseHeaders): void {
  const env = ctx.env;
  if (env?.special) env.special(ctx, status, extra);
  else sendPlain(ctx, status, extra);
}

/** The built-in answer (http/error-body.ts), whatever error pages the route has. */
export function sendPlain(ctx: HasExchange, status: number, extra?: ResponseHeaders): void {
  const { ex } = ctx;
  if (ex.headersSent || ex.closed) {
    ex.abort();
    return;
  }
  const headers: ResponseHeaders = { 'content-type': ERROR_CONTENT_TYPE, ...extra };
  // After a malformed request the rest of the connection cannot be trusted (nginx closes too).
  if (status === 400 && ex.protocol !== 'HTTP/2.0') headers.connection = 'close';
  ex.respond(status, headers, errorBody(status));
}

export function sendRedirect(ctx: HasExchange, status: number, location: string): void {
  const absolute = ctx.env?.absoluteRedirect;
  sendStatus(ctx, status, { location: absolute && location.charCodeAt(0) === 0x2f ? absolute(ctx, location) : location });
}

/** 413; over HTTP/1.1 the connection closes, since the unread body would be read as the next request. */
export function refuseBody(ctx: HasExchange): void {
  sendStatus(ctx, 413, ctx.ex.protocol === 'HTTP/2.0' ? undefined : { connection: 'close' });
}

/** issue 19: nginx's 400 for a missing or failing client certificate; the connection closes, as nginx's does. */
export function sendClientCertError(ctx: HasExchange, kind: 'no-cert' | 'cert-error'): void {
  const { ex } = ctx;
  if (ex.headersSent || ex.closed) {
    ex.abort();
    return;
  }
  const headers: ResponseHeaders = { 'content-type': ERROR_CONTENT_TYPE };
  if (ex.protocol !== 'HTTP/2.0') headers.connection = 'close';
  ex.respond(400, headers, clientCertErrorBody(kind));
}
