// `headers: { request|response: { set, remove } }` compiled once per config (README "Configuration reference").
import { compileTemplate, type Template } from './variables.js';
import type { VarSource } from './vars-types.js';

/** A `headers:` block's request or response part, as written in the config. */
export interface HeaderOps {
  /** Header name (as written) → value template with nginx variables. An empty value removes. */
  set: Record<string, string>;
  /** Header names to remove. */
  remove: string[];
  /** nginx add_header (response part only): added, not replacing; see http/add-headers.ts. */
  add?: AddHeader[];
}

/** One `add` entry as written: name, value template, and whether it goes on every status. */
export interface AddHeader {
  name: string;
  value: string;
  always: boolean;
}

export interface CompiledHeaderOps {
  set: Array<[string, Template]>;
  remove: string[];
}

/**
 * One route's list, compiled. There is no merging of a site's list with a route's: a route that
 * writes its own `headers.request` or `headers.response` replaces its parent's whole part, as
 * nginx's proxy_set_header and add_header lists are replaced by a location that has any
 * (config/inherit.ts fills in the parent's part when the route has none).
 */
export function compileHeaderOps(ops: HeaderOps | undefined): CompiledHeaderOps | undefined {
  if (!ops) return undefined;
  const set = new Map<string, Template>();
  const remove = new Set<string>();
  for (const name of ops.remove) remove.add(name.toLowerCase());
  for (const [name, value] of Object.entries(ops.set)) {
    set.set(name.toLowerCase(), compileTemplate(value));
    remove.delete(name.toLowerCase());
  }
  if (set.size === 0 && remove.size === 0) return undefined;
  return { set: [...set], remove: [...remove] };
}

/** CR, LF or NUL would end a field and start another (RFC 9110 §5.5). */
const BREAKS_FIELD = /[\r\n\0]/;

/**
 * The value a `set` op gives the header, '' when the op removes it instead: an empty value, as in
 * nginx, and a value that cannot be one field. Only a variable can bring CR/LF (the config refuses
 * them in constant text): `$uri`, `$request_filename`, `$fastcgi_*` and the captures are decoded,
 * so `/a%0d%0aSet-Cookie:...` puts a line break in them. nginx writes such a value as is (its
 * `add_header X $uri` is the classic response splitting, and `proxy_set_header` splits the
 * upstream request); Node refuses it with a throw that the proxy would take for a failure of the
 * upstream server, retried on the next one and counted against each (security review F8).
 */
export function setValue(template: Template, vars: VarSource): string {
  const value = template(vars);
  return template.constant || !BREAKS_FIELD.test(value) ? value : '';
}

/** Applies ops to a header object with lower-case names; see setValue for the values that remove. */
export function applyHeaderOps(
  headers: Record<string, string | string[] | number | undefined>,
  ops: CompiledHeaderOps,
  vars: VarSource,
): void {
  for (const name of ops.remove) delete headers[name];
  for (const [name, template] of ops.set) {
    const value = setValue(template, vars);
    if (value === '') delete headers[name];
    else headers[name] = value;
  }
}
