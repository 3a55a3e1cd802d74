import { expect } from 'chai';
import { issuerOrder } from '../../../../src/tls/acme/issuer-order.js';

const cas = [{ key: 'le' }, { key: 'zerossl' }, { key: 'private' }];
const keys = (list: Array<{ key: string }>) => list.map((c) => c.key);

describe('issuerOrder (README "Several CAs: acme.issuers")', () => {
  it('keeps config order for a first order (no certificate, so no last success)', () => {
    expect(keys(issuerOrder(cas, undefined))).to.deep.equal(['le', 'zerossl', 'private']);
  });

  it('puts the CA that signed the current certificate first, then the others in config order', () => {
    expect(keys(issuerOrder(cas, 'zerossl'))).to.deep.equal(['zerossl', 'le', 'private']);
    expect(keys(issuerOrder(cas, 'private'))).to.deep.equal(['private', 'le', 'zerossl']);
    expect(keys(issuerOrder(cas, 'le'))).to.deep.equal(['le', 'zerossl', 'private']);
  });

  it('falls back to config order when the last CA is no longer configured (or an imported certificate)', () => {
    expect(keys(issuerOrder(cas, 'removed-ca'))).to.deep.equal(['le', 'zerossl', 'private']);
  });

  it('does not change the list it is given', () => {
    const list = [...cas];
    issuerOrder(list, 'private');
    expect(keys(list)).to.deep.equal(['le', 'zerossl', 'private']);
  });
});
