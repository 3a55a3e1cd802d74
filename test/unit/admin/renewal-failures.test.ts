import { expect } from 'chai';
import { RenewalFailures } from '../../../src/admin/renewal-failures.js';

const row = (failures: number, at: string | null) => ({ names: ['a.test', 'www.a.test'], source: 'acme', failures, lastError: at ? { at } : null });

describe('admin/renewal failures counter', () => {
  it('counts failures from the storage\'s runs of failures, across successes, never going down', () => {
    const c = new RenewalFailures();
    c.update([row(0, null)]);
    expect(c.total('a.test')).to.equal(0);
    c.update([row(2, 't1')]); // first sight: the run so far
    expect(c.total('a.test')).to.equal(2);
    c.update([row(2, 't1')]); // the same refresh again
    expect(c.total('a.test')).to.equal(2);
    c.update([row(5, 't2')]); // three more
    expect(c.total('a.test')).to.equal(5);
    c.update([row(0, null)]); // a success: the storage's count starts again, the total stays
    expect(c.total('a.test')).to.equal(5);
    c.update([row(1, 't3')]);
    expect(c.total('a.test')).to.equal(6);
    c.update([row(2, 't5')]); // a success and two failures between two refreshes
    expect(c.total('a.test')).to.equal(7);
    c.update([{ ...row(9, 't9'), source: 'manual' }]);
    expect(c.total('a.test')).to.equal(7);
  });
});
