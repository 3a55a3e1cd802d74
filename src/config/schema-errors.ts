// Runs the schema and turns ajv's errors into issues a person can act on, at the position of the
// offending key or value in the file.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { configSchema } from './schema.js';
import type { ConfigSource, Path } from './source.js';
import { didYouMean } from './suggest.js';
import type { ConfigIssue } from './types.js';
import { unitError } from './unit-check.js';
import { loadValidatorScript } from './validator-script.js';

/**
 * The build's precompiled validator (dist/), else (running from source, the unit tests) one compiled
 * now. Loaded on first use and synchronously, so that this module has no top-level await: the short
 * commands' CommonJS bundle (scripts/bundle.mjs) cannot hold one.
 */
let loaded: ValidateFunction | undefined;
function validator(): ValidateFunction {
  return (loaded ??= loadValidator());
}

function loadValidator(): ValidateFunction {
  const generated = fileURLToPath(new URL('./schema-validator.script.js', import.meta.url));
  if (fs.existsSync(generated)) return loadValidatorScript(generated).validate;
  // Source mode only: ajv's compile is what the build's validator spares `check`, so ajv is not
  // imported statically (the bundles would load it on every start).
  const { schemaAjv } = createRequire(import.meta.url)('./schema-ajv.js') as typeof import('./schema-ajv.js');
  return schemaAjv().compile(configSchema);
}

export interface SchemaResult {
  issues: ConfigIssue[];
  /** Paths the schema rejected; semantic checks leave them (and what is around them) alone. */
  rejected: Path[];
}

export function checkSchema(value: unknown, source: ConfigSource): SchemaResult {
  const validate = validator();
  if (validate(value)) return { issues: [], rejected: [] };
  const issues: ConfigIssue[] = [];
  const rejected: Path[] = [];
  const chosen = select(validate.errors ?? []);
  // A value of the wrong type also fails its enum/unit/pattern; the type error alone says it.
  const mistyped = new Set(chosen.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  for (const e of chosen) {
    if (e.keyword !== 'type' && mistyped.has(e.instancePath)) continue;
    const d = describe(e);
    rejected.push(d.reject);
    issues.push({ pos: d.where === 'key' ? source.keyPos(d.at) : source.pos(d.at), message: d.message, severity: 'error' });
  }
  return { issues, rejected };
}

/**
 * With `allErrors`, a failed `anyOf` brings the errors of every branch. When a branch had the right
 * type (say `tls: acm` against the string branch), its errors are the precise ones; when none had,
 * one "must be ..." for the whole value reads better than a list of what each branch wanted.
 */
function select(errors: ErrorObject[]): ErrorObject[] {
  const consumed = new Set<ErrorObject>();
  const out: ErrorObject[] = [];
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf').sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const a of anyOfs) {
    if (consumed.has(a)) continue;
    consumed.add(a);
    const branches = new Map<string, ErrorObject[]>();
    for (const e of errors) {
      if (e === a || !e.schemaPath.startsWith(`${a.schemaPath}/`) || !within(e.instancePath, a.instancePath)) continue;
      consumed.add(e);
      const branch = e.schemaPath.slice(a.schemaPath.length + 1).split('/')[0] ?? '';
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    const typed = [...branches.values()].filter(
      (errs) => !errs.some((e) => e.keyword === 'type' && e.instancePath === a.instancePath),
    );
    const best = typed.sort((x, y) => x.length - y.length)[0];
    out.push(...(best ? select(best) : [a]));
  }
  for (const e of errors) if (!consumed.has(e)) out.push(e);
  return out;
}

/** Errors of one `anyOf` are those of the same value: the same schema path alone is every list item. */
function within(pointer: string, parent: string): boolean {
  return pointer === parent || pointer.startsWith(`${parent}/`);
}

interface Described {
  at: Path;
  where: 'value' | 'key';
  reject: Path;
  message: string;
}

function describe(e: ErrorObject): Described {
  const path = pointerToPath(e.instancePath);
  const parent = (e.parentSchema ?? {}) as { expect?: string; properties?: Record<string, unknown> };
  const subject = label(path) || 'the config';
  const expect = parent.expect;
  const p = e.params as Record<string, unknown>;
  const value = (message: string, at: Path = path): Described => ({ at, where: 'value', reject: at, message });
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const at = [...path, key];
      const hint = didYouMean(key, Object.keys(parent.properties ?? {}));
      return { at, where: 'key', reject: at, message: `unknown key "${key}"${hint}` };
    }
    case 'required': {
      const key = String(p.missingProperty);
      const where = path.length > 0 ? ` in ${subject}` : '';
      return { at: path, where: 'value', reject: [...path, key], message: `missing required key "${key}"${where}` };
    }
    case 'type':
      return value(`${subject} must be ${expect ?? typeWords(String(p.type))}`);
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map(String);
      return value(`${subject} must be ${expect ?? alternatives(allowed)}${didYouMean(String(e.data), allowed)}`);
    }
    case 'minItems': {
      const n = Number(p.limit);
      return value(n === 1 ? `${subject} must not be empty` : `${subject} needs at least ${n} items${expect ? ` (${expect})` : ''}`);
    }
    case 'minLength':
      return value(`${subject} must not be empty`);
    case 'minimum':
      return value(`${subject} must be at least ${String(p.limit)}`);
    case 'maximum':
      return value(`${subject} must be at most ${String(p.limit)}`);
    case 'uniqueItems': {
      const later = Math.max(Number(p.i), Number(p.j));
      const item = (e.data as unknown[])[later];
      return value(`${subject} lists ${JSON.stringify(item)} twice`, [...path, later]);
    }
    case 'pattern':
      return value(`${subject} must be ${expect ?? `like /${String(p.pattern)}/`}`);
    case 'unit':
      return value(`${subject}: ${unitError(String(e.schema), e.data) ?? `must be ${expect ?? 'valid'}`}`);
    case 'anyOf':
      return value(`${subject} must be ${expect ?? 'one of the allowed forms'}`);
    default:
      return value(`${subject} ${e.message ?? 'is invalid'}`);
  }
}

function pointerToPath(pointer: string): Path {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/**
 * A short name for a value: the keys after the innermost list item, so a route's timeout is
 * `timeout` and not `sites[0].routes[3].timeout` (the line and column say which one).
 */
export function label(path: Path): string {
  let start = 0;
  for (let i = 0; i < path.length - 1; i++) if (typeof path[i] === 'number') start = i + 1;
  let out = '';
  for (const seg of path.slice(start)) out += typeof seg === 'number' ? `[${seg}]` : `${out ? '.' : ''}${seg}`;
  return out;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a map (key: value)',
  null: 'empty',
};

function typeWords(types: string): string {
  return alternatives(types.split(',').map((t) => TYPE_WORDS[t] ?? t));
}

function alternatives(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
