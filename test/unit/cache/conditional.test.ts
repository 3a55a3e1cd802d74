import { expect } from 'chai';
import { notModified } from '../../../src/cache/conditional.js';

describe('cache/conditional', () => {
  const stored = { etag: 'W/"v1"', 'last-modified': 'Tue, 24 Nov 2026 10:00:00 GMT' };

  it('matches If-None-Match weakly, in a list, and *', () => {
    expect(notModified({ 'if-none-match': '"v1"' }, stored)).to.equal(true);
    expect(notModified({ 'if-none-match': '"v0", W/"v1"' }, stored)).to.equal(true);
    expect(notModified({ 'if-none-match': '*' }, stored)).to.equal(true);
    expect(notModified({ 'if-none-match': '"v2"' }, stored)).to.equal(false);
  });

  it('ignores If-Modified-Since when If-None-Match is present (RFC 9110 §13.2.2)', () => {
    expect(notModified({ 'if-none-match': '"v2"', 'if-modified-since': 'Tue, 24 Nov 2026 11:00:00 GMT' }, stored)).to.equal(false);
  });

  it('compares If-Modified-Since with Last-Modified', () => {
    expect(notModified({ 'if-modified-since': 'Tue, 24 Nov 2026 10:00:00 GMT' }, stored)).to.equal(true);
    expect(notModified({ 'if-modified-since': 'Tue, 24 Nov 2026 09:59:59 GMT' }, stored)).to.equal(false);
    expect(notModified({ 'if-modified-since': 'yesterday' }, stored)).to.equal(false);
    expect(notModified({ 'if-modified-since': 'Tue, 24 Nov 2026 10:00:00 GMT' }, {})).to.equal(false);
  });
});
