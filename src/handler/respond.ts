// Short error and redirect responses. One place maps statuses to bodies; bodies never show internals.
import { STATUS_CODES } from 'node:http';
import type { RequestContext } from './context.js';
import type { ResponseHeaders } from '../listener/exchange.js';

export function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}

export function sendStatus(ctx: Pick<RequestContext, 'ex'>, status: number, extra?: ResponseHeaders): void {
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

export function sendRedirect(ctx: Pick<RequestContext, 'ex'>, status: number, location: string): void {
  sendStatus(ctx, status, { location });
}
