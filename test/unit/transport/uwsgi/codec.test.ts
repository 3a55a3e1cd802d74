// uwsgi packets (uWSGI docs, "The uwsgi Protocol"): header and vars, little-endian sizes.
import { expect } from 'chai';
import { encodeUwsgiRequest } from '../../../../src/transport/uwsgi/codec.js';

const asciiHex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

describe('encodeUwsgiRequest', () => {
  it('writes modifier1 0, datasize u16 LE, modifier2 0, then LE-sized keys and values', () => {
    // 0e00 REQUEST_METHOD 0300 GET = 21 bytes; 0900 PATH_INFO 0100 / = 14 bytes; 35 = 0x23.
    const packet = encodeUwsgiRequest([
      ['REQUEST_METHOD', 'GET'],
      ['PATH_INFO', '/'],
    ]);
    expect(packet.toString('hex')).to.equal(
      '00' + '2300' + '00' +
        '0e00' + asciiHex('REQUEST_METHOD') + '0300' + asciiHex('GET') +
        '0900' + asciiHex('PATH_INFO') + '0100' + asciiHex('/'),
    );
  });

  it('puts the low byte first in both the datasize and the value size', () => {
    // + 0b00 HTTP_COOKIE 2c01 c x 300: 2 + 11 + 2 + 300 = 315; 35 + 315 = 350 = 0x015e.
    const packet = encodeUwsgiRequest([
      ['REQUEST_METHOD', 'GET'],
      ['PATH_INFO', '/'],
      ['HTTP_COOKIE', 'c'.repeat(300)],
    ]);
    expect(packet.subarray(0, 4).toString('hex')).to.equal('005e0100');
    expect(packet.subarray(4 + 35, 4 + 35 + 15).toString('hex')).to.equal('0b00' + asciiHex('HTTP_COOKIE') + '2c01');
    expect(packet.length).to.equal(4 + 350);
  });

  it('writes empty values and the modifiers it is given', () => {
    expect(encodeUwsgiRequest([['CONTENT_TYPE', '']], { modifier1: 5, modifier2: 1 }).toString('hex')).to.equal(
      '05' + '1000' + '01' + '0c00' + asciiHex('CONTENT_TYPE') + '0000',
    );
    expect(encodeUwsgiRequest([]).toString('hex')).to.equal('00000000');
  });

  it('keeps the bytes of byte strings', () => {
    expect(encodeUwsgiRequest([['K', 'caf\xe9']]).subarray(4).toString('hex')).to.equal('0100' + '4b' + '0400' + '636166e9');
  });

  it('takes a var block of exactly 65535 bytes and refuses 65536', () => {
    // 2 + 1 + 2 + L bytes for one var named X.
    const max = encodeUwsgiRequest([['X', 'v'.repeat(65530)]]);
    expect(max.subarray(0, 4).toString('hex')).to.equal('00ffff00');
    try {
      encodeUwsgiRequest([['X', 'v'.repeat(65531)]]);
      expect.fail('expected EUWSGIVARS');
    } catch (err) {
      expect((err as { code?: string }).code).to.equal('EUWSGIVARS');
      expect((err as Error).message).to.equal(
        "uwsgi request variables are 65536 bytes, over the protocol's 65535-byte limit",
      );
    }
  });
});
