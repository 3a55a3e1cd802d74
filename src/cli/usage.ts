// Shared CLI plumbing: argument parsing errors and exit codes (README "Commands").
import { parseArgs, type ParseArgsConfig } from 'node:util';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {}

/** A usage error as the CLI reports it (exit 2); anything else is not ours to word and is rethrown. */
export function usageExit(err: unknown): number {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`gatehouse: ${err.message}\nRun "gatehouse --help" for usage.\n`);
  return EXIT_USAGE;
}

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: false; strict: true }>>['values'] {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
