// The error a promise rejects with; a test fails when it resolves instead.
import { expect } from 'chai';

export async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e as Error,
  );
}
