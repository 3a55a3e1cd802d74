// nginx's try_files (ngx_http_try_files_module) and internal redirects. Each item but the last is a
// template (`$uri`, `$uri/`, `/pages$uri.html`) tried under the route's root: an item written with
// a trailing `/` must be a directory, any other a regular file. It is the item as written that
// decides, not its value (ngx_http_try_files_set sets test_dir from the template): `$uri` for `/`
// is a file test, so an existing root directory is no hit and the fallback runs. The first hit becomes the request's `$uri`
// and the route's own handler runs (static files serve it, a proxy forwards it). When none hits,
// the last item decides: `=CODE` answers that status, `@name` runs that named route with the URI
// unchanged, and a URI is an internal redirect (location matching runs again with it).
import { compileTemplate, type Template } from '../http/variables.js';
import type { RouteHandler } from '../request/context.js';
import { sendStatus } from '../http/respond.js';
import type { DocumentMap } from './static-alias.js';

type Fallback = { kind: 'status'; status: number } | { kind: 'uri'; uri: Template } | { kind: 'named'; name: string };

export interface TryFiles {
  /** `dir`: the item ends in `/` as written, so only a directory is a hit. */
  items: Array<{ value: Template; dir: boolean }>;
  fallback: Fallback;
}

/**
 * The config is validated already (src/config/routes.ts): at least one item, then a fallback.
 * `style` nginx: a directory item is tested, and becomes $uri, without its trailing "/"
 * (ngx_http_try_files_set), so `/dir` then gets the static 301 to `/dir/`; native keeps the "/"
 * and serves the directory's index at once.
 */
export function compileTryFiles(list: readonly string[], style: 'native' | 'nginx' = 'native'): TryFiles {
  const last = list[list.length - 1] as string;
  const code = /^=(\d{3})$/.exec(last);
  const fallback: Fallback = code
    ? { kind: 'status', status: Number(code[1]) }
    : last.startsWith('@')
      ? { kind: 'named', name: last.slice(1) }
      : { kind: 'uri', uri: compileTemplate(last) };
  const items = list.slice(0, -1).map((item) => {
    const dir = item.endsWith('/');
    return { value: compileTemplate(dir && style === 'nginx' ? item.slice(0, -1) : item), dir };
  });
  return { items, fallback };
}

/** `doc` says which file an item names: under the root, or under the alias (static-alias.ts). */
export function withTryFiles(tf: TryFiles, doc: DocumentMap, handler: RouteHandler): RouteHandler {
  return async (ctx) => {
    for (const { value, dir } of tf.items) {
      let uri = value(ctx.vars);
      if (uri.charCodeAt(0) !== 0x2f) uri = `/${uri}`;
      const rel = doc.tried(ctx, uri);
      if (rel === undefined) continue;
      const r = doc.files.lookup(rel);
      const found = r instanceof Promise ? await r : r;
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
