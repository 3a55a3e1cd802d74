// Parsing of nginx `location` specifiers (the config checks them, the router compiles them); the
// matching order lives in router/site-locations.ts.

export type LocationKind = 'exact' | 'prefix-no-regex' | 'prefix' | 'regex' | 'regex-ci' | 'named';

export interface CompiledLocation {
  kind: LocationKind;
  /** The path for exact/prefix kinds, the source for regex kinds, the name (without `@`) for named. */
  value: string;
  regex?: RegExp;
}

/** Throws an Error whose message suits a config error line when the location cannot be used. */
export function parseLocation(text: string): CompiledLocation {
  const spec = text.trim();
  const m = /^(=|\^~|~\*|~)\s*(.*)$/s.exec(spec);
  if (spec.startsWith('@')) {
    const name = spec.slice(1);
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`invalid named location "${spec}"`);
    return { kind: 'named', value: name };
  }
  if (m) {
    const modifier = m[1] as '=' | '^~' | '~*' | '~';
    const value = (m[2] ?? '').trim();
    if (value === '') throw new Error(`location "${spec}" has a modifier but no path or pattern`);
    if (modifier === '~' || modifier === '~*') {
      let regex: RegExp;
      try {
        regex = new RegExp(value, modifier === '~*' ? 'i' : '');
      } catch (err) {
        throw new Error(`location regex ${JSON.stringify(value)} does not compile: ${(err as Error).message}`, {
          cause: err,
        });
      }
      return { kind: modifier === '~*' ? 'regex-ci' : 'regex', value, regex };
    }
    if (!value.startsWith('/')) throw new Error(`location path "${value}" must start with "/"`);
    return { kind: modifier === '=' ? 'exact' : 'prefix-no-regex', value };
  }
  if (!spec.startsWith('/')) {
    throw new Error(`location "${spec}" must be a path starting with "/", or use a modifier (=, ^~, ~, ~*) or @name`);
  }
  return { kind: 'prefix', value: spec };
}
