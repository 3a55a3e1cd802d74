// Build step (npm run build, after tsc and gen-schema-validator): the CLI as a few ES modules instead
// of ~150 (dist/main.js and its chunks; bin/gatehouse.js loads it). Node's ES module loader costs
// about a millisecond per file: `gatehouse check` on the largest real-world nginx config took 370 ms
// unbundled and about 300 bundled, 90 of them Node's own start (docs/performance.md "Start-up").
// Each command stays its own chunk (splitting), so `check` does not load the proxy. Dependencies stay
// external except yaml (73 small files on the config path). Whitespace and syntax are minified, names
// are kept, and a linked source map lets `node --enable-source-maps` show source lines.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(repo, 'dist');
const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
const BUNDLED = new Set(['yaml']);
const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
  .filter((name) => !BUNDLED.has(name))
  .flatMap((name) => [name, `${name}/*`]);

// A previous build's chunks have other hashes: leave none behind.
for (const f of fs.readdirSync(dist)) if (/^chunk-.*\.js(\.map)?$/.test(f)) fs.rmSync(path.join(dist, f));

await build({
  entryPoints: [path.join(dist, 'cli/main.js')],
  outdir: dist,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  // Bundled CommonJS (yaml) calls require() for Node's built-ins; an ES module has none of its own.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});

// The validator script and its code cache are loaded by path next to the chunk that holds
// schema-errors (dist/): see scripts/gen-schema-validator.mjs.
for (const f of ['schema-validator.script.js', 'schema-validator.cache']) fs.copyFileSync(path.join(dist, 'config', f), path.join(dist, f));
