// The build precompiles the config schema (scripts/gen-schema-validator.mjs) and `run`/`check` use
// that code, run as a script with a V8 code cache; the unit tests, run from source, compile it at
// start. Both must give the same verdicts and the same errors, or a message proven here would differ
// in the product. `npm test` builds first.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../../../src/config/schema.js';
import { schemaAjv } from '../../../src/config/schema-ajv.js';
import { loadValidatorScript } from '../../../src/config/validator-script.js';

const built = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/schema-validator.script.js');

const samples: unknown[] = [
  { sites: [{ hosts: ['a.test'], routes: [{ location: '/', proxy: 'http://127.0.0.1:1' }] }] },
  { sites: [{}] },
  { listen: { http: 'x' }, sites: [{ hosts: ['a.test'], tls: 'acm', timeouts: { header: '5x' } }] },
  { sites: [{ hosts: ['a.test'], routes: [{ location: '/', cache: 'zz', routes: [{ location: '/a', bogus: 1, routes: [{ location: '/a/b', maxBody: '1q' }] }] }] }] },
  { bogus: true, sites: [{ hosts: [], compress: 'gzip', upgrade: [1] }] },
];

describe('config schema: the precompiled validator', () => {
  it('gives the errors the validator compiled from source gives', () => {
    expect(fs.existsSync(built), `${built} is missing: npm run build`).to.equal(true);
    const precompiled = loadValidatorScript(built).validate as unknown as ((v: unknown) => boolean) & { errors?: unknown[] };
    const compiled = schemaAjv().compile(configSchema);
    for (const sample of samples) {
      const verdict = compiled(sample);
      expect(precompiled(sample), JSON.stringify(sample)).to.equal(verdict);
      const strip = (errs: unknown[] | null | undefined): unknown[] => (errs ?? []).map((e) => JSON.parse(JSON.stringify(e)) as unknown);
      expect(strip(precompiled.errors), JSON.stringify(sample)).to.deep.equal(strip(compiled.errors));
    }
    expect(samples.filter((s) => !compiled(s))).to.have.length(4);
  });

  it('is loaded with its code cache: V8 accepts the cache the build wrote (else every check compiles 300 kB again)', () => {
    // In a fresh Node, as `gatehouse check` runs: V8 ties a cache to its flags, and a test earlier in this
    // process may have changed them (loop-cost.test.ts sets --expose-gc), which would reject any cache.
    const probe = `import { loadValidatorScript } from ${JSON.stringify(path.join(path.dirname(built), 'config/validator-script.js'))};
process.stdout.write(String(loadValidatorScript(${JSON.stringify(built)}).cached));`;
    expect(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { timeout: 20_000 }).toString()).to.equal('true');
  });
});
