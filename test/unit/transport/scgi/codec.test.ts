// SCGI request headers (SCGI protocol spec, "Request Format"): one netstring, CONTENT_LENGTH first.
import { expect } from 'chai';
import { encodeScgiRequest } from '../../../../src/transport/scgi/codec.js';

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect((err as { code?: string }).code).to.equal(code);
    return;
  }
  expect.fail(`expected ${code}`);
}

describe('encodeScgiRequest', () => {
  it("produces the SCGI spec's example netstring byte for byte", () => {
    // "70:" "CONTENT_LENGTH" <00> "27" <00> "SCGI" <00> "1" <00> "REQUEST_METHOD" <00> "POST" <00>
    // "REQUEST_URI" <00> "/deepthought" <00> ","   — then the 27-byte body "What is the answer to life?"
    const header = encodeScgiRequest(
      [
        ['REQUEST_METHOD', 'POST'],
        ['REQUEST_URI', '/deepthought'],
      ],
      27,
    );
    expect(header.toString('hex')).to.equal(
      '37303a' +
        '434f4e54454e545f4c454e475448' + '00' + '3237' + '00' +
        '53434749' + '00' + '31' + '00' +
        '524551554553545f4d4554484f44' + '00' + '504f5354' + '00' +
        '524551554553545f555249' + '00' + '2f6465657074686f75676874' + '00' +
        '2c',
    );
  });

  it('always sends CONTENT_LENGTH (0 without a body) and SCGI first, skipping copies in the vars', () => {
    const header = encodeScgiRequest(
      [
        ['SCGI', '1'],
        ['REQUEST_METHOD', 'GET'],
        ['CONTENT_LENGTH', '99'],
        ['CONTENT_TYPE', ''],
      ],
      0,
    );
    // (14+1 + 1+1) + (4+1 + 1+1) + (14+1 + 3+1) + (12+1 + 0+1) = 57
    expect(header.toString('latin1')).to.equal('57:CONTENT_LENGTH\x000\x00SCGI\x001\x00REQUEST_METHOD\x00GET\x00CONTENT_TYPE\x00\x00,');
  });

  it('keeps the bytes of byte strings', () => {
    expect(encodeScgiRequest([['K', 'caf\xe9']], 0).toString('hex')).to.contain('4b00636166e900');
  });

  it('refuses what a netstring of NUL-terminated strings cannot carry, and duplicate names', () => {
    expectCode(() => encodeScgiRequest([['A', 'x\0y']], 0), 'ESCGIVARS');
    expectCode(() => encodeScgiRequest([['A\0B', 'x']], 0), 'ESCGIVARS');
    expectCode(() => encodeScgiRequest([['', 'x']], 0), 'ESCGIVARS');
    expectCode(
      () =>
        encodeScgiRequest(
          [
            ['HTTP_X', '1'],
            ['HTTP_X', '2'],
          ],
          0,
        ),
      'ESCGIVARS',
    );
    expect(() => encodeScgiRequest([], -1)).to.throw(RangeError);
  });
});
