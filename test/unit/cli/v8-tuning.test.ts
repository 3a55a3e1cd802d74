// Which V8 flags `gatehouse run` sets at start (src/cli/v8-tuning.ts): its serving flags, unless the
// operator named the same flag to Node either way. The effect under load is a benchmark, not a test:
// docs/performance.md "GC under many concurrent requests (issue 20)" and scripts/bench/fresh-starts.mjs.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { SERVING_V8_FLAGS, servingFlagsToSet } from '../../../src/cli/v8-tuning.js';

describe('V8 flags for serving', () => {
  it('sets allocation-site pretenuring off when Node was started without a word on it', () => {
    expect(SERVING_V8_FLAGS).to.deep.equal(['--no-allocation-site-pretenuring']);
    expect(servingFlagsToSet([])).to.deep.equal(['--no-allocation-site-pretenuring']);
    expect(servingFlagsToSet(['--max-semi-space-size=32', '--single-threaded-gc', '--import', 'x.mjs'])).to.deep.equal(['--no-allocation-site-pretenuring']);
  });

  it("leaves the flag to the operator's command line, in any of V8's spellings", () => {
    for (const given of ['--allocation-site-pretenuring', '--no-allocation-site-pretenuring', '--allocation_site_pretenuring', '--no_allocation_site_pretenuring', '--allocation-site-pretenuring=true']) {
      expect(servingFlagsToSet([given]), given).to.deep.equal([]);
    }
  });

  it('is a flag this Node accepts (an unknown one would be ignored with a warning, silently doing nothing)', () => {
    // V8 prints "Error: unrecognized flag" for a flag it does not have; a known one runs clean.
    const r = spawnSync(process.execPath, [...SERVING_V8_FLAGS, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
    expect(r.status).to.equal(0);
    expect(r.stderr).to.equal('');
    expect(r.stdout).to.equal('ok');
    const bogus = spawnSync(process.execPath, ['--no-allocation-site-pretenurin', '-e', '1'], { encoding: 'utf8' });
    expect(bogus.status).to.not.equal(0);
  });
});
