import { expect } from 'chai';
import type { ResponseHeaders } from '../../../src/http/exchange.js';
import { addVary, isCompressibleType, mayCompress, weakenEtag } from '../../../src/middleware/compress-policy.js';

describe('compression policy', () => {
  describe('compressible types', () => {
    for (const t of ['text/html', 'text/plain; charset=utf-8', 'TEXT/CSS', 'text/event-stream', 'application/json', 'application/javascript',
      'image/svg+xml', 'application/ld+json', 'application/atom+xml; charset=utf-8', 'application/wasm']) {
      it(`${t} is compressed`, () => expect(isCompressibleType(t)).to.equal(true));
    }
    for (const t of [undefined, 'image/png', 'image/jpeg', 'video/mp4', 'application/zip', 'application/gzip', 'font/woff2',
      'application/octet-stream', 'application/grpc', 'application/grpc+proto', 'multipart/byteranges; boundary=x']) {
      it(`${String(t)} is not`, () => expect(isCompressibleType(t)).to.equal(false));
    }
  });

  describe('responses', () => {
    const base = (extra: ResponseHeaders = {}): ResponseHeaders => ({ 'content-type': 'text/html', ...extra });
    it('a 200 text body of unknown length or ≥ 1 KiB may be compressed', () => {
      expect(mayCompress(200, base())).to.equal(true);
      expect(mayCompress(200, base({ 'content-length': 1024 }))).to.equal(true);
      expect(mayCompress(404, base({ 'content-length': '5000' }))).to.equal(true);
    });
    it('bodies under 1 KiB are not', () => expect(mayCompress(200, base({ 'content-length': 1023 }))).to.equal(false));
    it('204, 206, 304 and 1xx are not', () => {
      for (const s of [101, 204, 206, 304]) expect(mayCompress(s, base()), String(s)).to.equal(false);
    });
    it('a Content-Range is not', () => expect(mayCompress(200, base({ 'content-range': 'bytes 0-9/100' }))).to.equal(false));
    it('Cache-Control: no-transform is respected', () => {
      expect(mayCompress(200, base({ 'cache-control': 'public, no-transform' }))).to.equal(false);
      expect(mayCompress(200, base({ 'cache-control': 'no-transformation, max-age=1' }))).to.equal(true);
    });
    it('an encoded body is left alone, an identity one is not', () => {
      expect(mayCompress(200, base({ 'content-encoding': 'gzip' }))).to.equal(false);
      expect(mayCompress(200, base({ 'content-encoding': 'identity' }))).to.equal(true);
    });
  });

  it('adds Vary once, keeping what is there', () => {
    const h: ResponseHeaders = {};
    addVary(h, 'Accept-Encoding');
    expect(h.vary).to.equal('Accept-Encoding');
    const h2: ResponseHeaders = { vary: 'Origin' };
    addVary(h2, 'Accept-Encoding');
    addVary(h2, 'Accept-Encoding');
    expect(h2.vary).to.equal('Origin, Accept-Encoding');
    const h3: ResponseHeaders = { vary: ['Origin', 'accept-encoding'] };
    addVary(h3, 'Accept-Encoding');
    expect(h3.vary).to.deep.equal(['Origin', 'accept-encoding']);
    const h4: ResponseHeaders = { vary: '*' };
    addVary(h4, 'Accept-Encoding');
    expect(h4.vary).to.equal('*');
  });

  it('weakens a strong ETag and leaves a weak one', () => {
    const strong: ResponseHeaders = { etag: '"abc"' };
    weakenEtag(strong);
    expect(strong.etag).to.equal('W/"abc"');
    const weak: ResponseHeaders = { etag: 'W/"abc"' };
    weakenEtag(weak);
    expect(weak.etag).to.equal('W/"abc"');
  });
});
