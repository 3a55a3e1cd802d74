// Runs the short commands' CommonJS bundle (dist/short-commands.script.js, scripts/bundle.mjs) as a
// classic script with the V8 code cache the build wrote beside it: Node 20 gives ES modules no code
// cache, and compiling the config pipeline's code was most of `gatehouse check` (docs/performance.md
// "Start-up"). A cache V8 rejects (another Node version, other V8 flags, a changed bundle) costs only
// the compile it was meant to save. Same technique as the validator (src/config/validator-script.ts).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/** The commands the bundle holds (src/cli/short-commands.ts); bin/gatehouse.js asks before loading it. */
export const SHORT_COMMANDS: ReadonlySet<string> = new Set(['check', 'adapt']);

export interface ShortCommands {
  main: (argv: string[]) => Promise<number>;
  script: vm.Script;
  /** True when a cache was given and V8 took it. */
  cached: boolean;
}

type CommonJsWrapper = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;

/** The bundle at `file` (…script.js), with `…cache` beside it when present; undefined without a bundle. */
export function loadShortCommands(file: string): ShortCommands | undefined {
  const source = readIfPresent(file)?.toString('utf8');
  if (source === undefined) return undefined;
  const cachedData = readIfPresent(file.replace(/\.script\.js$/, '.cache'));
  const script = new vm.Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
  // The module wrapper Node gives a CommonJS file; the bundle's text is wrapped at build so that the
  // cache is of exactly this source.
  const module = { exports: {} as { mainShort?: ShortCommands['main'] } };
  (script.runInThisContext() as CommonJsWrapper)(module.exports, createRequire(file), module, file, path.dirname(file));
  const main = module.exports.mainShort;
  if (typeof main !== 'function') throw new Error(`${file} does not export mainShort: rebuild (npm run build)`);
  return { main, script, cached: cachedData !== undefined && !script.cachedDataRejected };
}

function readIfPresent(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
