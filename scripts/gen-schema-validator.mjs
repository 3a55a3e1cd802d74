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
// The `unit` keyword's code calls `unitValid` by name (src/config/schema-ajv.ts); ajv's runtime
// helpers (ucs2length for minLength) come through require(), which an ES module has to make.
const header = [
  "import { createRequire } from 'node:module';",
  "import { unitValid } from './unit-check.js';",
  'const require = createRequire(import.meta.url);',
].join('\n');
const code = `${header}\n${standaloneCode.default(ajv, validate)}`;
const out = path.join(dist, 'schema-validator.js');
fs.writeFileSync(`${out}.tmp`, code);
fs.renameSync(`${out}.tmp`, out);
