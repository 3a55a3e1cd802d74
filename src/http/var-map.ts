// nginx's ngx_http_map_module: `map $from $name { ... }` as a variable computed from another one.
// Lookup order as ngx_http_map_find: exact (case-insensitive, nginx hashes lower-cased keys), then
// with `hostnames` the wildcard forms (`.example.com` / `*.example.com` longest first, then
// `mail.*`), then the regexes in written order, then the default.
import type { VarSource } from './vars-types.js';

/** One `map` block as the loader checked it (config/maps.ts). */
export interface MapDefinition {
  /** The variable it defines, without `$`. */
  readonly name: string;
  /** Template of the source value (`$http_upgrade`). */
  readonly from: string;
  /** Template; nginx's default default is ''. */
  readonly default: string;
  readonly hostnames: boolean;
  /** Keys as written: `~re`, `~*re`, or a string (with `hostnames`, a wildcard form). */
  readonly values: ReadonlyArray<readonly [key: string, value: string]>;
}

type Tpl = (v: VarSource) => string;

export interface CompiledMap {
  /** The map's value for a request. */
  evaluate(v: VarSource): string;
}

interface RegexEntry {
  re: RegExp;
  value: Tpl;
}

/** Compiles a map; `compile` compiles its templates (http/variables.ts), which may name other maps. */
export function compileMap(def: MapDefinition, compile: (source: string) => Tpl): CompiledMap {
  const from = compile(def.from);
  const fallback = compile(def.default);
  const exact = new Map<string, Tpl>();
  const leading: Array<[suffix: string, alsoBare: boolean, value: Tpl]> = [];
  const trailing: Array<[prefix: string, value: Tpl]> = [];
  const regexes: RegexEntry[] = [];
  for (const [key, source] of def.values) {
    const value = compile(source);
    if (key.startsWith('~')) {
      const ci = key.startsWith('~*');
      // PCRE's (?P<name>...) is JS's (?<name>...).
      const source = key.slice(ci ? 2 : 1).replace(/\(\?P</g, '(?<');
      regexes.push({ re: new RegExp(source, ci ? 'i' : ''), value });
      continue;
    }
    const k = key.toLowerCase();
    if (def.hostnames && k.startsWith('*.')) leading.push([k.slice(1), false, value]);
    else if (def.hostnames && k.startsWith('.')) leading.push([k, true, value]);
    else if (def.hostnames && k.endsWith('.*')) trailing.push([k.slice(0, -1), value]);
    else if (!exact.has(k)) exact.set(k, value);
  }
  // ngx_hash_find_wc_head takes the longest matching suffix.
  leading.sort((a, b) => b[0].length - a[0].length);
  trailing.sort((a, b) => b[0].length - a[0].length);
  const hasWild = leading.length > 0 || trailing.length > 0;
  return {
    evaluate(v) {
      let input = from(v);
      // ngx_http_map_variable: a trailing dot of a host name is not part of it.
      if (def.hostnames && input.endsWith('.')) input = input.slice(0, -1);
      const low = input.toLowerCase();
      const hit = exact.get(low);
      if (hit) return hit(v);
      if (hasWild) {
        for (const [suffix, alsoBare, value] of leading) {
          if ((low.endsWith(suffix) && low.length > suffix.length) || (alsoBare && low === suffix.slice(1))) return value(v);
        }
        for (const [prefix, value] of trailing) if (low.startsWith(prefix) && low.length > prefix.length) return value(v);
      }
      for (const { re, value } of regexes) {
        const m = re.exec(input);
        if (!m) continue;
        // The value's $1.. are this regex's captures (nginx sets r->captures from it).
        const saved = v.captures;
        v.captures = m.slice(1).map((c) => c ?? '');
        if (m.groups) for (const [name, c] of Object.entries(m.groups)) v.setUser?.(name, c ?? '');
        try {
          return value(v);
        } finally {
          v.captures = saved;
        }
      }
      return fallback(v);
    },
  };
}
