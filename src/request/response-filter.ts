// issue 17: the response as nginx's header filters shape it, for every answer of a request (file,
// proxied response, return, built-in error page): the status an error page is answered with
// (nginx's r->err_status), `expires`, `headers.response.add` and `charset` of the location that
// answers, and the request as an error page sees it (GET instead of other methods, no body). One
// exchange per request, put in place before any location runs, so the route steps that wrap
// the exchange (compression) see one wrapper however many internal redirects follow.
import type { IncomingHttpHeaders } from 'node:http';
import type { SiteConfig } from '../config/types.js';
import { applyAddHeaders, compileAddHeaders, SAFE_STATUSES } from '../http/add-headers.js';
import { withCharset } from '../http/charset.js';
import type { Exchange, ResponseHeaders } from '../http/exchange.js';
import { applyExpires } from '../http/expires.js';
import type { RequestContext } from './context.js';
import { addHeadersOf, inherited } from './inherit.js';

/** Kept from the error when its page is served (connection: close after 413/400; a 401's challenge). */
const KEPT_FROM_ERROR = ['connection', 'www-authenticate'];
const CONDITIONAL = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'range', 'if-range'];

export class ResponseFilter implements Exchange {
  /** nginx's r->error_page: an error page is being served; another error is answered plainly (recursive_error_pages off). */
  errorPage = false;
  /** The status the page's response goes out with; undefined: the page's own (`=`). */
  errStatus: number | undefined;
  /** Set while a page is served: the page request has no body (and no tunnel). */
  private pageRequest = false;
  private pageMethod: string | undefined;
  private kept: ResponseHeaders | undefined;
  private pageHeaders: IncomingHttpHeaders | undefined;

  constructor(
    readonly inner: Exchange,
    private readonly ctx: RequestContext,
  ) {}

  /**
   * nginx's ngx_http_send_error_page before a URI page: the method becomes GET (HEAD stays HEAD)
   * and the page request carries no body; `toGet` false (a `@name` page) keeps the method.
   */
  startPage(errStatus: number | undefined, extra: ResponseHeaders | undefined, toGet: boolean): void {
    this.errorPage = true;
    this.errStatus = errStatus;
    this.pageRequest = true;
    if (toGet && this.inner.method !== 'HEAD') this.pageMethod = 'GET';
    if (extra) {
      for (const name of KEPT_FROM_ERROR) {
        const v = extra[name];
        if (v !== undefined) (this.kept ??= {})[name] = v;
      }
    }
  }

  get method(): string {
    return this.pageMethod ?? this.inner.method;
  }

  get protocol(): Exchange['protocol'] {
    return this.inner.protocol;
  }
  get rawTarget(): string {
    return this.inner.rawTarget;
  }
  get authority(): string | undefined {
    return this.inner.authority;
  }
  get malformed(): string | undefined {
    return this.inner.malformed;
  }
  get headers(): IncomingHttpHeaders {
    if (!this.pageRequest) return this.inner.headers;
    if (!this.pageHeaders) {
      const h = { ...this.inner.headers };
      delete h['content-length'];
      delete h['transfer-encoding'];
      // nginx's not-modified and range filters act only on a 200: a page sent as 404 is sent whole.
      if (this.errStatus !== undefined && this.errStatus !== 200) for (const name of CONDITIONAL) delete h[name];
      this.pageHeaders = h;
    }
    return this.pageHeaders;
  }
  get conn(): Exchange['conn'] {
    return this.inner.conn;
  }
  get tunnel(): Exchange['tunnel'] {
    return this.pageRequest ? undefined : this.inner.tunnel;
  }
  get body(): Exchange['body'] {
    return this.pageRequest ? undefined : this.inner.body;
  }
  get startedAt(): number {
    return this.inner.startedAt;
  }
  get headersSent(): boolean {
    return this.inner.headersSent;
  }
  get bytesSent(): number {
    return this.inner.bytesSent;
  }
  get status(): number {
    return this.inner.status;
  }
  get closed(): boolean {
    return this.inner.closed;
  }

  respond(status: number, given: ResponseHeaders, body?: string | Buffer): void {
    const ctx = this.ctx;
    const s = this.errStatus ?? status;
    const expires = inherited(ctx, 'expires');
    const add = addHeadersOf(ctx);
    const expiring = expires !== undefined && expires !== 'off' && SAFE_STATUSES.has(s);
    const charset = inherited(ctx, 'charset');
    const type = given['content-type'];
    const typed = charset !== undefined && charset !== 'off' && typeof type === 'string' ? withCharset(charset, s, type) : undefined;
    if (s === status && !this.kept && !expiring && !(add && add.length > 0) && typed === undefined) {
      this.inner.respond(status, given, body);
      return;
    }
    // A copy: the object may be the one a cache fill keeps, which must stay the upstream's.
    const headers = { ...given };
    if (s !== status) {
      // ngx_http_header_filter keeps Last-Modified only on 200/206/304; the range filter sends
      // Accept-Ranges only with 200.
      if (s !== 200 && s !== 206 && s !== 304) delete headers['last-modified'];
      if (s !== 200) delete headers['accept-ranges'];
    }
    if (this.kept) Object.assign(headers, this.kept);
    if (typed !== undefined) headers['content-type'] = typed;
    if (expiring) applyExpires(headers, expires, Date.now());
    if (add && add.length > 0) applyAddHeaders(headers, s, compileAddHeaders(add), ctx.vars);
    this.inner.respond(s, headers, body);
  }
  write(chunk: Buffer): boolean {
    return this.inner.write(chunk);
  }
  end(trailers?: IncomingHttpHeaders): void {
    this.inner.end(trailers);
  }
  onDrain(cb: () => void): void {
    this.inner.onDrain(cb);
  }
  onClose(cb: (aborted: boolean) => void): void {
    this.inner.onClose(cb);
  }
  abort(): void {
    this.inner.abort();
  }
  useTimeouts(timeouts: Parameters<NonNullable<Exchange['useTimeouts']>>[0]): void {
    this.inner.useTimeouts?.(timeouts);
  }
}

const filters = new WeakMap<RequestContext, ResponseFilter>();
const needed = new WeakMap<SiteConfig, boolean>();

/** Whether any location of the site has something for the filter to do. */
function siteNeeds(site: SiteConfig): boolean {
  let v = needed.get(site);
  if (v === undefined) {
    type Keys = Pick<SiteConfig, 'errorPages' | 'expires' | 'headers' | 'charset'> & { routes?: readonly Keys[] | undefined };
    // Nested routes count too: a page or header may be written only on a route inside another.
    const has = (k: Keys): boolean =>
      k.errorPages !== undefined ||
      k.expires !== undefined ||
      (k.headers?.response?.add?.length ?? 0) > 0 ||
      (k.charset !== undefined && k.charset !== 'off') ||
      (k.routes?.some(has) ?? false);
    v = has(site);
    needed.set(site, v);
  }
  return v;
}

/** Puts the request's filter in place when its site uses any of the keys it serves. */
export function installResponseFilter(ctx: RequestContext): void {
  if (!siteNeeds(ctx.site.config) || filters.has(ctx)) return;
  const f = new ResponseFilter(ctx.ex, ctx);
  filters.set(ctx, f);
  ctx.ex = f;
}

export function responseFilterOf(ctx: RequestContext): ResponseFilter | undefined {
  return filters.get(ctx);
}
