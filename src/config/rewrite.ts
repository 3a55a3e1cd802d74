// issue 17: rewrite — `rewrite:` on a site (nginx server level) or a route (location level): the
// directives of ngx_http_rewrite_module in written order, checked the way nginx checks them at
// load (ngx_http_rewrite, ngx_http_rewrite_if_condition, ngx_http_rewrite_set), with the
// position of the faulty step.
import { VARIABLE_NAMES } from '../http/variables.js';
import type { Ctx } from './context.js';
import { checkTemplate, parseReturn } from './route-parts.js';
import type { RawRewriteObject, RawRewriteStep } from './schema.js';
import type { Path } from './source.js';
import { didYouMean } from './suggest.js';
import type { FileTest, RewriteCondition, RewriteFlag, RewriteStep } from './types.js';

const FLAGS: readonly RewriteFlag[] = ['last', 'break', 'redirect', 'permanent'];
const ACTIONS = ['rewrite', 'set', 'return', 'if', 'break'] as const;
const FILE_TESTS: readonly FileTest[] = ['-f', '!-f', '-d', '!-d', '-e', '!-e', '-x', '!-x'];
const REGEX_OPS = ['~*', '!~*', '~', '!~'] as const;

/** What the checks need to know of the site or route the list is on. */
export interface RewriteScope {
  /** The route has tryFiles: nginx's "if is evil" case where if and try_files do not mix. */
  tryFiles?: boolean;
}

export function rewriteConfig(ctx: Ctx, at: Path, raw: RawRewriteStep[] | undefined, scope: RewriteScope): RewriteStep[] | undefined {
  if (raw === undefined || !ctx.shaped(at)) return undefined;
  const steps = stepList(ctx, at, raw, scope, false);
  return steps.length > 0 ? steps : undefined;
}

function stepList(ctx: Ctx, at: Path, raw: RawRewriteStep[], scope: RewriteScope, inIf: boolean): RewriteStep[] {
  const out: RewriteStep[] = [];
  raw.forEach((item, i) => {
    const p = [...at, i];
    if (!ctx.clean(p)) return;
    const step = typeof item === 'string' ? rewriteStep(ctx, p, item) : objectStep(ctx, p, item, scope, inIf);
    if (step) out.push(...step);
  });
  return out;
}

/** Keys of a route that nginx would let an `if` hold but gatehouse does not run conditionally. */
const ROUTE_KEYS = ['proxy', 'root', 'alias', 'tryFiles', 'headers', 'index', 'cache', 'rateLimit', 'maxBody', 'access', 'auth', 'errorPages', 'expires'];

function innerKeysOk(ctx: Ctx, at: Path, raw: RawRewriteObject): boolean {
  let ok = true;
  for (const key of Object.keys(raw)) {
    if ((ACTIONS as readonly string[]).includes(key) && key !== 'if') continue;
    ok = false;
    if (key === 'if' || key === 'then') {
      ctx.error([...at, key], 'an "if" cannot be inside another "if" (nginx does not nest them); combine the conditions with set', 'key');
    } else if (ROUTE_KEYS.includes(key)) {
      ctx.error(
        [...at, key],
        `${key} inside an if is not supported (nginx's "if is evil": only rewrite, return, set and break are safe there); rewrite to a route that has the ${key} instead`,
        'key',
      );
    } else {
      ctx.error([...at, key], `unknown key "${key}" in an if's then${didYouMean(key, ['rewrite', 'set', 'return', 'break'])}`, 'key');
    }
  }
  return ok;
}

