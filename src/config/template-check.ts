// Template values in the config: reported at the value with nginx's own message and a hint.
import { compileTemplate, userVariableNames, VARIABLE_NAMES } from '../http/variables.js';
import type { Ctx } from './context.js';
import type { Path } from './source.js';
import { didYouMean } from './suggest.js';

// Only for "did you mean" hints; compileTemplate in middleware/ decides what is valid.

/** Reports `unknown variable "$x"` (nginx's own check) at the value; true when it compiles. */
export function checkTemplate(ctx: Ctx, at: Path, source: string): boolean {
  try {
    compileTemplate(source);
    return true;
  } catch (err) {
    const message = (err as Error).message;
    const name = /unknown variable "\$([^"]+)"/.exec(message)?.[1];
    const hint = name !== undefined ? didYouMean(name, [...VARIABLE_NAMES, ...userVariableNames()]).replace(/"(?=[a-z])/, '"$') : '';
    ctx.error(at, `${message}${hint}`);
    return false;
  }
}
