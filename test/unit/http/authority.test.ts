// Host and :authority as gatehouse accepts and compares them (security review F5; RFC 9113 §8.3.1).
import { expect } from 'chai';
import { hostOfAuthority, sameAuthority } from '../../../src/http/authority.js';

describe('handler/authority', () => {
  it('hostOfAuthority: lower-case host without port or trailing dot; undefined when invalid', () => {
    expect(hostOfAuthority('A.Test.:8443')).to.equal('a.test');
    expect(hostOfAuthority('[::1]:80')).to.equal('::1');
    for (const bad of ['', 'a..test', 'a.test:x', 'a.test/x', 'a.test:@evil.test', '.', 'a.test:123456']) {
      expect(hostOfAuthority(bad), bad).to.equal(undefined);
    }
  });

  it('sameAuthority (RFC 9113 §8.3.1): host compared case-insensitively, one trailing dot, default port', () => {
    for (const [a, b] of [
      ['a.test', 'A.TEST'],
      ['a.test', 'a.test.'],
      ['a.test', 'a.test:443'],
      ['a.test:443', 'a.test'],
      ['a.test:', 'a.test'],
      ['[::1]', '[::1]:443'],
    ]) {
      expect(sameAuthority(a!, b!, 443), `${a} ${b}`).to.equal(true);
    }
    for (const [a, b] of [
      ['a.test', 'b.test'],
      ['a.test', 'a.test:8443'],
      ['a.test:8443', 'a.test'],
      ['a.test', 'a.test:80'],
      ['a.test', 'a.test..'],
      ['a.test', 'a.test:@evil.test'],
      ['[::1]', '[::2]'],
    ]) {
      expect(sameAuthority(a!, b!, 443), `${a} ${b}`).to.equal(false);
    }
    expect(sameAuthority('a.test', 'a.test:80', 80)).to.equal(true);
  });
});
