// The PROXY protocol codec (haproxy's proxy-protocol.txt §2.1 v1, §2.2 v2) on the spec's examples,
// on headers captured from haproxy 2.6 (test/integration/proxy-protocol.test.ts sends the same
// through a live haproxy), and on every way a hostile peer could break one.
import { expect } from 'chai';
import { MAX_V2_BYTES, parseProxyHeader, type ProxyHeader } from '../../../src/listener/proxy-protocol.js';

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A v2 header: signature, version/command, family/transport, length, body. */
function v2(verCmd: number, famTransport: number, body: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length);
  return Buffer.concat([SIG, Buffer.from([verCmd, famTransport]), len, body]);
}

function inet4(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}

const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: a.test\r\n\r\n');

function header(buf: Buffer): Extract<ProxyHeader, { kind: 'header' }> {
  const r = parseProxyHeader(buf);
  expect(r.kind, JSON.stringify(r)).to.equal('header');
  return r as Extract<ProxyHeader, { kind: 'header' }>;
}

function invalidReason(buf: Buffer): string {
  const r = parseProxyHeader(buf);
  expect(r.kind, JSON.stringify(r)).to.equal('invalid');
  return (r as { reason: string }).reason;
}

describe('listener/proxy-protocol', () => {
  describe('v1', () => {
    it('reads TCP4 and leaves the request after it untouched', () => {
      const line = 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n';
      const h = header(Buffer.concat([Buffer.from(line), REQUEST]));
      expect(h).to.deep.equal({ kind: 'header', length: line.length, version: 1, source: { address: '192.168.0.1', port: 56324 } });
    });

    it('reads TCP6, compressed as RFC 5952 writes it, and an IPv4-mapped address as IPv4', () => {
      expect(header(Buffer.from('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 56324 443\r\n')).source).to.deep.equal({ address: '2001:db8::1', port: 56324 });
      expect(header(Buffer.from('PROXY TCP6 ::ffff:10.1.2.3 ::1 1 443\r\n')).source).to.deep.equal({ address: '10.1.2.3', port: 1 });
    });

    it('keeps the peer for UNKNOWN, with or without the rest of the line', () => {
      expect(header(Buffer.from('PROXY UNKNOWN\r\n')).source).to.equal(undefined);
      const line = 'PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n';
      const h = header(Buffer.from(`${line}GET`));
      expect([h.source, h.length]).to.deep.equal([undefined, line.length]);
    });

    it('accepts the longest line (107 bytes) and refuses one byte more', () => {
      const longest = `PROXY TCP6 ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`;
      expect(longest.length).to.equal(104);
      expect(header(Buffer.from(longest)).length).to.equal(104);
      const unknown107 = `PROXY UNKNOWN ${'x'.repeat(107 - 16)}\r\n`;
      expect(unknown107.length).to.equal(107);
      expect(header(Buffer.from(unknown107)).length).to.equal(107);
      expect(invalidReason(Buffer.from(`PROXY UNKNOWN ${'x'.repeat(108 - 16)}\r\n`))).to.match(/107/);
    });

    it('asks for more bytes while the line is short, whatever the split', () => {
      const line = Buffer.from('PROXY TCP4 10.0.0.1 10.0.0.2 1234 80\r\n');
      for (let n = 0; n < line.length; n++) expect(parseProxyHeader(line.subarray(0, n)).kind, `first ${n} bytes`).to.equal('incomplete');
      expect(parseProxyHeader(line).kind).to.equal('header');
    });

    for (const [what, line] of [
      ['a lower-case keyword', 'proxy TCP4 10.0.0.1 10.0.0.2 1 2\r\n'],
      ['an unknown protocol', 'PROXY UDP4 10.0.0.1 10.0.0.2 1 2\r\n'],
      ['an IPv6 address under TCP4', 'PROXY TCP4 ::1 ::1 1 2\r\n'],
      ['an IPv4 address under TCP6', 'PROXY TCP6 10.0.0.1 10.0.0.2 1 2\r\n'],
      ['an octet over 255', 'PROXY TCP4 10.0.0.256 10.0.0.2 1 2\r\n'],
      ['a leading zero in an octet', 'PROXY TCP4 10.0.0.01 10.0.0.2 1 2\r\n'],
      ['a short IPv4 form', 'PROXY TCP4 10.1 10.0.0.2 1 2\r\n'],
      ['an IPv6 zone index', 'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n'],
      ['a port over 65535', 'PROXY TCP4 10.0.0.1 10.0.0.2 65536 2\r\n'],
      ['a leading zero in a port', 'PROXY TCP4 10.0.0.1 10.0.0.2 080 2\r\n'],
      ['a signed port', 'PROXY TCP4 10.0.0.1 10.0.0.2 +80 2\r\n'],
      ['a missing port', 'PROXY TCP4 10.0.0.1 10.0.0.2 80\r\n'],
      ['two spaces', 'PROXY TCP4  10.0.0.1 10.0.0.2 1 2\r\n'],
      ['a bare LF', 'PROXY TCP4 10.0.0.1 10.0.0.2 1 2\n'],
      ['a trailing space', 'PROXY TCP4 10.0.0.1 10.0.0.2 1 2 \r\n'],
      ['an HTTP request (a client that went around the balancer)', 'GET / HTTP/1.1\r\n'],
      ['a word starting like PROXY', 'PROXYZ TCP4\r\n'],
    ] as const) {
      it(`refuses ${what}`, () => {
        invalidReason(Buffer.from(line));
      });
    }

    it('refuses a TLS ClientHello (a client that went around the balancer)', () => {
      invalidReason(Buffer.from('16030100c4010000c00303', 'hex'));
    });
  });

  describe('v2', () => {
    it('reads PROXY over TCP/IPv4 and leaves the ClientHello after it untouched', () => {
      const hello = Buffer.from('16030100c4010000c00303', 'hex');
      const hdr = v2(0x21, 0x11, inet4([203, 0, 113, 7], [10, 0, 0, 1], 40000, 443));
      const h = header(Buffer.concat([hdr, hello]));
      expect(h).to.deep.equal({ kind: 'header', length: 28, version: 2, source: { address: '203.0.113.7', port: 40000 } });
    });

    it('reads PROXY over TCP/IPv6', () => {
      const body = Buffer.alloc(36);
      Buffer.from('20010db8000000000000000000000001', 'hex').copy(body, 0);
      body[31] = 1;
      body.writeUInt16BE(5555, 32);
      body.writeUInt16BE(443, 34);
      expect(header(v2(0x21, 0x21, body)).source).to.deep.equal({ address: '2001:db8::1', port: 5555 });
    });

    it('skips TLVs after the addresses (haproxy NOOP padding, an AWS NLB VPC endpoint id)', () => {
      const noop = Buffer.from([0x04, 0x00, 0x03, 0, 0, 0]);
      const vpce = Buffer.concat([Buffer.from([0xea, 0x00, 0x17, 0x01]), Buffer.from('vpce-08d2bf15fac5001c9')]);
      const h = header(v2(0x21, 0x11, Buffer.concat([inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), noop, vpce])));
      expect(h.source).to.deep.equal({ address: '1.2.3.4', port: 1 });
      expect(h.length).to.equal(16 + 12 + noop.length + vpce.length);
    });

    it('keeps the peer for LOCAL (haproxy health checks), whatever family it names', () => {
      expect(header(v2(0x20, 0x00, Buffer.alloc(0))).source).to.equal(undefined);
      expect(header(v2(0x20, 0x11, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))).source).to.equal(undefined);
    });

    it('keeps the peer for PROXY over UNSPEC, UNIX or UDP', () => {
      expect(header(v2(0x21, 0x00, Buffer.alloc(0))).source).to.equal(undefined);
      expect(header(v2(0x21, 0x31, Buffer.alloc(216))).source).to.equal(undefined);
      expect(header(v2(0x21, 0x12, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))).source).to.equal(undefined);
    });

    it('asks for more bytes at every split of header + request', () => {
      const whole = v2(0x21, 0x11, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
      for (let n = 0; n < whole.length; n++) expect(parseProxyHeader(whole.subarray(0, n)).kind, `first ${n} bytes`).to.equal('incomplete');
      expect(header(Buffer.concat([whole, REQUEST])).length).to.equal(whole.length);
    });

    it('refuses a length over the limit before waiting for its bytes', () => {
      const big = Buffer.concat([SIG, Buffer.from([0x21, 0x11, 0xff, 0xff])]);
      expect(invalidReason(big)).to.match(/over the 4096-byte limit/);
      const padding = MAX_V2_BYTES - 16 - 12 - 3;
      const noop = Buffer.from([0x04, padding >> 8, padding & 0xff]);
      const justFits = v2(0x21, 0x11, Buffer.concat([inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), noop, Buffer.alloc(padding)]));
      expect(justFits.length).to.equal(MAX_V2_BYTES);
      expect(header(justFits).length).to.equal(MAX_V2_BYTES);
    });

    for (const [what, buf] of [
      ['a bad signature', Buffer.concat([Buffer.from('0d0a0d0a000d0a515549540b', 'hex'), Buffer.from([0x21, 0x11, 0, 12]), Buffer.alloc(12)])],
      ['version 1 in the binary form', v2(0x11, 0x11, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))],
      ['an unknown command', v2(0x22, 0x11, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))],
      ['an undefined family', v2(0x21, 0x41, Buffer.alloc(12))],
      ['an undefined transport', v2(0x21, 0x13, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))],
      ['a length shorter than IPv4 addresses', v2(0x21, 0x11, Buffer.alloc(11))],
      ['a length shorter than IPv6 addresses', v2(0x21, 0x21, Buffer.alloc(35))],
      ['a TLV running past the header', v2(0x21, 0x11, Buffer.concat([inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), Buffer.from([0x04, 0x00, 0x05, 0])]))],
      ['a TLV cut in its type/length', v2(0x21, 0x11, Buffer.concat([inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), Buffer.from([0x04, 0x00])]))],
    ] as const) {
      it(`refuses ${what}`, () => {
        invalidReason(buf);
      });
    }
  });

  it('asks for nothing on an empty buffer and refuses a first byte that starts neither version', () => {
    expect(parseProxyHeader(Buffer.alloc(0)).kind).to.equal('incomplete');
    invalidReason(Buffer.from([0x00]));
  });
});
