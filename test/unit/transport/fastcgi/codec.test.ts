// Byte-exact FastCGI 1.0 vectors, computed by hand from the spec (§3.3 header, §3.4 pairs, §5).
import { expect } from 'chai';
import {
  decodeEndRequest,
  decodeGetValuesResult,
  decodeNameValuePairs,
  encodeAbortRequest,
  encodeBeginRequest,
  encodeEndRequest,
  encodeGetValues,
  encodeGetValuesResult,
  encodeNameValuePair,
  encodeParams,
  encodeRecord,
  encodeStdin,
  encodeStdinEnd,
  FCGI_MAX_CONNS,
  FCGI_MAX_REQS,
  FCGI_MAX_STREAM_CHUNK,
  FCGI_MPXS_CONNS,
  FcgiProtocolStatus,
  FcgiRole,
  FcgiType,
} from '../../../../src/transport/fastcgi/codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const asciiHex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
const catHex = (bufs: Buffer[]): string => Buffer.concat(bufs).toString('hex');

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect((err as { code?: string }).code).to.equal(code);
    return;
  }
  expect.fail(`expected an error with code ${code}`);
}

describe('fastcgi-codec', () => {
  describe('BEGIN_REQUEST / ABORT_REQUEST / END_REQUEST', () => {
    it('encodes BEGIN_REQUEST: header, role u16 BE, FCGI_KEEP_CONN, 5 reserved bytes', () => {
      expect(encodeBeginRequest(1, FcgiRole.RESPONDER, true).toString('hex')).to.equal(
        hex('01 01 0001 0008 00 00   0001 01 00 00 00 00 00').toString('hex'),
      );
      expect(encodeBeginRequest(0x0102, FcgiRole.AUTHORIZER, false).toString('hex')).to.equal(
        hex('01 01 0102 0008 00 00   0002 00 00 00 00 00 00').toString('hex'),
      );
    });

    it('encodes ABORT_REQUEST as an empty record on the request id', () => {
      expect(encodeAbortRequest(7).toString('hex')).to.equal(hex('01 02 0007 0000 00 00').toString('hex'));
    });

    it('encodes and decodes END_REQUEST: appStatus u32 BE, protocolStatus', () => {
      expect(encodeEndRequest(1, 0, FcgiProtocolStatus.REQUEST_COMPLETE).toString('hex')).to.equal(
        hex('01 03 0001 0008 00 00   00000000 00 000000').toString('hex'),
      );
      expect(decodeEndRequest(hex('0000012c 03 000000'))).to.deep.equal({ appStatus: 300, protocolStatus: 3 });
      expect(decodeEndRequest(hex('ffffffff 00 000000')).appStatus).to.equal(0xffffffff);
      expectCode(() => decodeEndRequest(hex('00000000')), 'EFCGIPROTO');
    });

    it('rejects a request id outside u16', () => {
      expect(() => encodeAbortRequest(65536)).to.throw(RangeError);
      expect(() => encodeAbortRequest(-1)).to.throw(RangeError);
    });

    it('pads any record to 8 bytes', () => {
      expect(encodeRecord(FcgiType.STDOUT, 1, Buffer.from('abc')).toString('hex')).to.equal(
        hex('01 06 0001 0003 05 00  616263 0000000000').toString('hex'),
      );
    });
  });

  describe('name-value pairs (§3.4)', () => {
    it('uses 1-byte lengths under 128 and 4-byte lengths with the top bit set from 128', () => {
      expect(encodeNameValuePair('A', 'b').toString('hex')).to.equal('01014162');
      // 127 still fits one byte.
      expect(encodeNameValuePair('A', 'v'.repeat(127)).subarray(0, 2).toString('hex')).to.equal('017f');
      // FCGI_NameValuePair14: value of 200 = 0x800000c8.
      expect(encodeNameValuePair('LONG', 'x'.repeat(200)).toString('hex')).to.equal(
        '04' + '800000c8' + asciiHex('LONG') + '78'.repeat(200),
      );
      // FCGI_NameValuePair41: name of 130 = 0x80000082, value of 1.
      expect(encodeNameValuePair('N'.repeat(130), 'v').toString('hex')).to.equal(
        '80000082' + '01' + '4e'.repeat(130) + '76',
      );
    });

    it('writes byte strings byte for byte and wider strings as UTF-8', () => {
      expect(encodeNameValuePair('K', 'caf\xe9').toString('hex')).to.equal('0104' + '4b' + '636166e9');
      expect(encodeNameValuePair('K', '€').toString('hex')).to.equal('0103' + '4b' + 'e282ac');
    });

    it('decodes pairs of both length forms and rejects a truncated stream', () => {
      const bytes = Buffer.concat([encodeNameValuePair('A', 'b'), encodeNameValuePair('LONG', 'x'.repeat(200))]);
      expect(decodeNameValuePairs(bytes)).to.deep.equal([
        ['A', 'b'],
        ['LONG', 'x'.repeat(200)],
      ]);
      expectCode(() => decodeNameValuePairs(hex('0105 41 6263')), 'EFCGIPROTO');
      expectCode(() => decodeNameValuePairs(hex('01 8000')), 'EFCGIPROTO');
    });
  });

  describe('PARAMS (§5.2)', () => {
    it('sends one padded record then the empty PARAMS record', () => {
      // 0b 0a "SCRIPT_NAME" "/index.php" = 23 bytes, padding 1.
      const records = encodeParams(1, [['SCRIPT_NAME', '/index.php']]);
      expect(records.map((r) => r.toString('hex'))).to.deep.equal([
        '0104000100170100' + '0b0a' + asciiHex('SCRIPT_NAME') + asciiHex('/index.php') + '00',
        '0104000100000000',
      ]);
    });

    it('mixes 1-byte and 4-byte length pairs in one record, padded 213 → 216', () => {
      const records = encodeParams(1, [
        ['A', 'b'],
        ['LONG', 'x'.repeat(200)],
      ]);
      expect(catHex(records)).to.equal(
        '01040001' + '00d5' + '03' + '00' + // 4 + 209 = 213 content bytes, 3 padding
          '01014162' +
          '04800000c8' + asciiHex('LONG') + '78'.repeat(200) +
          '000000' +
          '0104000100000000',
      );
    });

    it('writes byte strings as latin1 and wider text as UTF-8, the same bytes as encodeNameValuePair', () => {
      const pairs: Array<[string, string]> = [
        ['PATH_INFO', '/caf\u00e9'],
        ['DOCUMENT_URI', '/\u65e5\u672c'],
        ['HTTP_X', 'a'.repeat(130)],
        ['E', ''],
      ];
      const content = Buffer.concat(pairs.map(([n, v]) => encodeNameValuePair(n, v)));
      const expected = Buffer.concat([encodeRecord(FcgiType.PARAMS, 9, content), Buffer.from('0104000900000000', 'hex')]);
      expect(catHex(encodeParams(9, pairs))).to.equal(expected.toString('hex'));
      expect(decodeNameValuePairs(content)[1]).to.deep.equal(['DOCUMENT_URI', Buffer.from('/\u65e5\u672c').toString('latin1')]);
    });

    it('accepts a Map and keeps its order', () => {
      const map = new Map([
        ['B', '2'],
        ['A', '1'],
      ]);
      expect(catHex(encodeParams(3, map))).to.equal('0104000300080000' + '01014232' + '01014131' + '0104000300000000');
    });

    it('splits a 70,000-byte value across two records at 65528 bytes, the next pair joining the second', () => {
      // "X" = 'a' x 70000: 1 + 4 + 1 + 70000 = 70006 bytes; then "Y"="z" (4 bytes).
      const records = encodeParams(1, [
        ['X', 'a'.repeat(70000)],
        ['Y', 'z'],
      ]);
      expect(records).to.have.length(3);
      const [first, second, end] = records as [Buffer, Buffer, Buffer];
      expect(first.subarray(0, 8).toString('hex')).to.equal('01040001fff80000'); // 65528, no padding
      expect(first.length).to.equal(8 + FCGI_MAX_STREAM_CHUNK);
      expect(first.subarray(8, 14).toString('hex')).to.equal('01' + '80011170' + '58'); // 70000 = 0x11170
      // 70006 - 65528 = 4478 bytes of the big pair + 4 = 4482 = 0x1182, padding 6.
      expect(second.subarray(0, 8).toString('hex')).to.equal('0104000111820600');
      expect(second.length).to.equal(8 + 4482 + 6);
      expect(second.subarray(8 + 4478, 8 + 4482).toString('hex')).to.equal('0101597a');
      expect(second.subarray(8 + 4482).toString('hex')).to.equal('000000000000');
      expect(end.toString('hex')).to.equal('0104000100000000');
      const content = Buffer.concat([first.subarray(8), second.subarray(8, 8 + 4482)]);
      expect(decodeNameValuePairs(content)).to.deep.equal([
        ['X', 'a'.repeat(70000)],
        ['Y', 'z'],
      ]);
    });

    it('starts a new record rather than split a pair that fits in one (php-fpm parses records one by one)', () => {
      // "A" = 64994 bytes -> a 65000-byte pair; "B" = 994 bytes -> 1000 bytes: together over 65528.
      const records = encodeParams(1, [
        ['A', 'q'.repeat(64994)],
        ['B', 'r'.repeat(994)],
      ]);
      expect(records.map((r) => r.subarray(0, 8).toString('hex'))).to.deep.equal([
        '01040001fde80000', // 65000
        '01040001' + '03e8' + '0000', // 1000
        '0104000100000000',
      ]);
      expect(decodeNameValuePairs(records[0]!.subarray(8))).to.deep.equal([['A', 'q'.repeat(64994)]]);
      expect(decodeNameValuePairs(records[1]!.subarray(8))).to.deep.equal([['B', 'r'.repeat(994)]]);
    });

    it('sends only the empty record for no params', () => {
      expect(catHex(encodeParams(1, []))).to.equal('0104000100000000');
    });
  });

  describe('STDIN (§5.3)', () => {
    it('pads a short chunk and ends the stream with an empty record', () => {
      expect(catHex(encodeStdin(1, Buffer.from('hello')))).to.equal('0105000100050300' + '68656c6c6f' + '000000');
      expect(encodeStdinEnd(1).toString('hex')).to.equal('0105000100000000');
    });

    it('gives no record for an empty chunk (an empty STDIN record would end the body)', () => {
      expect(encodeStdin(1, Buffer.alloc(0))).to.deep.equal([]);
    });

    it('splits 70,001 bytes at 65528 without copying the data', () => {
      const data = Buffer.alloc(70001, 0x41);
      const pieces = encodeStdin(2, data);
      expect(pieces.map((p) => p.length)).to.deep.equal([8, 65528, 8, 4473, 7]);
      expect(pieces[0]!.toString('hex')).to.equal('01050002fff80000');
      expect(pieces[2]!.toString('hex')).to.equal('0105000211790700'); // 4473 = 0x1179, padding 7
      expect(pieces[4]!.toString('hex')).to.equal('00000000000000');
      expect(pieces[1]!.buffer).to.equal(data.buffer);
      expect(pieces[3]!.byteOffset).to.equal(data.byteOffset + 65528);
      expect(Buffer.concat([pieces[1]!, pieces[3]!]).equals(data)).to.equal(true);
    });
  });

  describe('GET_VALUES (§4.1)', () => {
    it('asks on request id 0 with empty values', () => {
      // 0e00 FCGI_MAX_CONNS (16) + 0d00 FCGI_MAX_REQS (15) + 0f00 FCGI_MPXS_CONNS (17) = 48, no padding.
      expect(encodeGetValues([FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS]).toString('hex')).to.equal(
        '0109000000300000' +
          '0e00' + asciiHex('FCGI_MAX_CONNS') +
          '0d00' + asciiHex('FCGI_MAX_REQS') +
          '0f00' + asciiHex('FCGI_MPXS_CONNS'),
      );
    });

    it("decodes php-fpm's answer FCGI_MPXS_CONNS=0", () => {
      const content = hex('0f01' + asciiHex('FCGI_MPXS_CONNS') + '30');
      expect([...decodeGetValuesResult(content)]).to.deep.equal([['FCGI_MPXS_CONNS', '0']]);
      const record = encodeGetValuesResult([['FCGI_MPXS_CONNS', '0']]);
      expect(record.subarray(0, 8).toString('hex')).to.equal('010a000000120600'); // 18 bytes, padding 6
      expect(record.subarray(8, 26).equals(content)).to.equal(true);
    });
  });
});
