// The streaming record parser against hand-written FastCGI 1.0 streams (§3.3).
import { expect } from 'chai';
import { FcgiType } from '../../../../src/transport/fastcgi/codec.js';
import { FastCgiRecordParser, type FastCgiRecord } from '../../../../src/transport/fastcgi/record-parser.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// What php-fpm sends for a request that logs a warning: STDOUT, STDERR in between, more STDOUT,
// the empty STDOUT record, END_REQUEST.
const STDOUT_HELLO = '01 06 0001 0005 03 00  68656c6c6f 000000'; // "hello", 3 padding
const STDERR_OOPS = '01 07 0001 0004 04 00  6f6f7073 00000000'; // "oops", 4 padding
const STDOUT_BANG = '01 06 0001 0001 07 00  21 00000000000000'; // "!", 7 padding
const STDOUT_END = '01 06 0001 0000 00 00';
const END_REQUEST = '01 03 0001 0008 00 00  00000000 00 000000';
const STREAM = hex([STDOUT_HELLO, STDERR_OOPS, STDOUT_BANG, STDOUT_END, END_REQUEST].join(' '));

function summary(records: FastCgiRecord[]): Array<[number, number, string]> {
  return records.map((r) => [r.type, r.requestId, r.content.toString('latin1')]);
}

const EXPECTED: Array<[number, number, string]> = [
  [FcgiType.STDOUT, 1, 'hello'],
  [FcgiType.STDERR, 1, 'oops'],
  [FcgiType.STDOUT, 1, '!'],
  [FcgiType.STDOUT, 1, ''],
  [FcgiType.END_REQUEST, 1, '\0'.repeat(8)],
];

function collect(): { records: FastCgiRecord[]; parser: FastCgiRecordParser } {
  const records: FastCgiRecord[] = [];
  return { records, parser: new FastCgiRecordParser((r) => records.push(r)) };
}

function expectProto(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect((err as { code?: string }).code).to.equal('EFCGIPROTO');
    expect((err as Error).message).to.match(pattern);
    return;
  }
  expect.fail('expected EFCGIPROTO');
}

describe('FastCgiRecordParser', () => {
  it('parses a whole stream in one push, skipping padding, with STDERR interleaved', () => {
    const { records, parser } = collect();
    parser.push(STREAM);
    parser.finish();
    expect(summary(records)).to.deep.equal(EXPECTED);
  });

  it('gives the same records when fed one byte at a time', () => {
    const { records, parser } = collect();
    for (let i = 0; i < STREAM.length; i++) parser.push(STREAM.subarray(i, i + 1));
    parser.finish();
    expect(summary(records)).to.deep.equal(EXPECTED);
  });

  it('gives the same records for every two-way split of the stream', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const { records, parser } = collect();
      parser.push(STREAM.subarray(0, cut));
      parser.push(STREAM.subarray(cut));
      parser.finish();
      expect(summary(records), `cut at ${cut}`).to.deep.equal(EXPECTED);
    }
  });

  it('emits a record as soon as its content is complete, before its padding arrives', () => {
    const { records, parser } = collect();
    parser.push(hex('01 06 0001 0005 03 00  68656c6c6f')); // no padding yet
    expect(summary(records)).to.deep.equal([[FcgiType.STDOUT, 1, 'hello']]);
    expect(parser.atBoundary).to.equal(false);
    parser.push(hex('000000'));
    expect(parser.atBoundary).to.equal(true);
  });

  it('hands out a slice of the pushed chunk when the content is whole in it', () => {
    const { records, parser } = collect();
    parser.push(STREAM);
    expect(records[0]!.content.buffer).to.equal(STREAM.buffer);
  });

  it('accepts records without padding and keeps request ids', () => {
    const { records, parser } = collect();
    parser.push(hex('01 06 0102 0003 00 00 616263  01 0a 0000 0000 00 00'));
    parser.finish();
    expect(summary(records)).to.deep.equal([
      [FcgiType.STDOUT, 0x0102, 'abc'],
      [FcgiType.GET_VALUES_RESULT, 0, ''],
    ]);
  });

  it('reads a full 65535-byte record', () => {
    const { records, parser } = collect();
    const content = Buffer.alloc(65535, 0x7a);
    parser.push(hex('01 06 0001 ffff 01 00'));
    parser.push(content.subarray(0, 1000));
    parser.push(content.subarray(1000));
    parser.push(hex('00'));
    parser.finish();
    expect(records).to.have.length(1);
    expect(records[0]!.content.equals(content)).to.equal(true);
  });

  it('rejects version 2', () => {
    const { parser } = collect();
    expectProto(() => parser.push(hex('02 06 0001 0000 00 00')), /version 2/);
  });

  it('rejects unknown record types 0 and 12', () => {
    expectProto(() => collect().parser.push(hex('01 00 0001 0000 00 00')), /unknown type 0/);
    expectProto(() => collect().parser.push(hex('01 0c 0001 0000 00 00')), /unknown type 12/);
  });

  it('delivers the records before a bad header, then stays failed', () => {
    const { records, parser } = collect();
    expectProto(() => parser.push(hex(STDOUT_HELLO + '02 06 0001 0000 00 00')), /version/);
    expect(summary(records)).to.deep.equal([[FcgiType.STDOUT, 1, 'hello']]);
    expectProto(() => parser.push(hex(STDOUT_END)), /version/);
    expectProto(() => parser.finish(), /version/);
  });

  it('rejects a stream truncated inside a header, the content or the padding', () => {
    const truncatedHeader = collect().parser;
    truncatedHeader.push(hex('01 06 00'));
    expectProto(() => truncatedHeader.finish(), /truncated after 3 of 8 header bytes/);

    const truncatedContent = collect();
    truncatedContent.parser.push(hex('01 06 0001 0005 03 00  6865'));
    expectProto(() => truncatedContent.parser.finish(), /truncated after 2 of 5 content bytes/);
    expect(truncatedContent.records).to.deep.equal([]);

    const truncatedPadding = collect().parser;
    truncatedPadding.push(hex('01 06 0001 0005 03 00  68656c6c6f 00'));
    expectProto(() => truncatedPadding.finish(), /padding/);
  });

  it('ends cleanly on a record boundary, including an empty stream', () => {
    expect(() => collect().parser.finish()).not.to.throw();
  });
});
