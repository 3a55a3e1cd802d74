// Shared by the nginx parser tests: parse inline text, catch the one positioned error, ask real nginx.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseNginx, type NginxDirective, type NginxParseOptions } from '../../../../src/config/nginx/index.js';
import { word } from '../../../../src/config/nginx/stock.js';
import { ConfigError, type ConfigIssue } from '../../../../src/config/types.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
/** Real-world configs, read in place and never copied (issue 18); absent in CI. NGINX_CORPUS=DIR points elsewhere. */
export const CORPUS = path.resolve(REPO, process.env.NGINX_CORPUS ?? '../shared/corpus/nginx');

/** Skips the running test or hook's tests, saying why in the output (mocha's skip takes no reason). */
export function skipBecause(ctx: Mocha.Context, reason: string): never {
  console.log(`      skipped: ${reason}`);
  ctx.skip();
}

export const NO_CORPUS = `${CORPUS} does not exist (it is kept beside the repository on development machines, not in CI); the fixtures in test/fixtures/nginx stand in`;
/** Configs written for the project in the corpus' style. */
export const FIXTURES = path.join(REPO, 'test/fixtures/nginx');
export const NGINX = '/usr/sbin/nginx';
export const FILE = '/etc/nginx/test.conf';

export function parse(text: string, options: NginxParseOptions = {}, file = FILE): NginxDirective[] {
  return parseNginx(text, file, { expandIncludes: false, ...options }).directives;
}

/** The single issue a parse must fail with. */
export function errorOf(text: string, options: NginxParseOptions = {}, file = FILE): ConfigIssue {
  try {
    parseNginx(text, file, { expandIncludes: false, ...options });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    expect(err.issues).to.have.length(1);
    return err.issues[0] as ConfigIssue;
  }
  return expect.fail(`expected a ConfigError for ${JSON.stringify(text)}`);
}

/** Directives as plain `[name, ...args]` rows, blocks nested, for compact expectations. */
export type Shape = Array<string | Shape>;
export function shape(directives: NginxDirective[]): Shape {
  return directives.map((d) => {
    const row: Shape = [d.name, ...d.args.map((a) => a.text)];
    if (d.block) row.push(shape(d.block));
    return row;
  });
}

export function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gh-nginx-'));
}

export function hasNginx(): boolean {
  return fs.existsSync(NGINX);
}

export interface NginxVerdict {
  ok: boolean;
  message?: string;
  file?: string;
  line?: number;
}

/** `nginx -t` on FILE (prefix its folder, log to stderr): its first [emerg]/[crit] message and line. */
export function nginxTest(file: string): NginxVerdict {
  const run = spawnSync(NGINX, ['-t', '-q', '-e', 'stderr', '-p', path.dirname(file), '-c', file], { encoding: 'utf8', timeout: 10_000 });
  if (run.status === 0) return { ok: true };
  for (const l of run.stderr.split('\n')) {
    const m = /\[(?:emerg|crit)\] \d+#\d+: (.*?)(?: in (\S+):(\d+))?$/.exec(l);
    if (m) return { ok: false, message: m[1], ...(m[2] ? { file: m[2], line: Number(m[3]) } : {}) };
  }
  return { ok: false, message: run.stderr.trim() };
}

/** The tree back to nginx text, one directive a line (for round-trip checks). */
export function render(directives: NginxDirective[], indent = ''): string {
  return directives
    .map((d) => {
      const head = [d.name, ...d.args.map((a) => a.text)].map(word).join(' ');
      return d.block ? `${indent}${head} {\n${render(d.block, `${indent}  `)}${indent}}\n` : `${indent}${head};\n`;
    })
    .join('');
}

/** The config files of a folder, sorted; [] when the folder does not exist. */
export function confFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.conf'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** The files `nginx -T` dumps, in the order nginx opened them (each once). */
export function nginxFiles(file: string): string[] {
  const run = spawnSync(NGINX, ['-T', '-q', '-e', 'stderr', '-p', path.dirname(file), '-c', file], { encoding: 'utf8', timeout: 10_000 });
  return [...run.stdout.matchAll(/^# configuration file (.*):$/gm)].map((m) => m[1] as string);
}
