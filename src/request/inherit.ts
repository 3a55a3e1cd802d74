// issue 17: the keys a route takes from its site unless it sets its own (nginx's merge of a
// location's directives with its server's). The "nest" work replaces this with inheritance done
// once at config load; until then the consumers ask here.
import type { ResponseKeys } from '../config/types.js';
import type { AddHeader } from '../http/header-ops.js';
import type { RequestContext } from './context.js';

type Where = Pick<RequestContext, 'route' | 'site'>;

/** The route's own value, else its site's (also the site's when no location matched). */
export function inherited<K extends keyof ResponseKeys>(ctx: Where, key: K): ResponseKeys[K] {
  return ctx.route?.config[key] ?? ctx.site.config[key];
}

/** `headers.response.add` of the route, else of its site: the list is taken whole, as nginx does. */
export function addHeadersOf(ctx: Where): readonly AddHeader[] | undefined {
  return ctx.route?.config.headers?.response?.add ?? ctx.site.config.headers?.response?.add;
}
