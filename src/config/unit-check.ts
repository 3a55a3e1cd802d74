// The `unit` annotation of the config schema (schema.ts): a duration, size or rate checked with the
// parsers of units.ts. Its own module because the precompiled validator (scripts/
// gen-schema-validator.mjs) imports `unitValid` by name.
import { parseDuration, parseRate, parseSize } from './units.js';

/** The parser's message for a value of a `unit` keyword, or undefined when it is valid. */
export function unitError(unit: string, data: unknown): string | undefined {
  try {
    if (unit === 'duration') parseDuration(data as string | number);
    else if (unit === 'size') parseSize(data as string | number);
    else parseRate(String(data));
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export function unitValid(unit: string, data: unknown): boolean {
  return unitError(unit, data) === undefined;
}
