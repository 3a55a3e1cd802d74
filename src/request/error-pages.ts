// issue 17: `errorPages` (nginx error_page, ngx_http_special_response_handler and
// ngx_http_send_error_page). Every status gatehouse answers by itself goes through special():
// the location's page for that status when it has one, else the built-in page (http/respond.ts
// sendPlain). A URI page is an internal redirect (as GET, HEAD staying HEAD); `@name` runs that
// named location; a URL is a redirect (302, or the `=CODE` given if it is a redirect status).
// `=CODE` answers the page with CODE, `=` with the page's own status, nothing with the error's.
// An error while a page is served is answered plainly (nginx's recursive_error_pages off), and
// the internal redirect counts towards the 10 URI changes of a request (server/dispatch.ts).
import type { ErrorPageConfig, ErrorPagesConfig } from '../config/types.js';
import type { ResponseHeaders } from '../http/exchange.js';
import { sendPlain } from '../http/respond.js';
import { compileTemplate, type Template } from '../http/variables.js';
import type { RequestContext } from './context.js';
import { internalError } from './errors.js';
import { inherited } from './inherit.js';
import { responseFilterOf } from './response-filter.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const BREAKS_FIELD = /[\r\n\0]/;

interface CompiledPage {
  overwrite: number | undefined;
  target: Template;
}

const compiled = new WeakMap<ErrorPageConfig, CompiledPage>();

function compilePage(page: ErrorPageConfig): CompiledPage {
  let c = compiled.get(page);
  if (!c) {
    c = { overwrite: page.overwrite, target: compileTemplate(page.target) };
    compiled.set(page, c);
  }
  return c;
}

function pagesOf(ctx: RequestContext): ErrorPagesConfig | undefined {
  return inherited(ctx, 'errorPages');
}

/**
 * Whether the request's location has a page for `status` (nginx's proxy_intercept_errors test).
 * Never inside a cache fill (cache/upstream-call.ts runs the proxy on a context of its own): what
 * is stored is the upstream's answer, not a page.
 */
export function hasErrorPage(ctx: RequestContext, status: number): boolean {
  return responseFilterOf(ctx) !== undefined && pagesOf(ctx)?.[status] !== undefined;
}

/** Answers `status` for a request: its location's error page, or the built-in page. */
export function special(ctx: RequestContext, status: number, extra: ResponseHeaders | undefined): void {
  const filter = responseFilterOf(ctx);
  const pages = pagesOf(ctx);
  if (!filter || filter.errorPage || !pages || status < 300 || ctx.ex.headersSent || ctx.ex.closed) {
    plain(ctx, status, extra);
    return;
  }
  // Set as soon as the location has error pages, whether or not one is for this status (nginx).
  filter.errorPage = true;
  const config = pages[status];
  if (!config) {
    plain(ctx, status, extra);
    return;
  }
  const page = compilePage(config);
  const uri = page.target(ctx.vars);
  const errStatus = page.overwrite === undefined ? status : page.overwrite === 0 ? undefined : page.overwrite;
  if (uri.startsWith('/')) {
    filter.startPage(errStatus, extra, true);
    // ngx_http_split_args: a `?` in the page's URI gives the page request its own args.
    const q = uri.indexOf('?');
    ctx.env.internalRedirect(ctx, q === -1 ? uri : uri.slice(0, q), q === -1 ? '' : uri.slice(q + 1));
    return;
  }
  if (uri.startsWith('@')) {
    filter.startPage(errStatus, extra, false);
    const r = ctx.env.runNamed(ctx, uri.slice(1));
    if (r instanceof Promise) r.catch((err: unknown) => internalError(ctx, err));
    return;
  }
  // A Location from a decoded variable ($uri) may hold a line break: nginx would send it (response
  // splitting); gatehouse answers the error plainly instead.
  if (BREAKS_FIELD.test(uri)) {
    plain(ctx, status, extra);
    return;
  }
  const code = page.overwrite !== undefined && REDIRECTS.has(page.overwrite) ? page.overwrite : 302;
  plain(ctx, code, { ...keep(extra), location: uri });
}

function keep(extra: ResponseHeaders | undefined): ResponseHeaders | undefined {
  return extra?.connection === undefined ? undefined : { connection: extra.connection };
}

/** nginx's special response sets r->err_status anew: a page's `=CODE` does not apply to it. */
function plain(ctx: RequestContext, status: number, extra: ResponseHeaders | undefined): void {
  const filter = responseFilterOf(ctx);
  if (filter) filter.errStatus = undefined;
  sendPlain(ctx, status, extra);
}
