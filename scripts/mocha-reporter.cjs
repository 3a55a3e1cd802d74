// Mocha's spec output plus the plain closing line CI reads: "N passed, N failed".
// With GATEHOUSE_TEST_SUMMARY set, the same line is also written to that file, so .ci/run can
// print it last, after whatever npm prints.
'use strict';
const fs = require('node:fs');
const Mocha = require('mocha');

const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats || { passes: 0, failures: 0, pending: 0 };
      const line = `${s.passes} passed, ${s.failures} failed${s.pending ? `, ${s.pending} skipped` : ''}`;
      process.stdout.write(`\n${line}\n`);
      if (process.env.GATEHOUSE_TEST_SUMMARY) fs.writeFileSync(process.env.GATEHOUSE_TEST_SUMMARY, `${line}\n`);
    });
  }
}

module.exports = SummaryReporter;
