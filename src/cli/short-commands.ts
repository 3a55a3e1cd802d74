// `check` and `adapt`, the commands that start, read a config and exit: bin/gatehouse.js runs them from
// one CommonJS bundle of this file with a V8 code cache (scripts/bundle.mjs, ./code-cache.ts), because
// Node 20 cannot give ES modules a code cache and compiling the config pipeline's code cold was most
// of `check`'s time (docs/performance.md "Start-up"). main.ts runs them too, when there is no bundle.
import { runAdapt } from './adapt.js';
import { runCheck } from './check.js';
import { UsageError, usageExit } from './usage.js';

export async function mainShort(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'check') return await runCheck(rest);
    if (command === 'adapt') return await runAdapt(rest);
    throw new UsageError(`unknown command "${String(command)}"`);
  } catch (err) {
    return usageExit(err);
  }
}
