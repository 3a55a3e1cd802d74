// From a request URI to the file it names: `root` puts the folder before the whole URI, `alias`
// replaces the location's part of it (ngx_http_map_uri_to_path, ngx_http_try_files_handler).
//
// - prefix/exact location + alias: file = alias + the URI after the location's name. A nested
//   route that inherits the alias strips its parent's name (nginx's clcf->alias is a length).
// - regex location + alias: file = the alias with the captures filled in; the URI is not added,
//   except after a try_files hit, where nginx sets r->add_uri_to_alias and the file is the alias
//   followed by the URI that was found.
//
// nginx builds the name by pasting bytes, so `location /x` + `alias /dir/` turns `/x../secret`
// into /dir/../secret, a file outside the alias (the "off-by-slash" hole). Here every name is cut
// into a fixed folder (StaticFiles' root: the alias' folder, or for an alias with variables the
// part before the first variable) and a rest that StaticFiles checks segment by segment: a `..`
// or dotted segment is not found, and symlinks must stay inside that folder. `check` warns about
// the mismatched slash (config/warnings.ts).
import type { AliasConfig } from '../config/types.js';
import type { RequestContext } from '../request/context.js';
import { addUriToAlias, uriAddedToAlias } from '../request/alias-uri.js';
import type { Template } from '../http/variables.js';
import { StaticFiles, type SymlinkPolicy } from './static-files.js';
import type { ContentTypes } from './content-types.js';

/** How one route's URIs name files. */
export interface DocumentMap {
  files: StaticFiles;
  /** The file for the request's current URI, relative to files' root; undefined: not found. */
  file(ctx: RequestContext): string | undefined;
  /** try_files: the file a tried item names, relative to files' root; undefined: not found. */
  tried(ctx: RequestContext, item: string): string | undefined;
  /** try_files: the request's URI once `item` was found (a directory when `dir`). */
  found(ctx: RequestContext, item: string, dir: boolean): string;
}

/** `root`: the URI is the file name under the root. */
export function rootMap(files: StaticFiles): DocumentMap {
  return {
    files,
    file: (ctx) => ctx.path,
    tried: (_ctx, item) => item,
    found: (_ctx, item) => item,
  };
}

/** Splits an absolute name into StaticFiles' root (a folder) and the rest, which starts with "/". */
function split(fixed: string): { dir: string; base: string } {
  const slash = fixed.lastIndexOf('/');
  return { dir: slash <= 0 ? '/' : fixed.slice(0, slash), base: fixed.slice(slash) };
}

/** `dir`'s rest of an absolute name, or undefined when the name is not under `dir`. */
function under(dir: string, name: string): string | undefined {
  if (dir === '/') return name.startsWith('/') ? name : undefined;
  return name.startsWith(`${dir}/`) ? name.slice(dir.length) : undefined;
}

/**
 * `template` is the compiled alias when it holds variables (router/site-locations.ts); the
 * captures are those of the request's location match.
 */
export function aliasMap(alias: AliasConfig, template: Template | undefined, symlinks: SymlinkPolicy, types?: ContentTypes): DocumentMap {
  const loc = alias.location;
  if (loc.kind !== 'regex' && loc.kind !== 'regex-ci') {
    const { dir, base } = split(alias.path);
    const files = new StaticFiles(dir, symlinks, types);
    const name = loc.value;
    const rest = (uri: string): string => (uri.startsWith(name) ? uri.slice(name.length) : uri);
    return {
      files,
      file: (ctx) => (ctx.path.startsWith(name) ? base + ctx.path.slice(name.length) : undefined),
      tried: (_ctx, item) => base + rest(item),
      found: (_ctx, item) => name + rest(item),
    };
  }
  // The folder is the alias up to its last "/" before the first variable.
  const cut = template ? alias.path.indexOf('$') : alias.path.length;
  const { dir } = split(alias.path.slice(0, cut));
  const files = new StaticFiles(dir, symlinks, types);
  const value = (ctx: RequestContext): string => (template ? template(ctx.vars) : alias.path);
  return {
    files,
    file: (ctx) => under(dir, uriAddedToAlias(ctx) ? value(ctx) + ctx.path : value(ctx)),
    tried: (ctx, item) => under(dir, value(ctx) + item),
    found: (ctx, item, isDir) => {
      // ngx_http_try_files_handler: a directory hit keeps the URI, a file hit becomes it and is
      // then read as alias + URI.
      if (isDir) return ctx.path;
      addUriToAlias(ctx, item);
      return item;
    },
  };
}
