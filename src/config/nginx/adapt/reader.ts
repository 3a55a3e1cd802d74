// nginx syntax as a config reader: parse (with includes), translate, and hand the result to the
// native pipeline with the nginx position of every value, so problems the pipeline finds are reported
// at the nginx line the value came from. `gatehouse adapt` prints the same result as YAML.
import path from 'node:path';
import { parseSubstituted, type LoadedConfig } from '../../native.js';
import type { RawConfig } from '../../schema.js';
import { ConfigError, type ConfigIssue } from '../../types.js';
import { parseNginx } from '../parse.js';
import { AdaptCtx, type AdaptOptions, type CertbotLineage } from './context.js';
import { emitYaml } from './emit.js';
import { ObjectSource } from './object-source.js';
import { translateNginx } from './translate.js';

export interface NginxReadOptions extends AdaptOptions {
  /** A missing include file is a warning and the include is skipped (`--allow-missing-includes`), not an error. */
  allowMissingIncludes?: boolean;
}

export interface Adapted {
  /** The translated config, before the native pipeline (schema, defaults, checks). */
  raw: RawConfig;
  /** Every file read, the main file first (what a reload re-reads). */
  files: string[];
  warnings: ConfigIssue[];
  certbot: CertbotLineage[];
  /** Where each generated value came from (for positions). */
  origins: AdaptCtx['origins'];
}

const YAML_HEADER = (file: string) =>
  ` gatehouse config adapted from ${file} (nginx syntax) by gatehouse adapt.\n Each site and route names the nginx block it came from. \`defaults: nginx\` keeps nginx's proxy defaults.`;

/** The translated config for an nginx file; throws ConfigError with every error found (positions in nginx files). */
export function adaptNginx(text: string, file: string, options: NginxReadOptions = {}): Adapted {
  // ngx_process_options: the conf prefix is always the main file's folder; -p sets only the prefix.
  const confPrefix = path.dirname(file);
  const parsed = parseNginx(text, file, { prefix: confPrefix, missingIncludes: options.allowMissingIncludes ? 'keep' : 'error' });
  const ctx = new AdaptCtx(options, confPrefix);
  ctx.issues.push(...parsed.warnings);
  const raw = translateNginx(ctx, parsed.directives);
  if (ctx.issues.some((i) => i.severity === 'error')) throw new ConfigError(sortIssues(ctx.issues));
  return { raw, files: parsed.files, warnings: sortIssues(ctx.issues), certbot: ctx.certbot, origins: ctx.origins };
}

/** What `gatehouse adapt` prints: the translated config as YAML, each site and route marked `FILE:LINE`. */
export function adaptedYaml(adapted: Adapted, file: string): string {
  return emitYaml(adapted.origins, adapted.raw, YAML_HEADER(file));
}

/** A ConfigReader for `.conf` (config/load.ts): the adapter, then the native pipeline on its result. */
export function readNginx(text: string, file: string, options: NginxReadOptions = {}): LoadedConfig & { adapted: Adapted } {
  const adapted = adaptNginx(text, file, options);
  let loaded: LoadedConfig;
  try {
    loaded = parseSubstituted(new ObjectSource(file, adapted.raw, adapted.origins), file);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(sortIssues([...adapted.warnings, ...err.issues]));
    throw err;
  }
  return { config: loaded.config, warnings: sortIssues([...adapted.warnings, ...loaded.warnings]), adapted };
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.pos.file === b.pos.file ? a.pos.line - b.pos.line || a.pos.col - b.pos.col : a.pos.file < b.pos.file ? -1 : 1));
}
