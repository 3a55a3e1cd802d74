// The ajv instance the config schema is compiled with, shared by the validator compiled at start
// (when running from source) and the one precompiled at build (scripts/gen-schema-validator.mjs):
// compiling the schema costs more than the rest of `gatehouse check` together (docs/performance.md
// "Start-up"), so the build does it once.
import { Ajv, _, type KeywordCxt, type Options } from 'ajv';
import { unitValid } from './unit-check.js';

export function schemaAjv(extra: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, ...extra });
  ajv.addKeyword({ keyword: 'expect', schemaType: 'string' });
  ajv.addKeyword({
    keyword: 'unit',
    type: ['string', 'number'],
    schemaType: 'string',
    // A code keyword (not `validate`) so that standalone code can be generated; the generated module
    // imports `unitValid` under that name.
    code(cxt: KeywordCxt) {
      const fn = cxt.gen.scopeValue('func', { ref: unitValid, code: _`unitValid` });
      cxt.fail(_`!${fn}(${cxt.schema as string}, ${cxt.data})`);
    },
  });
  return ajv;
}
