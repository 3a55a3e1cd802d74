// nginx's `return CODE [TEXT|URL]` as a rewrite step (ngx_http_script_return_code): a redirect
// code sends TEXT as Location, another code sends it as the body, a code of 400 or more without
// text is the usual error answer, and 444 closes the connection without answering.
import { compileTemplate } from '../http/variables.js';
import { sendRedirect, sendStatus } from '../http/respond.js';
import { escapeUriPath, ESCAPE_WIRE } from '../http/uri-bytes.js';
import type { RequestContext } from '../request/context.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function compileReturnStep(status: number, text: string | undefined): (ctx: RequestContext) => void {
  if (status === 444) return (ctx) => ctx.ex.abort();
  const template = text === undefined ? undefined : compileTemplate(text);
  // A Location built from $uri may hold a decoded CR LF (nginx would send it): escaped here.
  if (REDIRECTS.has(status)) return (ctx) => sendRedirect(ctx, status, escapeUriPath(template ? template(ctx.vars) : '', ESCAPE_WIRE));
  if (!template) {
    if (status >= 400 || status < 200 || status === 204 || status === 304) return (ctx) => sendStatus(ctx, status);
    return (ctx) => ctx.ex.respond(status, { 'content-type': 'text/plain; charset=utf-8' }, '');
  }
  return (ctx) => ctx.ex.respond(status, { 'content-type': 'text/plain; charset=utf-8' }, template(ctx.vars));
}
