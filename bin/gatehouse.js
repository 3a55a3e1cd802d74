#!/usr/bin/env node
// `check` and `adapt` run from the CommonJS bundle with its V8 code cache when the build made one
// (dist/cli/code-cache.js, scripts/bundle.mjs); everything else, and those without it, from dist/main.js.
import { fileURLToPath } from 'node:url';

async function entry(command) {
  const { SHORT_COMMANDS, loadShortCommands } = await import('../dist/cli/code-cache.js');
  const short = SHORT_COMMANDS.has(command) && loadShortCommands(fileURLToPath(new URL('../dist/short-commands.script.js', import.meta.url)));
  return short ? short.main : (await import('../dist/main.js')).main;
}

entry(process.argv[2]).then((main) => main(process.argv.slice(2))).then(
  (code) => {
    if (typeof code !== 'number') return;
    process.exitCode = code;
    // Whatever handle is still open (a watcher, a socket being torn down) must not keep a
    // finished command alive; unref'd, so a clean exit is never delayed by it.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (err) => { console.error(err instanceof Error ? err.message : String(err)); process.exitCode = 1; },
);
