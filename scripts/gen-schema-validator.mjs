// Build step (npm run build, after tsc): the config schema's validator as standalone code, so a
// start or `gatehouse check` does not compile the schema (ajv's compile is most of `check`'s time),
// and a V8 code cache of it, so that it is not parsed and compiled either: the validator is 300 kB
// of JavaScript, and compiling it was a tenth of `check` (docs/performance.md "Start-up").
// dist/config/schema-errors.js (and the bundle's copy, scripts/bundle.mjs) loads
// schema-validator.script.js with schema-validator.cache when they exist (src/config/validator-script.ts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import standaloneCode from 'ajv/dist/standalone/index.js';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'config');
const { configSchema } = await import(path.join(dist, 'schema.js'));
const { schemaAjv } = await import(path.join(dist, 'schema-ajv.js'));
const { loadValidatorScript, warmValidatorCache, VALIDATOR_RUNTIME } = await import(path.join(dist, 'validator-script.js'));

const ajv = schemaAjv({ code: { source: true, esm: false } });
const validate = ajv.compile(configSchema);
// The script is one function expression taking what the generated code refers to by name: the
// `unit` keyword's `unitValid` (src/config/schema-ajv.ts) and ajv's runtime helpers, which the
// CommonJS form would `require`.
const params = ['unitValid'];
const body = standaloneCode.default(ajv, validate).replace(/require\("ajv\/dist\/runtime\/([a-z0-9]+)"\)\.default/g, (_, name) => {
  if (!(name in VALIDATOR_RUNTIME)) throw new Error(`gen-schema-validator: ajv runtime helper ${name} is not in VALIDATOR_RUNTIME (src/config/validator-script.ts)`);
  if (!params.includes(name)) params.push(name);
  return name;
});
if (/\brequire\(/.test(body)) throw new Error('gen-schema-validator: the standalone code requires something not handled here');
const script = `(function (${['module', ...params].join(', ')}) {\n${body}\nreturn module.exports;\n})`;
const out = path.join(dist, 'schema-validator.script.js');
writeAtomic(out, script);
// Run it once so V8 compiles the functions a config check uses, then keep the compiled code.
fs.rmSync(out.replace(/\.script\.js$/, '.cache'), { force: true });
writeAtomic(out.replace(/\.script\.js$/, '.cache'), warmValidatorCache(loadValidatorScript(out)));

function writeAtomic(file, data) {
  fs.writeFileSync(`${file}.tmp`, data);
  fs.renameSync(`${file}.tmp`, file);
}
