// Finding and reading the config file (README "Commands"), and choosing the reader by its extension.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseNative, type LoadedConfig } from './native.js';
import { looksLikeNginx } from './nginx/detect.js';
import { readNginx, type NginxReadOptions } from './nginx/adapt/reader.js';
import { ConfigError } from './types.js';

export type { LoadedConfig } from './native.js';

/** Reads config text into a Config; `file` is absolute. Throws ConfigError with every issue. */
export type ConfigReader = (text: string, file: string) => LoadedConfig;

/** issue 18: `-p/--prefix`, `--strict`, `--allow-missing-includes` from the command line, kept for reloads. */
let nginxOptions: NginxReadOptions = {};
export function setNginxOptions(options: NginxReadOptions): void {
  nginxOptions = options;
}

const nginxReader: ConfigReader = (text, file) => readNginx(text, file, nginxOptions);

/**
 * Readers by file extension. `.conf` is nginx syntax (README "Commands", docs/nginx.md). Any other extension is read as native: YAML is
 * a superset of JSON, so a file without `.yaml`/`.json` (e.g. /etc/gatehouse/config) still works,
 * unless its content is nginx syntax (Debian's sites-available/default, `*.vhost`): then the `.conf` reader.
 */
const readers = new Map<string, ConfigReader>([['.conf', nginxReader]]);

/** Extensions that always mean YAML/JSON, whatever the content. */
const NATIVE_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export function registerConfigReader(extension: string, reader: ConfigReader): void {
  readers.set(extension.toLowerCase(), reader);
}

export function parseConfig(text: string, file: string): LoadedConfig {
  const abs = path.resolve(file);
  const ext = path.extname(abs).toLowerCase();
  const nginxByContent = !NATIVE_EXTENSIONS.has(ext) && looksLikeNginx(text);
  const reader = readers.get(ext) ?? (nginxByContent ? readers.get('.conf') : undefined) ?? parseNative;
  return reader(text, abs);
}

export async function loadConfig(file: string): Promise<LoadedConfig> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new ConfigError([{ pos: { file: abs, line: 1, col: 1 }, message: `cannot read the config file: ${why}`, severity: 'error' }]);
  }
  return parseConfig(text.replace(/^\uFEFF/, ''), abs);
}

/** `-c FILE`, else `$GATEHOUSE_CONFIG`, else `./gatehouse.yaml`; absolute, relative to `cwd`. */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  const chosen = flag || env.GATEHOUSE_CONFIG || 'gatehouse.yaml';
  return path.resolve(cwd, chosen);
}
