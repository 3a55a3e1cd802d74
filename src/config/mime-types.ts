// issue 18: `mimeTypes`, nginx's types and default_type as one section (README "Top level"); the
// runtime side is handler/content-types.ts. nginx's charset is a site and route key (config/charset.ts).
import type { Ctx } from './context.js';
import { list } from './route-parts.js';
import type { RawConfig } from './schema.js';
import type { MimeTypesConfig } from './types.js';

export function mimeTypesConfig(ctx: Ctx, raw: RawConfig['mimeTypes']): MimeTypesConfig | undefined {
  if (raw === undefined || !ctx.shaped(['mimeTypes'])) return undefined;
  let byExtension: Map<string, string> | undefined;
  if (raw.types !== undefined && ctx.clean(['mimeTypes', 'types'])) {
    byExtension = new Map();
    // ngx_http_core_types: an extension named twice takes the later type.
    for (const [type, exts] of Object.entries(raw.types)) for (const ext of list(exts)) byExtension.set(ext.toLowerCase(), type);
  }
  return {
    byExtension,
    defaultType: raw.default !== undefined && ctx.clean(['mimeTypes', 'default']) ? raw.default : 'application/octet-stream',
  };
}
