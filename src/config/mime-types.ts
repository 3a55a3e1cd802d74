// issue 18: `mimeTypes`, nginx's types, default_type, charset and charset_types as one section
// (README "Top level"); the runtime side is handler/content-types.ts.
import type { Ctx } from './context.js';
import { list } from './route-parts.js';
import type { RawConfig } from './schema.js';
import type { MimeTypesConfig } from './types.js';

/** nginx's charset_types default (ngx_http_charset_default_types). */
const CHARSET_TYPES = ['text/html', 'text/xml', 'text/plain', 'text/vnd.wap.wml', 'application/javascript', 'application/rss+xml'];

export function mimeTypesConfig(ctx: Ctx, raw: RawConfig['mimeTypes']): MimeTypesConfig | undefined {
  if (raw === undefined || !ctx.shaped(['mimeTypes'])) return undefined;
  let byExtension: Map<string, string> | undefined;
  if (raw.types !== undefined && ctx.clean(['mimeTypes', 'types'])) {
    byExtension = new Map();
    // ngx_http_core_types: an extension named twice takes the later type.
    for (const [type, exts] of Object.entries(raw.types)) for (const ext of list(exts)) byExtension.set(ext.toLowerCase(), type);
  }
  const out: MimeTypesConfig = {
    byExtension,
    defaultType: raw.default !== undefined && ctx.clean(['mimeTypes', 'default']) ? raw.default : 'application/octet-stream',
    charsetTypes: new Set(raw.charsetTypes !== undefined && ctx.clean(['mimeTypes', 'charsetTypes']) ? list(raw.charsetTypes) : CHARSET_TYPES),
  };
  if (raw.charset !== undefined && ctx.clean(['mimeTypes', 'charset'])) out.charset = raw.charset;
  return out;
}
