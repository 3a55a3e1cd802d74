// The precompiled config validator (scripts/gen-schema-validator.mjs) as a classic script run with its
// V8 code cache: an ES module cannot be given a code cache on Node 20, and parsing and compiling the
// 300 kB validator was a tenth of `gatehouse check`. A cache that V8 rejects (another Node version,
// other V8 flags, a changed script) costs only the compile it was meant to save.
import fs from 'node:fs';
import vm from 'node:vm';
import type { ValidateFunction } from 'ajv';
import ucs2length from 'ajv/dist/runtime/ucs2length.js';
import { unitValid } from './unit-check.js';

/** ajv's runtime helpers the generated code may use, by the name it is given (the generator checks). */
export const VALIDATOR_RUNTIME: Record<string, unknown> = { ucs2length: commonJsDefault(ucs2length) };

/** A CommonJS module's `exports.default`: Node's ES loader gives the exports object, tsx and esbuild the member. */
function commonJsDefault(imported: unknown): unknown {
  return typeof imported === 'function' ? imported : (imported as { default: unknown }).default;
}

export interface ValidatorScript {
  validate: ValidateFunction;
  script: vm.Script;
  /** True when a cache was given and V8 took it. */
  cached: boolean;
}

/** Loads `file` (…script.js) with `…cache` beside it when present. */
export function loadValidatorScript(file: string): ValidatorScript {
  const cacheFile = file.replace(/\.script\.js$/, '.cache');
  const cachedData = fs.existsSync(cacheFile) ? fs.readFileSync(cacheFile) : undefined;
  const source = fs.readFileSync(file, 'utf8');
  const script = new vm.Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
  const factory = script.runInThisContext() as (...args: unknown[]) => ValidateFunction;
  const params = /^\(function \(([^)]*)\)/.exec(source)?.[1]?.split(', ') ?? [];
  const args = params.map((name) => (name === 'module' ? { exports: {} } : name === 'unitValid' ? unitValid : VALIDATOR_RUNTIME[name]));
  return { validate: factory(...args), script, cached: cachedData !== undefined && !script.cachedDataRejected };
}

/** The code cache after one validation of a small config and of a broken one, so both paths are compiled. */
export function warmValidatorCache(v: ValidatorScript): Buffer {
  v.validate({ listen: { https: 8443 }, sites: [{ hosts: ['a.test'], routes: [{ location: '/', proxy: 'http://127.0.0.1:1' }] }] });
  v.validate({ listen: { https: 'x' }, sites: [{ hosts: [], tls: 'acm', routes: [{ location: 1 }] }] });
  return v.script.createCachedData();
}
