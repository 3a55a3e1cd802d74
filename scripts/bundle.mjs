// Build step (npm run build, after tsc and gen-schema-validator): the CLI as a few ES modules instead
// of ~150 (dist/main.js and its chunks; bin/gatehouse.js loads it). Node's ES module loader costs
// about a millisecond per file: `gatehouse check` on the largest real-world nginx config took 370 ms
// unbundled and about 300 bundled, 90 of them Node's own start (docs/performance.md "Start-up").
// Each command stays its own chunk (splitting), so `check` does not load the proxy. Dependencies stay
// external except yaml (73 small files on the config path). Whitespace and syntax are minified, names
// are kept, and a linked source map lets `node --enable-source-maps` show source lines.
//
// Second output: `check` and `adapt` (src/cli/short-commands.ts) as ONE CommonJS bundle with a V8
// code cache, dist/short-commands.script.js + .cache, which bin/gatehouse.js runs through vm.Script
// (src/cli/code-cache.ts). Node 20 has no code cache for ES modules, and a short command's time was
// mostly the cold compile of the config pipeline's code (docs/performance.md "Start-up"). The cache is
// written after one warm run over sample configs (scripts/code-cache-samples/: YAML and nginx), so the
// functions V8 compiles lazily are in it too. V8 rejects a cache made under other V8 flags; the build
// runs node without any, as bin/gatehouse.js is run.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import os from 'node:os';

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

// The short commands' CommonJS bundle. No splitting (one file, one cache); externals as above.
// import.meta.url (3 users: the package version, the validator's path, acme-client's require) becomes
// the bundle file's own URL, which sits in dist/ like the ES chunks, so their relative paths hold.
// node-forge is bundled too: `check` of a config with a `tls: internal` site loads it, and loading its
// 40 files was 50 ms; inside the bundle its code is in the cache.
const SHORT_BUNDLED = new Set([...BUNDLED, 'node-forge']);
const short = await build({
  entryPoints: [path.join(dist, 'cli/short-commands.js')],
  outfile: path.join(dist, 'short-commands.script.js'),
  write: false,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: external.filter((name) => !SHORT_BUNDLED.has(name.replace(/\/\*$/, ''))),
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'external',
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "var __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
const shortFile = path.join(dist, 'short-commands.script.js');
const code = short.outputFiles.find((f) => f.path === shortFile).text;
const map = JSON.parse(short.outputFiles.find((f) => f.path === `${shortFile}.map`).text);
// Node's CommonJS module wrapper, written into the file so that the cache is of exactly the text run.
// The wrapper's own line shifts the source map by one line.
writeAtomic(shortFile, `(function (exports, require, module, __filename, __dirname) {\n${code}\n})\n//# sourceMappingURL=short-commands.script.js.map\n`);
writeAtomic(`${shortFile}.map`, JSON.stringify({ ...map, mappings: `;${map.mappings}` }));

// The cache, after one run of each command over the samples with their output discarded.
const cacheFile = path.join(dist, 'short-commands.cache');
fs.rmSync(cacheFile, { force: true });
const { loadShortCommands } = await import(path.join(dist, 'cli/code-cache.js'));
const loaded = loadShortCommands(shortFile);
const samples = path.join(repo, 'scripts/code-cache-samples');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-code-cache-'));
const runs = [
  ['check', '-c', path.join(samples, 'site.yaml')],
  ['check', '-c', path.join(samples, 'site.conf'), '--allow-missing-includes'],
  ['adapt', path.join(samples, 'site.conf'), '--allow-missing-includes', '-o', path.join(scratch, 'site.yaml')],
];
const write = { out: process.stdout.write, err: process.stderr.write };
process.stdout.write = process.stderr.write = () => true;
let codes;
try {
  codes = [];
  for (const argv of runs) codes.push(await loaded.main(argv));
} finally {
  process.stdout.write = write.out;
  process.stderr.write = write.err;
  fs.rmSync(scratch, { recursive: true, force: true });
}
// A sample the product rejects would leave the usual path out of the cache: fail the build instead.
if (codes.some((c) => c !== 0)) throw new Error(`bundle: a code-cache sample failed (exit codes ${codes.join(', ')}); run them by hand`);
writeAtomic(cacheFile, loaded.script.createCachedData());

function writeAtomic(file, data) {
  fs.writeFileSync(`${file}.tmp`, data);
  fs.renameSync(`${file}.tmp`, file);
}
