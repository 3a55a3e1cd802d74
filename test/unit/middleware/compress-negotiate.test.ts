import { expect } from 'chai';
import { chooseCoding, parseAcceptEncoding } from '../../../src/middleware/compress-negotiate.js';

describe('Accept-Encoding negotiation (RFC 9110 §12.5.3)', () => {
  const both = ['br', 'gzip'] as const;

  it('parses q-values, case and whitespace', () => {
    const m = parseAcceptEncoding(' GZIP ; q=0.5,br;Q=1 , deflate;q=0, x;q=bogus');
    expect([...m]).to.deep.equal([
      ['gzip', 0.5],
      ['br', 1],
      ['deflate', 0],
      ['x', 0],
    ]);
  });

  const cases: Array<[string | undefined, readonly ('br' | 'gzip')[], string | undefined]> = [
    [undefined, both, undefined], // no header: identity, as nginx and Caddy do
    ['', both, undefined],
    ['gzip, deflate, br', both, 'br'], // equal weights: the site's order
    ['gzip, br', ['gzip', 'br'], 'gzip'],
    ['gzip;q=1, br;q=0.5', both, 'gzip'], // the client's weights first
    ['br;q=0, gzip', both, 'gzip'], // q=0 refuses
    ['br;q=0, gzip;q=0', both, undefined],
    ['*', both, 'br'],
    ['*;q=0.5, br;q=0', both, 'gzip'],
    ['*;q=0', both, undefined],
    ['x-gzip', both, 'gzip'],
    ['identity', both, undefined],
    ['identity;q=1, gzip;q=0.5', both, undefined], // the client prefers the identity body
    ['gzip;q=0.5, identity;q=0.1', both, 'gzip'],
    ['deflate', both, undefined],
    ['br', ['gzip'], undefined], // not offered by the site
    ['gzip, br', [], undefined], // compress: off
  ];
  for (const [header, offered, want] of cases) {
    it(`${JSON.stringify(header)} with [${offered.join(', ')}] → ${want ?? 'identity'}`, () => {
      expect(chooseCoding(header, offered)).to.equal(want);
    });
  }

  it('joins a header sent several times', () => {
    expect(chooseCoding(['br;q=0', 'gzip'], both)).to.equal('gzip');
  });
});
