// What one check of the access phase says about a request, in nginx's terms (its access handlers
// return NGX_OK, NGX_DECLINED, 401/403, or another status that ends the request at once).
import type { ResponseHeaders } from '../http/exchange.js';
import type { RequestContext } from '../request/context.js';

export type Verdict =
  /** NGX_OK: this check lets the request in. */
  | { readonly kind: 'pass' }
  /** NGX_DECLINED: nothing to check here (auth off, no rule matched). */
  | { readonly kind: 'declined' }
  /** 401/403: refused, unless `satisfy: any` and another check passes. */
  | { readonly kind: 'refuse'; readonly status: 401 | 403; readonly headers?: ResponseHeaders }
  /** 500 (and 503 when gatehouse sheds password checks): ends the request whatever `satisfy` says. */
  | { readonly kind: 'fail'; readonly status: number };

export const PASS: Verdict = { kind: 'pass' };
export const DECLINED: Verdict = { kind: 'declined' };
export const FORBIDDEN: Verdict = { kind: 'refuse', status: 403 };
export const INTERNAL_ERROR: Verdict = { kind: 'fail', status: 500 };

/** One check of the access phase (allow/deny, basic auth, forward auth). */
export type AccessCheck = (ctx: RequestContext) => Verdict | Promise<Verdict>;