function objectStep(ctx: Ctx, at: Path, raw: RawRewriteObject, scope: RewriteScope, inIf: boolean): RewriteStep[] | undefined {
  if (inIf && !innerKeysOk(ctx, at, raw)) return undefined;
  const actions = ACTIONS.filter((k) => raw[k] !== undefined);
  if (actions.length !== 1) {
    const what = actions.length === 0 ? 'has none' : `has ${actions.join(' and ')}`;
    ctx.error(at, `a rewrite step is one of ${ACTIONS.join(', ')}; this one ${what} (write each as its own list item)`);
    return undefined;
  }
  if (raw.then !== undefined && raw.if === undefined) {
    ctx.error([...at, 'then'], '"then" belongs to an "if" step');
    return undefined;
  }
  const pos = ctx.pos(at);
  switch (actions[0]) {
    case 'rewrite':
      return rewriteStep(ctx, [...at, 'rewrite'], raw.rewrite as string);
    case 'set':
      return setSteps(ctx, [...at, 'set'], raw.set as Record<string, string | number>);
    case 'return': {
      const where = [...at, 'return'];
      const ret = ctx.attempt(where, () => parseReturn(raw.return as number | string));
      if (!ret || (ret.text !== undefined && !checkTemplate(ctx, where, ret.text))) return undefined;
      return [{ kind: 'return', ...ret, pos }];
    }
    case 'break':
      return [{ kind: 'break', pos }];
    case 'if': {
      if (raw.then === undefined) {
        ctx.error([...at, 'if'], 'an "if" step needs "then": the steps to run when the condition holds');
        return undefined;
      }
      if (scope.tryFiles) {
        ctx.warn([...at, 'if'], 'if together with tryFiles in one route: nginx runs them in its own order ("if is evil"); gatehouse runs the if first, as its rewrite phase');
      }
      const source = (raw.if as string).trim();
      const condition = ctx.attempt([...at, 'if'], () => parseCondition(source));
      if (!condition || !conditionTemplatesOk(ctx, [...at, 'if'], condition)) return undefined;
      const then = stepList(ctx, [...at, 'then'], raw.then, scope, true);
      return [{ kind: 'if', condition, source, then, pos }];
    }
    default:
      return undefined;
  }
}

/** `rewrite REGEX REPLACEMENT [FLAG]`. */
function rewriteStep(ctx: Ctx, at: Path, text: string): RewriteStep[] | undefined {
  const words = ctx.attempt(at, () => splitWords(text));
  if (!words) return undefined;
  if (words.length < 2 || words.length > 3) {
    ctx.error(at, `rewrite ${JSON.stringify(text)} must be "REGEX REPLACEMENT [FLAG]" (quote a regex with spaces)`);
    return undefined;
  }
  const [regex, replacement, flag] = words as [string, string, string | undefined];
  if (flag !== undefined && !FLAGS.includes(flag as RewriteFlag)) {
    ctx.error(at, `rewrite flag "${flag}" must be one of ${FLAGS.join(', ')}${didYouMean(flag, FLAGS)}`);
    return undefined;
  }
  if (ctx.attempt(at, () => compileRegex(regex, false)) === undefined) return undefined;
  if (!checkTemplate(ctx, at, replacement)) return undefined;
  const step: RewriteStep = { kind: 'rewrite', regex, replacement, pos: ctx.pos(at) };
  if (flag !== undefined) step.flag = flag as RewriteFlag;
  return [step];
}

function setSteps(ctx: Ctx, at: Path, raw: Record<string, string | number>): RewriteStep[] {
  const out: RewriteStep[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const p = [...at, key];
    const name = variableName(key);
    if (name === undefined) {
      ctx.error(p, `"${key}" is not a variable name: write it as $name (letters, digits, _)`, 'key');
      continue;
    }
    // $args is the one variable of nginx's own that `set` may change (it has a set handler).
    if (name !== 'args' && isBuiltin(name)) {
      ctx.error(p, `$${name} is one of nginx's own variables and cannot be set`, 'key');
      continue;
    }
    const text = String(value);
    if (checkTemplate(ctx, p, text)) out.push({ kind: 'set', name, value: text, pos: ctx.pos(p, 'key') });
  }
  return out;
}

/** The name of `$name` (without `$`), or undefined when `key` is not one. */
export function variableName(key: string): string | undefined {
  return /^\$([A-Za-z0-9_]+)$/.exec(key)?.[1];
}

/** Variables nginx computes itself: `set` and `maps` may not take their names. */
export function isBuiltin(name: string): boolean {
  return VARIABLE_NAMES.includes(name) || /^(http|cookie|arg|sent_http|upstream_http)_/.test(name) || /^\d+$/.test(name);
}

