// nginx's try_files (ngx_http_try_files_module) and internal redirects. Each item but the last is a
// template (`$uri`, `$uri/`, `/pages$uri.html`) tried under the route's root: an item ending in
// `/` must be a directory, any other a regular file. The first hit becomes the request's `$uri`
// and the route's own handler runs (static files serve it, a proxy forwards it). When none hits,
// the last item decides: `=CODE` answers that status, `@name` runs that named route with the URI
// unchanged, and a URI is an internal redirect (location matching runs again with it).
import { compileTemplate, type Template } from '../http/variables.js';
import type { RouteHandler } from '../request/context.js';
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
      ctx.env.internalRedirect(ctx, q === -1 ? uri : uri.slice(0, q), q === -1 ? ctx.args : uri.slice(q + 1));
    }
    else return ctx.env.runNamed(ctx, fb.name);
  };
}
