// CGI response heads (RFC 3875 §6) as php-fpm writes them to FCGI_STDOUT.
import { expect } from 'chai';
import { CgiResponseParser } from '../../../../src/transport/cgi/cgi-response.js';
import { headerRecord, type ResponseHead } from '../../../../src/transport/cgi/response-head.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function parse(text: string | Buffer, options?: { maxHeadBytes?: number }): ResponseHead {
  const head = new CgiResponseParser(options).push(typeof text === 'string' ? bytes(text) : text);
  if (!head) throw new Error('head not complete');
  return head;
}

function expectHeadError(fn: () => unknown, pattern?: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect((err as { code?: string }).code).to.equal('ECGIHEAD');
    if (pattern) expect((err as Error).message).to.match(pattern);
    return;
  }
  expect.fail('expected ECGIHEAD');
}

describe('CgiResponseParser', () => {
  it('defaults to 200 and keeps header names as sent (PHP sends Content-type)', () => {
    const head = parse('X-Powered-By: PHP/8.2.36\r\nContent-type: text/html; charset=UTF-8\r\n\r\nhello');
    expect(head.status).to.equal(200);
    expect(head.statusText).to.equal('OK');
    expect(head.headers).to.deep.equal([
      ['X-Powered-By', 'PHP/8.2.36'],
      ['Content-type', 'text/html; charset=UTF-8'],
    ]);
    expect(head.body.toString()).to.equal('hello');
  });

  it('takes the status from Status and removes that line', () => {
    const head = parse('Status: 404 Not Found\r\nContent-type: text/html; charset=UTF-8\r\n\r\nFile not found.\n');
    expect([head.status, head.statusText]).to.deep.equal([404, 'Not Found']);
    expect(head.headers).to.deep.equal([['Content-type', 'text/html; charset=UTF-8']]);
    expect(head.body.toString()).to.equal('File not found.\n');
  });

  it('fills the reason phrase when Status has only a code, and reads the name in any case', () => {
    expect(parse('status: 201\r\n\r\n')).to.include({ status: 201, statusText: 'Created' });
    expect(parse('STATUS: 599\r\n\r\n')).to.include({ status: 599, statusText: '' });
  });

  it('keeps the first Status when one is repeated, as nginx does', () => {
    expect(parse('Status: 403 Forbidden\r\nStatus: 500 Oops\r\n\r\n')).to.include({ status: 403, statusText: 'Forbidden' });
  });

  it('answers 302 for a Location without Status, absolute or local, and keeps the Location as sent', () => {
    const absolute = parse('Location: https://example.test/next\r\n\r\n');
    expect([absolute.status, absolute.statusText]).to.deep.equal([302, 'Moved Temporarily']);
    expect(absolute.headers).to.deep.equal([['Location', 'https://example.test/next']]);
    // RFC 3875 §6.2.2 "local redirect": nginx does not re-route it, it sends 302.
    const local = parse('Location: /login?next=%2F\r\n\r\n');
    expect(local.status).to.equal(302);
    expect(local.headers).to.deep.equal([['Location', '/login?next=%2F']]);
  });

  it('lets Status win over Location', () => {
    expect(parse('Location: /moved\r\nStatus: 301 Moved Permanently\r\n\r\n')).to.include({ status: 301 });
  });

  it('accepts bare LF and mixed line ends', () => {
    const head = parse('Status: 404\nX-A: 1\r\nX-B: 2\n\nbody');
    expect(head.status).to.equal(404);
    expect(head.headers).to.deep.equal([
      ['X-A', '1'],
      ['X-B', '2'],
    ]);
    expect(head.body.toString()).to.equal('body');
  });

  it('keeps repeated headers as separate entries, in order', () => {
    const head = parse('Set-Cookie: a=1; Path=/\r\nX-A: x\r\nSet-Cookie: b=2\r\nX-A: y\r\n\r\n');
    expect(head.headers).to.deep.equal([
      ['Set-Cookie', 'a=1; Path=/'],
      ['X-A', 'x'],
      ['Set-Cookie', 'b=2'],
      ['X-A', 'y'],
    ]);
    expect(headerRecord(head.headers)).to.deep.equal({ 'set-cookie': ['a=1; Path=/', 'b=2'], 'x-a': ['x', 'y'] });
    expect(headerRecord([['Set-Cookie', 'only=1']])).to.deep.equal({ 'set-cookie': ['only=1'] });
  });

  it('trims the value and keeps every byte of it', () => {
    const head = parse(bytes('X-Name:   caf\xe9 au lait \t\r\nX-Empty:\r\n\r\n'));
    expect(head.headers).to.deep.equal([
      ['X-Name', 'caf\xe9 au lait'],
      ['X-Empty', ''],
    ]);
  });

  it('returns exactly the bytes after the empty line as the start of the body', () => {
    expect(parse('A: 1\r\n\r\n').body.length).to.equal(0);
    expect(parse('A: 1\r\n\r\n\r\n\r\nB: 2').body.toString()).to.equal('\r\n\r\nB: 2');
  });

  it('gives the same head fed one byte at a time, with CR and LF in separate chunks', () => {
    const text = bytes('Status: 418 Teapot\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nbody');
    const parser = new CgiResponseParser();
    let head: ResponseHead | undefined;
    for (let i = 0; i < text.length && !head; i++) head = parser.push(text.subarray(i, i + 1));
    expect(head).to.deep.include({ status: 418, statusText: 'Teapot' });
    expect(head!.headers).to.have.length(2);
    expect(head!.body.length).to.equal(0); // complete on the final LF; the body comes after
  });

  it('refuses a head over the limit, even before its line ends', () => {
    const exactly = 'X: ' + 'v'.repeat(57) + '\r\n\r\n'; // 64 bytes
    expect(exactly.length).to.equal(64);
    expect(parse(exactly, { maxHeadBytes: 64 }).headers[0]![1]).to.have.length(57);
    expectHeadError(() => parse('X: ' + 'v'.repeat(58) + '\r\n\r\n', { maxHeadBytes: 64 }), /over 64 bytes/);
    const streaming = new CgiResponseParser();
    expectHeadError(() => {
      for (let i = 0; i < 70; i++) streaming.push(Buffer.alloc(1024, 0x61));
    }, /over 65536 bytes/);
  });

  it('refuses malformed lines: a status line, no colon, space before the colon, folding, controls', () => {
    expectHeadError(() => parse('HTTP/1.1 200 OK\r\n\r\n'), /invalid header line/);
    expectHeadError(() => parse('NoColon\r\n\r\n'));
    expectHeadError(() => parse('Name : v\r\n\r\n'));
    expectHeadError(() => parse(': v\r\n\r\n'));
    expectHeadError(() => parse('A: 1\r\n folded\r\n\r\n'), /folded/);
    expectHeadError(() => parse('A: x\0y\r\n\r\n'), /invalid value/);
    expectHeadError(() => parse('A: x\ry\r\n\r\n'), /invalid value/);
  });

  it('refuses a Status that is not a 3-digit code from 100', () => {
    expectHeadError(() => parse('Status: abc\r\n\r\n'), /invalid status/);
    expectHeadError(() => parse('Status: 2000\r\n\r\n'), /invalid status/);
    expectHeadError(() => parse('Status: 099 Low\r\n\r\n'), /invalid status/);
  });

  it('refuses a response that ends before its head does', () => {
    expectHeadError(() => new CgiResponseParser().finish(), /no response head/);
    const parser = new CgiResponseParser();
    expect(parser.push(bytes('Status: 204\r\n'))).to.equal(undefined);
    expectHeadError(() => parser.finish(), /ended before the empty line/);
  });

  it('is done once the head is out', () => {
    const parser = new CgiResponseParser();
    parser.push(bytes('A: 1\n\n'));
    expect(() => parser.finish()).not.to.throw();
    expect(() => parser.push(bytes('more'))).to.throw(/already complete/);
  });
});
