#!/usr/bin/env node
import { main } from '../dist/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code !== 'number') return;
    process.exitCode = code;
    // Whatever handle is still open (a watcher, a socket being torn down) must not keep a
    // finished command alive; unref'd, so a clean exit is never delayed by it.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (err) => { console.error(err instanceof Error ? err.message : String(err)); process.exitCode = 1; },
);
