// `headers: { request|response: { set, remove } }` compiled once per config (SPEC §2).
import type { HeaderOps } from '../config/types.js';
import { compileTemplate, type Template } from './variables.js';
import type { VarSource } from './vars-types.js';

export interface CompiledHeaderOps {
  set: Array<[string, Template]>;
  remove: string[];
}

export function compileHeaderOps(...layers: Array<HeaderOps | undefined>): CompiledHeaderOps | undefined {
  const set = new Map<string, Template>();
  const remove = new Set<string>();
  for (const ops of layers) {
    if (!ops) continue;
    // A later layer (route after site) overrides an earlier one for the same header.
    for (const name of ops.remove) {
      remove.add(name.toLowerCase());
      set.delete(name.toLowerCase());
    }
    for (const [name, value] of Object.entries(ops.set)) {
      set.set(name.toLowerCase(), compileTemplate(value));
      remove.delete(name.toLowerCase());
    }
  }
  if (set.size === 0 && remove.size === 0) return undefined;
  return { set: [...set], remove: [...remove] };
}

/** Applies ops to a header object with lower-case names; an empty value removes, as in nginx. */
export function applyHeaderOps(
  headers: Record<string, string | string[] | number | undefined>,
  ops: CompiledHeaderOps,
  vars: VarSource,
): void {
  for (const name of ops.remove) delete headers[name];
  for (const [name, template] of ops.set) {
    const value = template(vars);
    if (value === '') delete headers[name];
    else headers[name] = value;
  }
}
