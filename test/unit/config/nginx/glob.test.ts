// fnmatch(3) as glob(3) applies it to each path component for nginx's include.
import { expect } from 'chai';
import { componentRegex, hasGlobMagic } from '../../../../src/config/nginx/glob.js';

describe('config/nginx glob', () => {
  const matches = (pattern: string, names: string[]): string[] => names.filter((n) => componentRegex(pattern).test(n));

  it('sends a name through glob only when it has * ? or [ (ngx_conf_include\'s strpbrk)', () => {
    expect(['a/*.conf', 'a?', 'a[b]', 'a.conf', 'a{b}'].map(hasGlobMagic)).to.deep.equal([true, true, true, false, false]);
  });

  it('matches *, ?, bracket sets, ranges, negation and classes', () => {
    const names = ['a.conf', 'b.conf', 'ab.conf', 'c.conf', '-.conf', ']x', '1.conf', 'a.conf.bak', 'x'];
    expect(matches('*.conf', names)).to.deep.equal(['a.conf', 'b.conf', 'ab.conf', 'c.conf', '-.conf', '1.conf']);
    expect(matches('?.conf', names)).to.deep.equal(['a.conf', 'b.conf', 'c.conf', '-.conf', '1.conf']);
    expect(matches('[a-b].conf', names)).to.deep.equal(['a.conf', 'b.conf']);
    expect(matches('[!a-b].conf', names)).to.deep.equal(['c.conf', '-.conf', '1.conf']);
    expect(matches('[^a-b].conf', names)).to.deep.equal(['c.conf', '-.conf', '1.conf']);
    expect(matches('[a-].conf', names)).to.deep.equal(['a.conf', '-.conf']);
    expect(matches('[]]x', names)).to.deep.equal([']x']);
    expect(matches('[[:digit:]].conf', names)).to.deep.equal(['1.conf']);
  });

  it('treats a backslash as an escape and a [ without its ] as itself', () => {
    expect(componentRegex('a\\*').test('a*')).to.equal(true);
    expect(componentRegex('a\\*').test('ab')).to.equal(false);
    expect(componentRegex('a[b').test('a[b')).to.equal(true);
    expect(componentRegex('a.b').test('axb')).to.equal(false);
  });
});
