// nginx's rewrite module (rewrite, return, set, break, if) as gatehouse `rewrite:` steps, in the
// order written: nginx runs a level's rewrite directives as one list of script codes
// (ngx_http_rewrite_module), and so does gatehouse (README "Rewrites, conditions, set and maps").
import type { RawRewriteStep } from '../../schema.js';
import type { NginxDirective } from '../ast.js';
import { AdaptCtx, Refused } from './context.js';
import { rewriteWord } from './values.js';

export const REWRITE_DIRECTIVES = new Set(['rewrite', 'return', 'set', 'break', 'if']);

const FLAGS = new Set(['last', 'break', 'redirect', 'permanent']);

/** One rewrite-module directive as a step; `inIf` refuses what nginx allows only outside `if`. */
export function rewriteStep(ctx: AdaptCtx, d: NginxDirective, where: string): RawRewriteStep {
  const a = d.args;
  switch (d.name) {
    case 'rewrite': {
      ctx.args(d, 2, 3);
      if (a[2] && !FLAGS.has(a[2].text)) {
        ctx.error(a[2].pos, `invalid parameter "${a[2].text}"`);
        throw new Refused();
      }
      return [a[0]!.text, a[1]!.text, ...(a[2] ? [a[2].text] : [])].map(rewriteWord).join(' ');
    }
    case 'return': {
      ctx.args(d, 1, 2);
      const first = a[0]!.text;
      if (a.length === 1) return { return: /^\d+$/.test(first) ? Number(first) : first };
      return { return: `${first} ${a[1]!.text}` };
    }
    case 'set': {
      ctx.args(d, 2);
      return { set: { [a[0]!.text]: a[1]!.text } };
    }
    case 'break':
      ctx.args(d, 0);
      return { break: true };
    case 'if':
      return ifStep(ctx, d, where);
    default:
      throw new Error(`not a rewrite directive: ${d.name}`);
  }
}

/** `if (COND) { ... }`: the condition's words as nginx split them, parentheses kept, quoted where needed. */
function ifStep(ctx: AdaptCtx, d: NginxDirective, where: string): RawRewriteStep {
  if (!d.block) {
    ctx.error(d.pos, 'directive "if" has no opening "{"');
    throw new Refused();
  }
  if (d.args.length === 0) {
    ctx.error(d.pos, 'invalid number of arguments in "if" directive');
    throw new Refused();
  }
  const condition = d.args.map((w) => (w.quoted ? rewriteWord(w.text) || '""' : w.text)).join(' ');
  const then: RawRewriteStep[] = [];
  for (const inner of d.block) {
    if (REWRITE_DIRECTIVES.has(inner.name)) {
      then.push(rewriteStep(ctx, inner, where));
      continue;
    }
    ctx.error(
      inner.pos,
      `"${inner.name}" inside "if" is not supported: gatehouse runs only rewrite, return, set and break inside if ` +
        '(nginx\'s "if is evil"); use a map or a separate location for the rest',
    );
  }
  return { if: condition, then };
}
