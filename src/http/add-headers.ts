// nginx's add_header (ngx_http_headers_filter): fields added to a response, not replacing those it
// has, and only on the statuses below unless the entry says `always`. An empty value (a variable
// that is empty) adds nothing, as in nginx. Last-Modified and ETag replace the response's own,
// as nginx's handlers for those two names do.
import type { ResponseHeaders } from './exchange.js';
import { setValue, type AddHeader } from './header-ops.js';
import { compileTemplate, type Template } from './variables.js';
import type { VarSource } from './vars-types.js';

/** The statuses add_header (without `always`) and `expires` apply to. */
export const SAFE_STATUSES: ReadonlySet<number> = new Set([200, 201, 204, 206, 301, 302, 303, 304, 307, 308]);

export interface CompiledAddHeader {
  /** Lower-case. */
  name: string;
  value: Template;
  always: boolean;
}

const REPLACING = new Set(['last-modified', 'etag']);

const compiled = new WeakMap<readonly AddHeader[], CompiledAddHeader[]>();

/** Compiled once per config list (configs are immutable; a reload brings new lists). */
export function compileAddHeaders(list: readonly AddHeader[]): CompiledAddHeader[] {
  let out = compiled.get(list);
  if (!out) {
    out = list.map((h) => ({ name: h.name.toLowerCase(), value: compileTemplate(h.value), always: h.always }));
    compiled.set(list, out);
  }
  return out;
}

export function applyAddHeaders(headers: ResponseHeaders, status: number, list: readonly CompiledAddHeader[], vars: VarSource): void {
  const safe = SAFE_STATUSES.has(status);
  for (const h of list) {
    if (!safe && !h.always) continue;
    const value = setValue(h.value, vars);
    if (value === '') continue;
    const had = headers[h.name];
    if (had === undefined || REPLACING.has(h.name)) headers[h.name] = value;
    else headers[h.name] = Array.isArray(had) ? [...had, value] : [String(had), value];
  }
}
