// nginx's types and default_type → the top-level `mimeTypes` section. gatehouse has one table for
// the whole config, so these are read at http level (where `include mime.types;` and
// `default_type` stand in Debian's nginx.conf); elsewhere they warn. charset and charset_types are
// inherited settings of every level (settings.ts).
import type { RawConfig } from '../../schema.js';
import type { NginxDirective } from '../ast.js';
import type { AdaptCtx } from './context.js';

type RawMimeTypes = NonNullable<RawConfig['mimeTypes']>;

const NAMES = new Set(['types', 'default_type']);

/** nginx's table when a config has no `types` (ngx_http_core_default_types). */
const NGINX_DEFAULT_TYPES: Record<string, string[]> = { 'text/html': ['html'], 'image/gif': ['gif'], 'image/jpeg': ['jpg'] };

/** Reads one http-level directive into `mime`; false when it is not one of these. */
export function readMimeDirective(ctx: AdaptCtx, mime: RawMimeTypes, d: NginxDirective): boolean {
  if (!NAMES.has(d.name)) return false;
  switch (d.name) {
    case 'types': {
      ctx.args(d, 0);
      // ngx_http_core_types: blocks of one level add up; an extension named again takes the later type.
      const byExt = new Map<string, string>();
      for (const [type, exts] of Object.entries(mime.types ?? {})) for (const e of [exts].flat()) byExt.set(e, type);
      for (const line of d.block ?? []) {
        if (line.args.length === 0) ctx.error(line.pos, 'invalid number of arguments in "types" directive');
        for (const a of line.args) byExt.set(a.text.toLowerCase(), line.name);
      }
      const types: Record<string, string[]> = {};
      for (const [ext, type] of byExt) (types[type] ??= []).push(ext);
      mime.types = types;
      return true;
    }
    case 'default_type':
      mime.default = ctx.args(d, 1)[0]!.text;
      return true;
  }
  return false;
}

/** The section as written: nginx's own defaults where the config is silent (default_type text/plain). */
export function finishMime(mime: RawMimeTypes): RawMimeTypes {
  return { types: mime.types ?? NGINX_DEFAULT_TYPES, default: mime.default ?? 'text/plain' };
}

/** In a server or location: gatehouse's table is one for the whole config. */
export function mimeOutsideHttp(ctx: AdaptCtx, d: NginxDirective, level: string): boolean {
  if (!NAMES.has(d.name)) return false;
  ctx.warn(d.pos, `"${d.name}" in a ${level} has no effect: gatehouse reads types and default_type at http level only (one table for the whole config); move it to the http block`);
  return true;
}
