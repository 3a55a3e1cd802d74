// RFC 9110 §13.2.2 precondition order and §13.1.5 If-Range, on one file's validators.
import { expect } from 'chai';
import { evaluatePreconditions, ifRangeHolds } from '../../../src/handler/static-conditional.js';

const v = { etag: '"65f0-3e8"', mtimeSec: 1_700_000_000 };
const LM = new Date(v.mtimeSec * 1000).toUTCString();
const BEFORE = new Date((v.mtimeSec - 60) * 1000).toUTCString();

describe('handler/static-conditional', () => {
  it('answers If-None-Match with 304 for GET/HEAD (weak comparison) and 412 for other methods', () => {
    expect(evaluatePreconditions('GET', { 'if-none-match': `"a", W/${v.etag}` }, v)).to.equal(304);
    expect(evaluatePreconditions('HEAD', { 'if-none-match': '*' }, v)).to.equal(304);
    expect(evaluatePreconditions('DELETE', { 'if-none-match': v.etag }, v)).to.equal(412);
    expect(evaluatePreconditions('GET', { 'if-none-match': '"other"' }, v)).to.equal('ok');
  });

  it('uses If-Modified-Since only without If-None-Match, and only on GET/HEAD', () => {
    expect(evaluatePreconditions('GET', { 'if-modified-since': LM }, v)).to.equal(304);
    expect(evaluatePreconditions('GET', { 'if-modified-since': BEFORE }, v)).to.equal('ok');
    expect(evaluatePreconditions('GET', { 'if-none-match': '"x"', 'if-modified-since': LM }, v)).to.equal('ok');
    expect(evaluatePreconditions('POST', { 'if-modified-since': LM }, v)).to.equal('ok');
    expect(evaluatePreconditions('GET', { 'if-modified-since': 'yesterday' }, v)).to.equal('ok');
  });

  it('fails If-Match (strong comparison) and If-Unmodified-Since with 412, before looking at If-None-Match', () => {
    expect(evaluatePreconditions('GET', { 'if-match': '"x"' }, v)).to.equal(412);
    expect(evaluatePreconditions('GET', { 'if-match': `W/${v.etag}` }, v)).to.equal(412);
    expect(evaluatePreconditions('GET', { 'if-match': v.etag, 'if-none-match': v.etag }, v)).to.equal(304);
    expect(evaluatePreconditions('GET', { 'if-match': '*' }, v)).to.equal('ok');
    expect(evaluatePreconditions('GET', { 'if-unmodified-since': BEFORE }, v)).to.equal(412);
    expect(evaluatePreconditions('GET', { 'if-unmodified-since': LM }, v)).to.equal('ok');
    // If-Match present: If-Unmodified-Since is not evaluated (§13.2.2 step 2).
    expect(evaluatePreconditions('GET', { 'if-match': v.etag, 'if-unmodified-since': BEFORE }, v)).to.equal('ok');
  });

  it('holds If-Range for the exact strong ETag or the exact Last-Modified date only', () => {
    expect(ifRangeHolds({}, v)).to.equal(true);
    expect(ifRangeHolds({ 'if-range': v.etag }, v)).to.equal(true);
    expect(ifRangeHolds({ 'if-range': `W/${v.etag}` }, v)).to.equal(false);
    expect(ifRangeHolds({ 'if-range': LM }, v)).to.equal(true);
    expect(ifRangeHolds({ 'if-range': BEFORE }, v)).to.equal(false);
    expect(ifRangeHolds({ 'if-range': 'garbage' }, v)).to.equal(false);
  });
});
