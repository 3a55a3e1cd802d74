// nginx's `charset` and `charset_types` as the `charset` and `charsetTypes` keys of a site or a
// route (README "Routes"). Each is inherited on its own (config/inherit.ts), as nginx merges the
// two directives separately; the route's pair is made into one rule here, once, for http/charset.ts.
import type { Ctx } from './context.js';
import type { RawResponseKeys } from './schema.js';
import type { Path } from './source.js';
import { DEFAULT_CHARSET_TYPES, type CharsetConfig } from '../http/charset.js';

// RFC 9110 §5.6.2 token: a charset parameter's value as gatehouse writes it (unquoted).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const MEDIA_TYPE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\/[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function charsetConfig(ctx: Ctx, at: Path, raw: Pick<RawResponseKeys, 'charset' | 'charsetTypes'>): CharsetConfig | undefined {
  const typesAt = [...at, 'charsetTypes'];
  let types: ReadonlySet<string> | '*' = new Set(DEFAULT_CHARSET_TYPES);
  if (raw.charsetTypes !== undefined && ctx.clean(typesAt)) {
    const items = typeof raw.charsetTypes === 'string' ? [raw.charsetTypes] : raw.charsetTypes;
    items.forEach((t, i) => {
      if (t !== '*' && !MEDIA_TYPE.test(t)) ctx.error(typeof raw.charsetTypes === 'string' ? typesAt : [...typesAt, i], `"${t}" is not a media type like text/html (or * for all)`);
    });
    // ngx_http_types_slot: `*` anywhere means every type; the others are matched in lower case.
    types = items.includes('*') ? '*' : new Set(items.map((t) => t.toLowerCase()));
  }
  const nameAt = [...at, 'charset'];
  if (raw.charset === undefined || !ctx.clean(nameAt)) return undefined;
  const name = raw.charset;
  // ngx_http_set_charset_slot compares with "off" case-sensitively: `OFF` would be a charset name.
  if (name === 'off') return 'off';
  if (name.startsWith('$')) {
    ctx.error(nameAt, `charset "${name}": a charset from a variable is not supported; write the name, like utf-8`);
    return undefined;
  }
  if (!TOKEN.test(name)) {
    ctx.error(nameAt, `charset "${name}" is not a charset name like utf-8 (letters, digits and !#$%&'*+-.^_\`|~)`);
    return undefined;
  }
  return { suffix: `; charset=${name}`, types };
}
