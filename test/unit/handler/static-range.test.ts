// The Range header against a file size (RFC 9110 §14.1.2): forms, coalescing, limits, 416.
import { expect } from 'chai';
import { MAX_RANGES, parseRange } from '../../../src/handler/static-range.js';

describe('handler/static-range', () => {
  it('reads first-last, open and suffix ranges, clamped to the file', () => {
    expect(parseRange('bytes=0-9', 100)).to.deep.equal({ kind: 'ranges', ranges: [{ start: 0, end: 9 }] });
    expect(parseRange('bytes=90-', 100)).to.deep.equal({ kind: 'ranges', ranges: [{ start: 90, end: 99 }] });
    expect(parseRange('bytes=-10', 100)).to.deep.equal({ kind: 'ranges', ranges: [{ start: 90, end: 99 }] });
    expect(parseRange('bytes=-500', 100)).to.deep.equal({ kind: 'ranges', ranges: [{ start: 0, end: 99 }] });
    expect(parseRange('bytes=50-5000', 100)).to.deep.equal({ kind: 'ranges', ranges: [{ start: 50, end: 99 }] });
    expect(parseRange('Bytes = 1-2 , ', 100)).to.deep.equal({ kind: 'ranges', ranges: [{ start: 1, end: 2 }] });
  });

  it('keeps distant ranges apart, sorted, and merges overlapping or nearly adjacent ones', () => {
    expect(parseRange('bytes=500-509,0-9', 1000)).to.deep.equal({
      kind: 'ranges',
      ranges: [
        { start: 0, end: 9 },
        { start: 500, end: 509 },
      ],
    });
    expect(parseRange('bytes=0-99,50-149,160-170', 1000)).to.deep.equal({ kind: 'ranges', ranges: [{ start: 0, end: 170 }] });
  });

  it('ignores what is not byte-range syntax, and requests for too many ranges', () => {
    for (const h of [undefined, 'items=0-1', 'bytes=', 'bytes=a-b', 'bytes=5-1', 'bytes=1-2;x', 'bytes=--1']) {
      expect(parseRange(h, 100), String(h)).to.deep.equal({ kind: 'ignore' });
    }
    const many = Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i * 10}-${i * 10}`).join(',');
    expect(parseRange(`bytes=${many}`, 1e6)).to.deep.equal({ kind: 'ignore' });
  });

  it('is unsatisfiable when no range overlaps the file, or the file is empty', () => {
    expect(parseRange('bytes=100-200', 100)).to.deep.equal({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 100)).to.deep.equal({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).to.deep.equal({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=200-300,0-0', 100)).to.deep.equal({ kind: 'ranges', ranges: [{ start: 0, end: 0 }] });
  });
});
