// Nested routes and `alias`: the rules nginx applies at config load (ngx_http_core_location and
// ngx_http_core_root), with its messages where it has one.
import { checkTemplate } from './route-parts.js';
import type { Ctx } from './context.js';
import type { CompiledLocation } from './location-spec.js';
import type { RawRoute } from './schema.js';
import type { Path } from './source.js';
import type { AliasConfig } from './types.js';

/**
 * Why `child` cannot be nested in `parent`, or undefined. A nested static location must lie
 * inside its parent's prefix, compared with the parent's name as written (so under a regex
 * parent only regexes can nest); regexes may nest in any prefix or regex location.
 */
export function nestingProblem(parent: CompiledLocation, parentText: string, child: CompiledLocation, childText: string): string | undefined {
  if (child.kind === 'named') return `named location "${childText}" can be on site level only`;
  if (parent.kind === 'exact') return `location "${childText}" cannot be inside the exact location "${parentText}"`;
  if (parent.kind === 'named') return `location "${childText}" cannot be inside the named location "${parentText}"`;
  if (child.kind === 'regex' || child.kind === 'regex-ci') return undefined;
  if (!child.value.startsWith(parent.value)) return `location "${childText}" is outside location "${parentText}"`;
  return undefined;
}

/**
 * `alias` (a route's own). In a prefix or exact location it replaces the location's name (the
 * part of the path the location matched) and may not hold variables; in a regex location it is
 * the whole file name and usually holds the captures (`/home/$1/www/$2`).
 */
export function aliasConfig(ctx: Ctx, at: Path, own: RawRoute, loc: CompiledLocation | undefined): AliasConfig | undefined {
  const where = [...at, 'alias'];
  if (!ctx.clean(where) || !loc) return undefined;
  const text = (own.alias as string).trim();
  if (own.root !== undefined) {
    ctx.error(where, 'a route has root or alias, not both (alias replaces the location\'s part of the path, root is put before the whole path)');
    return undefined;
  }
  if (loc.kind === 'named') {
    ctx.error(where, 'alias cannot be used in a named location');
    return undefined;
  }
  const regex = loc.kind === 'regex' || loc.kind === 'regex-ci';
  if (text.includes('$')) {
    if (!regex) {
      ctx.error(where, 'alias with variables is only supported in a regex location (use the captures: alias: /home/$1/www/$2)');
      return undefined;
    }
    if (!checkTemplate(ctx, where, text)) return undefined;
    if (!text.startsWith('/')) {
      ctx.error(where, 'an alias with variables must be an absolute path (start with "/")');
      return undefined;
    }
    return { path: text, location: loc };
  }
  // path.resolve drops a trailing slash, which is part of what alias means.
  const abs = ctx.resolve(text);
  return { path: text.endsWith('/') && abs !== '/' ? `${abs}/` : abs, location: loc };
}

/** Every route of a list and its nested routes (parents first), with the path each is written at. */
export function* allRoutes<R extends { routes?: R[] | undefined }>(routes: readonly R[] | undefined, at: Path): Generator<{ route: R; at: Path }> {
  if (!Array.isArray(routes)) return;
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i];
    if (route === undefined || route === null || typeof route !== 'object') continue;
    const here = [...at, 'routes', i];
    yield { route, at: here };
    yield* allRoutes(route.routes, here);
  }
}
