// nginx's try_files (ngx_http_try_files_module) and internal redirects. Each item but the last is a
// template (`$uri`, `$uri/`, `/pages$uri.html`) tried under the route's root: an item ending in
// `/` must be a directory, any other a regular file. The first hit becomes the request's `$uri`
// and the route's own handler runs (static files serve it, a proxy forwards it). When none hits,
// the last item decides: `=CODE` answers that status, `@name` runs that named route with the URI
// unchanged, and a URI is an internal redirect (location matching runs again with it).
import { compileTemplate, type Template } from '../http/variables.js';
import type { RouteHandler } from '../snapshot.js';
import type { RequestContext } from './context.js';
import { runLocation } from './dispatch.js';
import { sendStatus } from '../http/respond.js';
import type { Lookup } from './static-files.js';

type Fallback = { kind: 'status'; status: number } | { kind: 'uri'; uri: Template } | { kind: 'named'; name: string };

export interface TryFiles {
  items: Template[];
  fallback: Fallback;
}

/** Anything that can look a path up under the route's root. */
export interface FileLookup {
  lookup(rel: string): Lookup | Promise<Lookup>;
}

/** nginx's NGX_HTTP_MAX_URI_CHANGES: more internal redirects than this is a loop, answered 500. */
const MAX_URI_CHANGES = 10;
const redirects = new WeakMap<RequestContext, number>();

/** The config is validated already (src/config/routes.ts): at least one item, then a fallback. */
export function compileTryFiles(list: readonly string[]): TryFiles {
  const last = list[list.length - 1] as string;
  const code = /^=(\d{3})$/.exec(last);
  const fallback: Fallback = code
    ? { kind: 'status', status: Number(code[1]) }
    : last.startsWith('@')
      ? { kind: 'named', name: last.slice(1) }
      : { kind: 'uri', uri: compileTemplate(last) };
  return { items: list.slice(0, -1).map((item) => compileTemplate(item)), fallback };
}

export function withTryFiles(tf: TryFiles, files: FileLookup, handler: RouteHandler): RouteHandler {
  return async (ctx) => {
    for (const item of tf.items) {
      let uri = item(ctx.vars);
      if (uri.charCodeAt(0) !== 0x2f) uri = `/${uri}`;
      const r = files.lookup(uri);
      const found = r instanceof Promise ? await r : r;
      if (found.kind === (uri.endsWith('/') ? 'dir' : 'file')) {
        if (uri !== ctx.path) {
          ctx.path = uri;
          ctx.internal = true;
        }
        return handler(ctx);
      }
    }
    const fb = tf.fallback;
    if (fb.kind === 'status') sendStatus(ctx, fb.status);
    else if (fb.kind === 'uri') {
      // nginx splits the expanded fallback at `?` (ngx_http_split_args): its args replace the request's.
      const uri = fb.uri(ctx.vars);
      const q = uri.indexOf('?');
      internalRedirect(ctx, q === -1 ? uri : uri.slice(0, q), q === -1 ? ctx.args : uri.slice(q + 1));
    }
    else return runNamed(ctx, fb.name);
  };
}

/** ngx_http_internal_redirect: location matching runs again for the new (decoded) path. */
export function internalRedirect(ctx: RequestContext, path: string, args = ctx.args): void {
  if (!countRedirect(ctx)) return;
  ctx.path = path;
  ctx.args = args;
  ctx.internal = true;
  runLocation(ctx);
}

/** ngx_http_named_location: the `location @name` route handles the request as it stands. */
function runNamed(ctx: RequestContext, name: string): void | Promise<void> {
  if (!countRedirect(ctx)) return;
  const route = ctx.site.named(name);
  const handler = route && ctx.snap.handlers.get(route);
  if (!route || !handler) {
    sendStatus(ctx, 404);
    return;
  }
  ctx.route = route;
  ctx.match = { route };
  return handler(ctx);
}

function countRedirect(ctx: RequestContext): boolean {
  const n = (redirects.get(ctx) ?? 0) + 1;
  redirects.set(ctx, n);
  if (n <= MAX_URI_CHANGES) return true;
  ctx.snap.logger.error('rewrite or internal redirection cycle', { uri: ctx.ex.rawTarget });
  sendStatus(ctx, 500);
  return false;
}
