// The native (YAML or JSON) config pipeline: parse with positions → one schema → semantic checks
// and defaults → warnings for likely mistakes. Every problem found is reported, not just the first.
import { Ctx } from './context.js';
import { normalize } from './normalize.js';
import { checkSchema } from './schema-errors.js';
import type { RawConfig } from './schema.js';
import { redactSecrets, substituteEnv } from './env-vars.js';
import { Source, type ConfigSource } from './source.js';
import { ConfigError, type Config, type ConfigIssue } from './types.js';
import { lint } from './warnings.js';

export interface LoadedConfig {
  config: Config;
  warnings: ConfigIssue[];
}

/** `file` must be absolute: it is the base for relative paths and the name in every message. */
export function parseNative(text: string, file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const source = new Source(file, text);
  // Past a syntax error the document is a guess; checking it would report phantom problems.
  if (source.issues.some((i) => i.severity === 'error')) throw new ConfigError(sorted(source.issues));
  // issue 17: logs. ${VAR} from the environment; its values are kept out of every message.
  const { issues: envIssues, secrets } = substituteEnv(source, env);
  if (envIssues.length > 0) throw new ConfigError(sorted(envIssues));
  try {
    const loaded = parseSubstituted(source, file);
    return { ...loaded, warnings: redactSecrets(loaded.warnings, secrets) };
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(redactSecrets(err.issues, secrets));
    throw err;
  }
}

/** The pipeline after the text is read and substituted (the nginx adapter enters here: nginx has no ${VAR}). */
export function parseSubstituted(source: ConfigSource, file: string): LoadedConfig {
  const start = { file, line: 1, col: 1 };
  let value: unknown;
  try {
    value = source.toValue();
  } catch (err) {
    throw new ConfigError([{ pos: start, message: (err as Error).message, severity: 'error' }]);
  }
  if (value === null || value === undefined) {
    throw new ConfigError([{ pos: start, message: 'the config file is empty (it needs at least listen and sites)', severity: 'error' }]);
  }
  const schema = checkSchema(value, source);
  const ctx = new Ctx(source, schema.rejected);
  ctx.issues.push(...source.issues, ...schema.issues);
  let config: Config | undefined;
  try {
    config = normalize(ctx, value as RawConfig);
  } catch (err) {
    // The semantic steps skip what the schema rejected; if one still trips over a malformed value,
    // the schema errors already say what is wrong. Without them it is a bug, and must surface.
    if (schema.issues.length === 0) throw err;
  }
  if (config && !ctx.hasErrors) lint(ctx, config, value as RawConfig);
  const issues = sorted(dedupe(ctx.issues));
  if (!config || issues.some((i) => i.severity === 'error')) throw new ConfigError(issues);
  return { config, warnings: issues };
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.pos.line}:${i.pos.col}:${i.severity}:${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function sorted(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
}
