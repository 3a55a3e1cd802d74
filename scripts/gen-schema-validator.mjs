// Build step (npm run build, after tsc): the config schema's validator as standalone code, so a
// start or `gatehouse check` does not compile the schema (ajv's compile is most of `check`'s time).
// dist/config/schema-errors.js loads dist/config/schema-validator.js when it exists.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import standaloneCode from 'ajv/dist/standalone/index.js';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'config');
const { configSchema } = await import(path.join(dist, 'schema.js'));
const { schemaAjv } = await import(path.join(dist, 'schema-ajv.js'));

const ajv = schemaAjv({ code: { source: true, esm: true } });
const validate = ajv.compile(configSchema);
// The `unit` keyword's code calls `unitValid` by name (src/config/schema-ajv.ts). ajv's runtime
// helpers (ucs2length for minLength) come as `require("ajv/dist/runtime/NAME").default`; an ES
// module imports them instead (which also lets scripts/bundle.mjs bundle this file).
const imports = new Map();
const body = standaloneCode.default(ajv, validate).replace(/require\("(ajv\/dist\/runtime\/[a-z0-9]+)"\)\.default/g, (_, spec) => {
  if (!imports.has(spec)) imports.set(spec, `ajvRuntime${imports.size}`);
  return imports.get(spec);
});
if (/\brequire\(/.test(body)) throw new Error('gen-schema-validator: the standalone code requires something not handled here');
const header = [
  "import { unitValid } from './unit-check.js';",
  // A CommonJS module's default import is its module.exports; the helper is its `default` property.
  ...[...imports].map(([spec, name]) => `import ${name}Module from '${spec}.js';\nconst ${name} = ${name}Module.default;`),
].join('\n');
const code = `${header}\n${body}`;
const out = path.join(dist, 'schema-validator.js');
fs.writeFileSync(`${out}.tmp`, code);
fs.renameSync(`${out}.tmp`, out);
