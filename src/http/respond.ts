// Short error and redirect responses. One place maps statuses to bodies; bodies never show internals.
import { STATUS_CODES } from 'node:http';
import type { Exchange, ResponseHeaders } from './exchange.js';

/** Whatever carries the exchange (a request context); the answer needs nothing else. */
interface HasExchange {
  readonly ex: Exchange;
}

export function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}

export function sendStatus(ctx: HasExchange, status: number, extra?: ResponseHeaders): void {
  const { ex } = ctx;
  if (ex.headersSent || ex.closed) {
    ex.abort();
    return;
  }
  const headers: ResponseHeaders = { 'content-type': 'text/plain; charset=utf-8', ...extra };
  // After a malformed request the rest of the connection cannot be trusted (nginx closes too).
  if (status === 400 && ex.protocol !== 'HTTP/2.0') headers.connection = 'close';
  // 1xx, 204 and 304 carry no body (RFC 9110 §6.4.1).
  const body = status === 204 || status === 304 || status < 200 ? '' : `${status} ${statusText(status)}\n`;
  ex.respond(status, headers, body);
}

export function sendRedirect(ctx: HasExchange, status: number, location: string): void {
  sendStatus(ctx, status, { location });
}

/** 413; over HTTP/1.1 the connection closes, since the unread body would be read as the next request. */
export function refuseBody(ctx: HasExchange): void {
  sendStatus(ctx, 413, ctx.ex.protocol === 'HTTP/2.0' ? undefined : { connection: 'close' });
}
