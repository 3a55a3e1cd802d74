// Shared by the config tests: run the loader on inline text and look for one issue.
import { expect } from 'chai';
import { parseConfig } from '../../../src/config/index.js';
import { ConfigError, formatIssue, type ConfigIssue, type Config } from '../../../src/config/types.js';

export const FILE = '/etc/gatehouse/gatehouse.yaml';

/** Lines joined with \n, so a fixture's line numbers are its array indexes + 1. */
export function lines(...ls: string[]): string {
  return `${ls.join('\n')}\n`;
}

export function issuesOf(text: string, file = FILE): ConfigIssue[] {
  try {
    return parseConfig(text, file).warnings;
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
}

function find(issues: ConfigIssue[], severity: ConfigIssue['severity'], line: number, col: number, text: string): void {
  const hit = issues.find((i) => i.severity === severity && i.pos.line === line && i.pos.col === col && i.message.includes(text));
  const all = issues.map(formatIssue).join('\n  ') || '(none)';
  expect(hit, `expected ${severity} at ${line}:${col} containing ${JSON.stringify(text)}; got:\n  ${all}`).to.not.equal(undefined);
}

/** Asserts the config is invalid with an error at exactly LINE:COL whose message contains `text`. */
export function expectError(text: string, line: number, col: number, message: string, file = FILE): ConfigIssue[] {
  let issues: ConfigIssue[] = [];
  try {
    parseConfig(text, file);
    expect.fail('expected a ConfigError');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    issues = err.issues;
  }
  find(issues, 'error', line, col, message);
  return issues;
}

/** Asserts the config is valid and warns at exactly LINE:COL. */
export function expectWarning(text: string, line: number, col: number, message: string): void {
  find(parseConfig(text, FILE).warnings, 'warning', line, col, message);
}

export function valid(text: string, file = FILE): Config {
  try {
    return parseConfig(text, file).config;
  } catch (err) {
    if (err instanceof ConfigError) expect.fail(`config should be valid:\n${err.message}`);
    throw err;
  }
}

/** Line and column (1-based) of the `nth` occurrence of `token` in the fixture lines. */
export function at(ls: string[], token: string, nth = 1): { line: number; col: number } {
  let seen = 0;
  for (let i = 0; i < ls.length; i++) {
    const row = ls[i] as string;
    for (let c = row.indexOf(token); c !== -1; c = row.indexOf(token, c + 1)) {
      if (++seen === nth) return { line: i + 1, col: c + 1 };
    }
  }
  throw new Error(`fixture has no occurrence ${nth} of ${JSON.stringify(token)}`);
}

/** expectError at the `nth` occurrence of `token` in the fixture. */
export function expectErrorAt(ls: string[], token: string, message: string, nth = 1): void {
  const { line, col } = at(ls, token, nth);
  expectError(lines(...ls), line, col, message);
}

export function expectWarningAt(ls: string[], token: string, message: string, nth = 1): void {
  const { line, col } = at(ls, token, nth);
  expectWarning(lines(...ls), line, col, message);
}