/**
 * nginx's argument splitting for one directive: words separated by spaces, a word in '...' or
 * "..." may hold spaces (and `{`, `;`), a backslash escapes the quote.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (i >= text.length) break;
    const q = text[i];
    if (q === '"' || q === "'") {
      let word = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== q; j++) {
        if (text[j] === '\\' && text[j + 1] === q) j++;
        word += text[j];
      }
      if (j >= text.length) throw new Error(`unbalanced ${q} in ${JSON.stringify(text)}`);
      words.push(word);
      i = j + 1;
      if (i < text.length && !/\s/.test(text[i] as string)) throw new Error(`unexpected "${text[i]}" after a quoted word in ${JSON.stringify(text)}`);
    } else {
      let j = i;
      while (j < text.length && !/\s/.test(text[j] as string)) j++;
      words.push(text.slice(i, j));
      i = j;
    }
  }
  return words;
}

/** PCRE's `(?P<name>` is JS's `(?<name>`; anything else JS cannot read is reported. */
export function compileRegex(source: string, caseless: boolean): RegExp {
  const js = source.replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>');
  try {
    return new RegExp(js, caseless ? 'i' : '');
  } catch (err) {
    throw new Error(`regex ${JSON.stringify(source)} does not compile: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * nginx's if conditions: `$v`, `$v = text`, `$v != text`, `$v ~ re` (`~*`, `!~`, `!~*`), and
 * `-f`/`-d`/`-e`/`-x` (and `!` forms) on a path. Surrounding parentheses, as written in nginx, are optional.
 */
export function parseCondition(text: string): RewriteCondition {
  let src = text.trim();
  if (src.startsWith('(') && src.endsWith(')')) src = src.slice(1, -1).trim();
  if (src === '') throw new Error('the if condition is empty');
  const words = splitWords(src);
  const first = words[0] as string;
  if (FILE_TESTS.includes(first as FileTest)) {
    if (words.length !== 2) throw new Error(`if condition "${text}": ${first} takes one path, like "${first} $request_filename"`);
    return { op: first as FileTest, path: words[1] as string };
  }
  if (!first.startsWith('$')) {
    throw new Error(`invalid if condition "${text}": it starts with a variable ($name) or a file test (-f, -d, -e, -x, with ! to negate)`);
  }
  if (words.length === 1) return { op: 'value', value: first };
  const op = words[1] as string;
  if (op === '=' || op === '!=') {
    if (words.length > 3) throw new Error(`if condition "${text}": quote a value with spaces`);
    return { op, left: first, right: words[2] ?? '' };
  }
  const regexOp = REGEX_OPS.find((o) => o === op);
  if (regexOp) {
    if (words.length !== 3) throw new Error(`if condition "${text}": ${op} takes one regex (quote one with spaces)`);
    const regex = words[2] as string;
    compileRegex(regex, regexOp.endsWith('*'));
    return { op: regexOp, left: first, regex };
  }
  throw new Error(`invalid if condition "${text}": unknown operator "${op}" (=, !=, ~, ~*, !~, !~*)`);
}

function conditionTemplatesOk(ctx: Ctx, at: Path, c: RewriteCondition): boolean {
  switch (c.op) {
    case 'value':
      return checkTemplate(ctx, at, c.value);
    case '=':
    case '!=':
      return checkTemplate(ctx, at, c.left) && checkTemplate(ctx, at, c.right);
    case '~':
    case '~*':
    case '!~':
    case '!~*':
      return checkTemplate(ctx, at, c.left);
    default:
      return checkTemplate(ctx, at, c.path);
  }
}

/**
 * Every user variable a raw config declares, for nginx's config-wide declaration: `set` names
 * in any `rewrite:` list (sites, routes, nested routes, inside `then`), named regex captures of
 * location, rewrite, if and map regexes, and `forwardAuth.set` names. Reads the raw value, before the checks.
 */
export function declaredVariables(raw: unknown): Set<string> {
  const names = new Set<string>();
  const captures = (text: unknown) => {
    if (typeof text !== 'string') return;
    for (const m of text.matchAll(/\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/g)) names.add(m[1] as string);
  };
  const steps = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const step of list) {
      if (typeof step === 'string') captures(step);
      if (!step || typeof step !== 'object') continue;
      const s = step as Record<string, unknown>;
      captures(s.rewrite);
      captures(s.if);
      setNames(s.set);
      steps(s.then);
    }
  };
  const setNames = (set: unknown) => {
    if (!set || typeof set !== 'object' || Array.isArray(set)) return;
    for (const key of Object.keys(set)) {
      const name = variableName(key);
      if (name !== undefined) names.add(name);
    }
  };
  const walk = (value: unknown) => {
    if (Array.isArray(value)) {
      value.forEach(walk);
      return;
    }
    if (!value || typeof value !== 'object') return;
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'rewrite') steps(v);
      else if (key === 'location') captures(v);
      else if (key === 'forwardAuth' && v && typeof v === 'object') setNames((v as Record<string, unknown>).set);
      else if (key === 'maps' && v && typeof v === 'object') {
        // Named captures of a map's regex keys are variables too (nginx declares them config-wide).
        for (const m of Object.values(v as Record<string, unknown>)) {
          const values = m && typeof m === 'object' ? (m as Record<string, unknown>).values : undefined;
          if (values && typeof values === 'object') Object.keys(values).forEach(captures);
        }
      } else walk(v);
    }
  };
  walk(raw);
  return names;
}
