// issue 17: rewrite — top-level `maps:`, nginx's `map $from $name { ... }` blocks, checked as
// ngx_http_map_block does; and the config-wide declaration of user variables (nginx declares every
// `set`/`map` variable for the whole configuration), done before any template is checked.
import { declareUserVariables } from '../http/variables.js';
import type { Ctx } from './context.js';
import { checkTemplate } from './route-parts.js';
import { compileRegex, declaredVariables, isBuiltin, variableName } from './rewrite.js';
import type { RawConfig, RawMap } from './schema.js';
import type { Path } from './source.js';
import type { MapDefinition } from './types.js';

/** Declares the config's user variables and maps to the templates, then checks the maps. */
export function mapsConfig(ctx: Ctx, raw: RawConfig): MapDefinition[] | undefined {
  const defs: MapDefinition[] = [];
  const entries = raw.maps !== undefined && ctx.shaped(['maps']) ? Object.entries(raw.maps) : [];
  for (const [key, m] of entries) {
    const at: Path = ['maps', key];
    if (!ctx.shaped(at)) continue;
    const name = variableName(key);
    if (name === undefined) {
      ctx.error(at, `map name "${key}" must be a variable: $name (letters, digits, _)`, 'key');
      continue;
    }
    if (isBuiltin(name)) {
      ctx.error(at, `$${name} is one of nginx's own variables; a map needs a name of its own`, 'key');
      continue;
    }
    defs.push(mapDefinition(name, m));
  }
  const users = declaredVariables(raw);
  declareUserVariables(users, defs);
  // The templates are checked once every name is declared: a map may read one declared later.
  const good = defs.filter((def) => checkMap(ctx, ['maps', `$${def.name}`], def, raw.maps?.[`$${def.name}`] as RawMap));
  return good.length > 0 ? good : undefined;
}

function mapDefinition(name: string, m: RawMap): MapDefinition {
  return {
    name,
    from: m.from,
    default: m.default === undefined ? '' : String(m.default),
    hostnames: m.hostnames ?? false,
    values: Object.entries(m.values ?? {}).map(([k, v]) => [k, String(v)] as const),
  };
}

function checkMap(ctx: Ctx, at: Path, def: MapDefinition, raw: RawMap): boolean {
  let ok = ctx.clean([...at, 'from']) && checkTemplate(ctx, [...at, 'from'], def.from);
  if (raw.default !== undefined) ok = checkTemplate(ctx, [...at, 'default'], def.default) && ok;
  for (const [key, value] of def.values) {
    const p = [...at, 'values', key];
    if (!ctx.clean(p)) {
      ok = false;
      continue;
    }
    if (key === 'default') {
      ctx.error(p, 'write the default value as "default:" beside "values:", not inside it', 'key');
      ok = false;
      continue;
    }
    if (key.startsWith('~')) {
      const caseless = key.startsWith('~*');
      try {
        compileRegex(key.slice(caseless ? 2 : 1), caseless);
      } catch (err) {
        ctx.error(p, (err as Error).message, 'key');
        ok = false;
        continue;
      }
    } else if (def.hostnames && key.includes('*') && !/^\*\.[^*]+$/.test(key) && !/^[^*]+\.\*$/.test(key)) {
      ctx.error(p, `hostnames key "${key}" must be like *.example.com, .example.com or mail.* (one * at an end)`, 'key');
      ok = false;
      continue;
    }
    ok = checkTemplate(ctx, p, value) && ok;
  }
  return ok;
}
