// nginx syntax as a config reader: parse (with includes), translate, emit YAML, and read that YAML
// through the native pipeline, so a .conf and its `gatehouse adapt` output load the same Config.
// Problems the native pipeline finds in the generated YAML are reported at the nginx line the value
// came from.
import path from 'node:path';
import { parseSubstituted, type LoadedConfig } from '../../native.js';
import { Source } from '../../source.js';
import { ConfigError, type ConfigIssue, type SourcePos } from '../../types.js';
import { parseNginx } from '../parse.js';
import { AdaptCtx, type AdaptOptions, type CertbotLineage } from './context.js';
import { emitYaml } from './emit.js';
import { translateNginx } from './translate.js';

export interface NginxReadOptions extends AdaptOptions {
  /** A missing include file is a warning and the include is skipped (`--allow-missing-includes`), not an error. */
  allowMissingIncludes?: boolean;
}

export interface Adapted {
  yaml: string;
  /** Every file read, the main file first (what a reload re-reads). */
  files: string[];
  warnings: ConfigIssue[];
  certbot: CertbotLineage[];
  /** Where each generated value came from (for positions). */
  origins: AdaptCtx['origins'];
}

/** The YAML for an nginx file; throws ConfigError with every error found (positions in nginx files). */
export function adaptNginx(text: string, file: string, options: NginxReadOptions = {}): Adapted {
  // ngx_process_options: the conf prefix is always the main file's folder; -p sets only the prefix.
  const confPrefix = path.dirname(file);
  const parsed = parseNginx(text, file, { prefix: confPrefix, missingIncludes: options.allowMissingIncludes ? 'keep' : 'error' });
  const ctx = new AdaptCtx(options, confPrefix);
  ctx.issues.push(...parsed.warnings);
  const raw = translateNginx(ctx, parsed.directives);
  if (ctx.issues.some((i) => i.severity === 'error')) throw new ConfigError(sortIssues(ctx.issues));
  const header = ` gatehouse config adapted from ${file} (nginx syntax) by gatehouse adapt.\n Each site and route names the nginx block it came from. \`defaults: nginx\` keeps nginx's proxy defaults.`;
  const yaml = emitYaml(ctx, raw, header);
  return { yaml, files: parsed.files, warnings: sortIssues(ctx.issues), certbot: ctx.certbot, origins: ctx.origins };
}

/** A ConfigReader for `.conf` (config/load.ts): the adapter, then the native pipeline on its YAML. */
export function readNginx(text: string, file: string, options: NginxReadOptions = {}): LoadedConfig & { adapted: Adapted } {
  const adapted = adaptNginx(text, file, options);
  const source = new Source(file, adapted.yaml);
  const lines = lineMap(source, adapted.origins);
  const remap = (issues: ConfigIssue[]) => issues.map((i) => ({ ...i, pos: nginxPos(lines, i.pos, file) }));
  let loaded: LoadedConfig;
  try {
    loaded = parseSubstituted(source, file);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(sortIssues([...adapted.warnings, ...remap(err.issues)]));
    throw err;
  }
  return { config: loaded.config, warnings: sortIssues([...adapted.warnings, ...remap(loaded.warnings)]), adapted };
}

/** Generated line → the nginx position of the value written there (the nearest line above that has one). */
function lineMap(source: Source, origins: AdaptCtx['origins']): Map<number, SourcePos> {
  const lines = new Map<number, SourcePos>();
  for (const { path: at, pos } of origins) {
    const line = source.pos(at).line;
    if (!lines.has(line)) lines.set(line, pos);
  }
  return lines;
}

function nginxPos(lines: Map<number, SourcePos>, pos: SourcePos, file: string): SourcePos {
  if (pos.file !== file) return pos;
  for (let line = pos.line; line >= 1; line--) {
    const found = lines.get(line);
    if (found) return found;
  }
  return { file, line: 1, col: 1 };
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.pos.file === b.pos.file ? a.pos.line - b.pos.line || a.pos.col - b.pos.col : a.pos.file < b.pos.file ? -1 : 1));
}
