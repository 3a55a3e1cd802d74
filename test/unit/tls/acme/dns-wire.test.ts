// Raw DNS message walking on hostile input: compression pointers that loop or point forward, names over
// 255 octets, records running past the end all end in an error, never a hang or an out-of-range read.
import { expect } from 'chai';
import { canonicalName, lastRecordOffset, readName } from '../../../../src/tls/acme/dns/wire.js';

const header = (qd: number, ar: number) => Buffer.from([0, 1, 0x80, 0, 0, qd, 0, 0, 0, 0, 0, ar]);

describe('DNS wire reading (hostile input)', () => {
  it('reads plain and compressed names', () => {
    const msg = Buffer.concat([header(1, 0), canonicalName('a.example.test'), Buffer.from([0, 16, 0, 1]), Buffer.from([1, 0x62, 0xc0, 14])]);
    expect(readName(msg, 12)).to.deep.equal({ name: 'a.example.test', end: 12 + 16 });
    expect(readName(msg, 32)).to.deep.equal({ name: 'b.example.test', end: 36 });
  });

  it('refuses a pointer to itself, a forward pointer and a two-pointer loop', () => {
    expect(() => readName(Buffer.concat([header(0, 0), Buffer.from([0xc0, 12])]), 12)).to.throw(/backward/);
    expect(() => readName(Buffer.concat([header(0, 0), Buffer.from([0xc0, 14, 0])]), 12)).to.throw(/backward/);
    // 12: label "a" then pointer to 16; 16: pointer back to 12. The second jump is not below the lowest seen.
    expect(() => readName(Buffer.concat([header(0, 0), Buffer.from([1, 0x61, 0xc0, 16, 0xc0, 12])]), 16)).to.throw(/backward/);
  });

  it('refuses names over 255 octets and labels past the end', () => {
    const long = Buffer.concat([...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])), Buffer.from([0])]);
    expect(() => readName(Buffer.concat([header(0, 0), long]), 12)).to.throw(/too long/);
    expect(() => readName(Buffer.concat([header(0, 0), Buffer.from([10, 0x61])]), 12)).to.throw();
  });

  it('a record whose length runs past the message is an error', () => {
    const msg = Buffer.concat([header(0, 1), Buffer.from([0, 0, 250, 0, 255, 0, 0, 0, 0, 0xff, 0xff])]);
    expect(() => lastRecordOffset(msg)).to.throw(/past the message/);
  });
});
