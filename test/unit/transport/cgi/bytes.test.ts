// Byte strings: what each codec writes for a string, and how decoded paths become nginx's bytes.
import { expect } from 'chai';
import { toBytes, utf8ByteString } from '../../../../src/transport/cgi/bytes.js';

describe('cgi byte strings', () => {
  it('writes latin1 strings byte for byte and wider strings as UTF-8', () => {
    expect(toBytes('a\xe9\xff').toString('hex')).to.equal('61e9ff');
    expect(toBytes('a€').toString('hex')).to.equal('61e282ac');
  });

  it('turns decoded text into its UTF-8 bytes, astral chars included', () => {
    expect(utf8ByteString('/plain')).to.equal('/plain');
    expect(utf8ByteString('/café')).to.equal('/caf\xc3\xa9');
    expect(utf8ByteString('/\u{1f600}')).to.equal('/\xf0\x9f\x98\x80');
  });

  it('turns a surrogate-escaped byte (router/uri-bytes.ts) back into that byte', () => {
    // "/a%FFé%C3" decoded: 0xFF and a lone 0xC3 are not UTF-8, so they come as U+DCFF and U+DCC3.
    expect(utf8ByteString('/a\udcffé\udcc3')).to.equal('/a\xff\xc3\xa9\xc3');
    // U+10080 is the pair D800 DC80: its low half is in the escape range but belongs to the pair.
    expect(utf8ByteString('\u{10080}\udc80')).to.equal('\xf0\x90\x82\x80\x80');
  });
});
