// nginx's try_files (ngx_http_try_files_module) and internal redirects. Each item but the last is a
// template (`$uri`, `$uri/`, `/pages$uri.html`) tried under the route's root: an item written with a
// final `/` must be a directory, any other a regular file. The first hit becomes the request's `$uri`
// and the route's own handler runs (static files serve it, a proxy forwards it). As in nginx, the
// written `/` is cut before the item is expanded (ngx_http_try_files: test_dir), so `$uri/` finds
// `/dir` as `/dir` and the static handler answers 301 to `/dir/`, while `/dir/` stays `/dir/`. When none hits,
// the last item decides: `=CODE` answers that status, `@name` runs that named route with the URI
// unchanged, and a URI is an internal redirect (location matching runs again with it).
import { compileTemplate, type Template } from '../http/variables.js';
import type { RouteHandler } from '../request/context.js';
import { sendStatus } from '../http/respond.js';
import type { DocumentMap } from './static-alias.js';

type Fallback = { kind: 'status'; status: number } | { kind: 'uri'; uri: Template } | { kind: 'named'; name: string };

interface Item {
  name: Template;
  /** Written with a final "/" (cut from `name`): only a directory matches. */
  dir: boolean;
}

export interface TryFiles {
  items: Item[];
  fallback: Fallback;
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
  const items = list.slice(0, -1).map((item) => {
    const dir = item.endsWith('/');
    return { name: compileTemplate(dir ? item.slice(0, -1) : item), dir };
  });
  return { items, fallback };
}

/** `doc` says which file an item names: under the root, or under the alias (static-alias.ts). */
export function withTryFiles(tf: TryFiles, doc: DocumentMap, handler: RouteHandler): RouteHandler {
  return async (ctx) => {
    for (const item of tf.items) {
      let uri = item.name(ctx.vars);
      if (uri.charCodeAt(0) !== 0x2f) uri = `/${uri}`;
      const rel = doc.tried(ctx, uri);
      if (rel === undefined) continue;
      const r = doc.files.lookup(rel);
      const found = r instanceof Promise ? await r : r;
      const dir = item.dir;
      if (found.kind === (dir ? 'dir' : 'file')) {
        // A hit changes $uri only: nginx neither marks the request internal nor drops the
        // unparsed URI, so a proxy without a URI part still sends the client's request-target
        // (test/integration/nginx-locations.test.ts).
        ctx.path = doc.found(ctx, uri, dir);
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
