// An error as one log text: its stack when it has one, so a crash report says where.
export function describeError(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
