// nginx's `if (...)` conditions (ngx_http_rewrite_if_condition and the script codes it compiles
// to): a value is false when '' or '0'; `=`/`!=` compare text; a regex match sets $1..$9 (and
// named captures) for the steps after it, a failed one clears them (r->ncaptures = 0); the file
// tests stat the path as given, like ngx_http_script_file_code.
import type { Stats } from 'node:fs';
import { compileRegex } from '../config/rewrite.js';
import type { FileTest, RewriteCondition } from '../config/types.js';
import { compileTemplate, type Template } from '../http/variables.js';
import type { RequestContext } from '../request/context.js';

export type Condition =
  | { kind: 'value'; value: Template }
  | { kind: 'equal'; negate: boolean; left: Template; right: Template }
  | { kind: 'regex'; negate: boolean; left: Template; re: RegExp }
  | { kind: 'file'; test: FileTest; path: Template };

export function compileCondition(c: RewriteCondition): Condition {
  switch (c.op) {
    case 'value':
      return { kind: 'value', value: compileTemplate(c.value) };
    case '=':
    case '!=':
      return { kind: 'equal', negate: c.op === '!=', left: compileTemplate(c.left), right: compileTemplate(c.right) };
    case '~':
    case '~*':
    case '!~':
    case '!~*':
      return { kind: 'regex', negate: c.op.startsWith('!'), left: compileTemplate(c.left), re: compileRegex(c.regex, c.op.endsWith('*')) };
    default:
      return { kind: 'file', test: c.op, path: compileTemplate(c.path) };
  }
}

/** nginx's truth of a value: anything but '' and '0'. */
export function truthy(value: string): boolean {
  return value !== '' && value !== '0';
}

/** A regex match as nginx records it: $1..$9 from the groups, named groups as variables. */
export function recordMatch(ctx: RequestContext, m: RegExpExecArray | null): void {
  if (!m) {
    ctx.vars.captures = [];
    return;
  }
  // A regex without groups clears them too (nginx 1.22: `rewrite ^ /x/$1` after a regex location gives '').
  ctx.vars.captures = m.slice(1).map((c) => c ?? '');
  if (m.groups) for (const [name, value] of Object.entries(m.groups)) ctx.vars.setUser(name, value ?? '');
}

/** Everything but the file tests, which need a stat (fileTestResult). */
export function evaluate(c: Exclude<Condition, { kind: 'file' }>, ctx: RequestContext): boolean {
  const v = ctx.vars;
  switch (c.kind) {
    case 'value':
      return truthy(c.value(v));
    case 'equal':
      return (c.left(v) === c.right(v)) !== c.negate;
    case 'regex': {
      const m = c.re.exec(c.left(v));
      recordMatch(ctx, m);
      return (m !== null) !== c.negate;
    }
  }
}

/**
 * ngx_http_script_file_code on a stat result (undefined when stat failed: missing, not a
 * directory, no access). `-e` is anything that exists; `-x` is the owner's execute bit
 * (ngx_is_exec), on a directory too.
 */
export function fileTestResult(test: FileTest, st: Stats | undefined): boolean {
  const negate = test.startsWith('!');
  if (!st) return negate;
  let yes: boolean;
  switch (test.replace('!', '')) {
    case '-f':
      yes = st.isFile();
      break;
    case '-d':
      yes = st.isDirectory();
      break;
    case '-e':
      yes = true;
      break;
    default:
      yes = (st.mode & 0o100) !== 0;
  }
  return yes !== negate;
}
