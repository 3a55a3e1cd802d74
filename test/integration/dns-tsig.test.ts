// TSIG signing checked against BIND's own implementation, byte for byte: `dig -y` signs a query and sends
// it to a UDP socket of this test; our signRequest over the same message, key and time must produce the
// identical TSIG record. (RFC 8945 has no hmac-sha256/512 test vectors; BIND verifying our updates and our
// verifying BIND's answers is proven in dns-rfc2136.test.ts.) Plus verifyResponse on tampered, late and
// unsigned answers, which a healthy server never sends.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { signRequest, verifyResponse, TsigError, type TsigAlgorithm, type TsigKey } from '../../src/tls/acme/dns/tsig.js';
import { lastRecordOffset, readName } from '../../src/tls/acme/dns/wire.js';

/** The first datagram `dig` sends to a socket of ours (dig is stopped by pid once it is received). */
async function digSignedQuery(key: TsigKey): Promise<Buffer> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const port = socket.address().port;
  try {
    const got = new Promise<Buffer>((resolve) => socket.once('message', (m) => resolve(m)));
    const dig = execFile('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+timeout=5', '-y', `${key.algorithm}:${key.name}:${key.secret}`, 'TXT', '_acme-challenge.example.test'], () => undefined);
    const msg = await got;
    dig.kill('SIGKILL');
    return msg;
  } finally {
    socket.close();
  }
}

/** "x.test TXT" answered (QR, AA, NOERROR), no records. */
const ANSWER = Buffer.from('abcd' + '8400' + '0001' + '0000' + '0000' + '0000' + '0178' + '0474657374' + '00' + '0010' + '0001', 'hex');

/** The server's side (RFC 8945 §5.3): the answer signed over the request MAC, then optionally damaged. */
function signedAnswer(key: TsigKey, requestMac: Buffer, nowMs: number, tamper?: (b: Buffer) => void): Buffer {
  const { wire } = signRequest(ANSWER, key, nowMs, requestMac);
  tamper?.(wire);
  return wire;
}

describe('TSIG (RFC 8945) against BIND\'s dig', function () {
  this.timeout(20_000);

  for (const algorithm of ['hmac-sha256', 'hmac-sha512'] as TsigAlgorithm[]) {
    it(`${algorithm}: our TSIG record equals the one dig -y made for the same message, key and time`, async () => {
      const key: TsigKey = { name: 'gh-vector', algorithm, secret: randomBytes(algorithm === 'hmac-sha512' ? 64 : 32).toString('base64') };
      const digs = await digSignedQuery(key);
      const at = lastRecordOffset(digs);
      const owner = readName(digs, at);
      expect(digs.readUInt16BE(owner.end)).to.equal(250);
      const alg = readName(digs, owner.end + 10);
      const timeSigned = digs.readUInt16BE(alg.end) * 2 ** 32 + digs.readUInt32BE(alg.end + 2);
      const unsigned = Buffer.from(digs.subarray(0, at));
      unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
      const ours = signRequest(unsigned, key, timeSigned * 1000);
      expect(ours.wire.toString('hex')).to.equal(digs.toString('hex'));
    });
  }
});

describe('TSIG answer verification', () => {
  const key: TsigKey = { name: 'gh-unit', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
  const requestMac = randomBytes(32);
  const now = Date.UTC(2026, 11, 6, 12, 0, 0);

  it('accepts an answer signed over the request MAC; refuses a tampered one', () => {
    expect(() => verifyResponse(signedAnswer(key, requestMac, now), key, requestMac, now)).not.to.throw();
    const tampered = signedAnswer(key, requestMac, now, (b) => (b[13] = b[13]! ^ 1) /* the question name "x" becomes "y" */);
    expect(() => verifyResponse(tampered, key, requestMac, now)).to.throw(TsigError, /does not verify/);
  });

  it('refuses an answer chained on another request MAC (a replay)', () => {
    expect(() => verifyResponse(signedAnswer(key, randomBytes(32), now), key, requestMac, now)).to.throw(TsigError, /does not verify/);
  });

  it('refuses an answer signed outside the 300 s window as BADTIME', () => {
    expect(() => verifyResponse(signedAnswer(key, requestMac, now - 301_000), key, requestMac, now)).to.throw(TsigError, /BADTIME/);
  });

  it('refuses an unsigned success; lets an unsigned failure through for its RCODE', () => {
    const ok = Buffer.from(ANSWER);
    expect(() => verifyResponse(ok, key, requestMac, now)).to.throw(TsigError, /not signed with TSIG key "gh-unit"/);
    const refused = Buffer.from(ok);
    refused.writeUInt16BE(0x8405, 2);
    expect(() => verifyResponse(refused, key, requestMac, now)).not.to.throw();
  });

  it('a malformed TSIG record is a TsigError, not a crash', () => {
    const good = signedAnswer(key, requestMac, now);
    const cut = good.subarray(0, good.length - 10);
    expect(() => verifyResponse(cut, key, requestMac, now)).to.throw(TsigError);
  });
});
