// Choosing a precompressed sibling from Accept-Encoding (RFC 9110 §12.5.3).
import { expect } from 'chai';
import { chooseEncoding, type StaticEncoding } from '../../../src/handler/static-encoding.js';

const both = new Set<StaticEncoding>(['br', 'gzip']);

describe('handler/static-encoding', () => {
  it('prefers br on a tie and follows q-values otherwise', () => {
    expect(chooseEncoding('gzip, deflate, br', both)).to.equal('br');
    expect(chooseEncoding('br;q=0.5, gzip;q=0.9', both)).to.equal('gzip');
    expect(chooseEncoding('gzip;q=1.0, br; q=1', both)).to.equal('br');
  });

  it('treats q=0 as a refusal, x-gzip as gzip, and * as every coding not named', () => {
    expect(chooseEncoding('br;q=0, gzip', both)).to.equal('gzip');
    expect(chooseEncoding('br;q=0, gzip;q=0', both)).to.equal(undefined);
    expect(chooseEncoding('x-gzip', both)).to.equal('gzip');
    expect(chooseEncoding('*', both)).to.equal('br');
    expect(chooseEncoding('br;q=0, *', both)).to.equal('gzip');
  });

  it('sends identity without the header, without siblings, or when identity is preferred', () => {
    expect(chooseEncoding(undefined, both)).to.equal(undefined);
    expect(chooseEncoding('br', new Set())).to.equal(undefined);
    expect(chooseEncoding('br', new Set<StaticEncoding>(['gzip']))).to.equal(undefined);
    expect(chooseEncoding('br;q=0.1, identity', both)).to.equal(undefined);
  });
});
