import { expect } from 'chai';
import { policyRequest, secondaryKey, selectVariant, varyFields, withVariant } from '../../../src/cache/variant.js';
import { variant } from './fixtures.js';

describe('cache/variant', () => {
  it('reads Vary field names lower-case, sorted, from one or several header lines', () => {
    expect(varyFields('Accept-Language, Accept-Encoding')).to.deep.equal(['accept-encoding', 'accept-language']);
    expect(varyFields(['Accept', 'Origin'])).to.deep.equal(['accept', 'origin']);
    expect(varyFields(undefined)).to.deep.equal([]);
  });

  it('builds the same secondary key for requests that differ only in whitespace around commas', () => {
    const a = secondaryKey(['accept-encoding'], { 'accept-encoding': 'gzip,  br' });
    const b = secondaryKey(['accept-encoding'], { 'accept-encoding': 'gzip , br' });
    expect(a).to.equal(b);
    expect(secondaryKey(['accept-encoding'], { 'accept-encoding': 'br' })).to.not.equal(a);
  });

  it('has no secondary key for Vary: * (never matches, RFC 9111 §4.1)', () => {
    expect(secondaryKey(['*'], {})).to.equal(undefined);
  });

  it('selects the variant whose Vary fields match the request', () => {
    const en = variant('en', { 'cache-control': 'max-age=60', vary: 'Accept-Language' }, { 'accept-language': 'en' });
    const fr = variant('fr', { 'cache-control': 'max-age=60', vary: 'Accept-Language' }, { 'accept-language': 'fr' });
    const req = (lang: string) => policyRequest('https://a.test/x', 'GET', 'a.test', { 'accept-language': lang });
    expect(selectVariant([en, fr], req('fr'))?.body.toString()).to.equal('fr');
    expect(selectVariant([en, fr], req('de'))).to.equal(undefined);
  });

  it('replaces the variant with the same secondary key and keeps the newest first', () => {
    const en1 = variant('en1', { vary: 'Accept-Language', 'cache-control': 'max-age=60' }, { 'accept-language': 'en' });
    const fr = variant('fr', { vary: 'Accept-Language', 'cache-control': 'max-age=60' }, { 'accept-language': 'fr' });
    const en2 = variant('en2', { vary: 'Accept-Language', 'cache-control': 'max-age=60' }, { 'accept-language': 'en' });
    const out = withVariant(withVariant(withVariant(undefined, en1), fr), en2);
    expect(out.map((v) => v.body.toString())).to.deep.equal(['en2', 'fr']);
  });

  it('drops HTTP/2 pseudo-headers and sets host for http-cache-semantics', () => {
    const req = policyRequest('k', 'GET', 'a.test', { ':path': '/x', ':authority': 'a.test:8443', accept: '*/*' });
    expect(req.headers).to.deep.equal({ accept: '*/*', host: 'a.test' });
  });
});
