import { expect } from 'chai';
import { MemoryStore } from '../../../src/cache/memory-store.js';
import { variantSize } from '../../../src/cache/variant.js';
import { variant } from './fixtures.js';

describe('cache/memory-store', () => {
  it('evicts the least recently used key once the byte cap is reached', () => {
    const one = variant('a'.repeat(1000));
    const store = new MemoryStore(variantSize(one) * 2 + 10);
    store.set('a', [variant('a'.repeat(1000))]);
    store.set('b', [variant('b'.repeat(1000))]);
    expect(store.get('a')).to.not.equal(undefined); // a is now the most recently used
    store.set('c', [variant('c'.repeat(1000))]);
    expect(store.get('b')).to.equal(undefined);
    expect(store.get('a')?.[0]?.body.toString()).to.equal('a'.repeat(1000));
    expect(store.get('c')).to.not.equal(undefined);
    expect(store.bytes).to.be.at.most(variantSize(one) * 2 + 10);
  });

  it('does not keep an entry larger than the whole store', () => {
    const store = new MemoryStore(500);
    store.set('big', [variant('x'.repeat(1000))]);
    expect(store.get('big')).to.equal(undefined);
  });

  it('deletes a key with all its variants', () => {
    const store = new MemoryStore(1 << 20);
    store.set('k', [variant('1'), variant('2')]);
    expect(store.delete('k')).to.equal(true);
    expect(store.delete('k')).to.equal(false);
  });
});
