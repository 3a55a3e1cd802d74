// Raw HTTP/1.x response heads as uWSGI writes them, and the CGI fallback nginx's uwsgi/scgi modules allow.
import { expect } from 'chai';
import { HttpResponseHeadParser } from '../../../../src/transport/cgi/http-response-head.js';
import type { ResponseHead } from '../../../../src/transport/cgi/response-head.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function parse(text: string, options?: { maxHeadBytes?: number }): ResponseHead {
  const head = new HttpResponseHeadParser(options).push(bytes(text));
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

describe('HttpResponseHeadParser', () => {
  it('reads the status line and headers uWSGI sends', () => {
    const head = parse('HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nmade');
    expect([head.status, head.statusText]).to.deep.equal([201, 'Created']);
    expect(head.headers).to.deep.equal([
      ['Content-Type', 'text/plain'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
    ]);
    expect(head.body.toString()).to.equal('made');
  });

  it('accepts the HTTP/2.0 version uWSGI echoes from SERVER_PROTOCOL, and HTTP/1.0', () => {
    expect(parse('HTTP/2.0 200 OK\r\n\r\n')).to.include({ status: 200, statusText: 'OK' });
    expect(parse('HTTP/1.0 404 Not Found\r\n\r\n')).to.include({ status: 404, statusText: 'Not Found' });
  });

  it('fills a missing reason phrase, with or without the space before it', () => {
    expect(parse('HTTP/1.1 204\r\n\r\n')).to.include({ status: 204, statusText: 'No Content' });
    expect(parse('HTTP/1.1 204 \r\n\r\n')).to.include({ status: 204, statusText: 'No Content' });
  });

  it('lets the status line decide over Status and Location, and drops Status', () => {
    const head = parse('HTTP/1.1 200 OK\r\nStatus: 500 Nope\r\nLocation: /x\r\n\r\n');
    expect(head.status).to.equal(200);
    expect(head.headers).to.deep.equal([['Location', '/x']]);
  });

  it('falls back to a CGI head when the first line is a header (Status / Location / 200)', () => {
    const notFound = parse('Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope');
    expect([notFound.status, notFound.statusText]).to.deep.equal([404, 'Not Found']);
    expect(notFound.headers).to.deep.equal([['Content-Type', 'text/plain']]);
    expect(parse('Location: http://example.test/\r\n\r\n')).to.include({ status: 302 });
    expect(parse('Content-Type: text/plain\r\n\r\n')).to.include({ status: 200 });
  });

  it('skips an interim 100 Continue and returns the final head, but returns 101', () => {
    const head = parse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nbody');
    expect(head).to.deep.include({ status: 200 });
    expect(head.headers).to.deep.equal([['X-A', '1']]);
    expect(head.body.toString()).to.equal('body');
    expect(parse('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n')).to.include({ status: 101 });

    const split = new HttpResponseHeadParser();
    expect(split.push(bytes('HTTP/1.1 100 Continue\r\n\r\n'))).to.equal(undefined);
    expect(split.push(bytes('HTTP/1.1 204 No Content\r\n\r\n'))).to.include({ status: 204 });
  });

  it('gives the same head fed one byte at a time, with bare LF', () => {
    const text = bytes('HTTP/1.1 302 Found\nLocation: /next\nX-B: 2\n\nrest');
    const parser = new HttpResponseHeadParser();
    let head: ResponseHead | undefined;
    let i = 0;
    for (; i < text.length && !head; i++) head = parser.push(text.subarray(i, i + 1));
    expect(i).to.equal(text.length - 4);
    expect(head).to.deep.include({ status: 302, statusText: 'Found' });
    expect(head!.headers).to.deep.equal([
      ['Location', '/next'],
      ['X-B', '2'],
    ]);
  });

  it('refuses a malformed status line or status', () => {
    expectHeadError(() => parse('HTTP/1.1 2OO OK\r\n\r\n'), /invalid status line/);
    expectHeadError(() => parse('HTTP/1.1  200 OK\r\n\r\n'), /invalid status line/);
    expectHeadError(() => parse('HTTP/11 200 OK\r\n\r\n'), /invalid status line/);
    expectHeadError(() => parse('HTTP/1.1 099 Low\r\n\r\n'), /invalid status 99/);
    expectHeadError(() => parse('HTTP/1.1 200 OK\r\nBad Header\r\n\r\n'), /invalid header line/);
  });

  it('applies the head-size limit', () => {
    expectHeadError(() => parse('HTTP/1.1 200 OK\r\nX: ' + 'v'.repeat(100) + '\r\n\r\n', { maxHeadBytes: 64 }), /over 64 bytes/);
  });

  it('refuses a response that ends before its head does', () => {
    expectHeadError(() => new HttpResponseHeadParser().finish(), /no response head/);
    const parser = new HttpResponseHeadParser();
    parser.push(bytes('HTTP/1.1 200 OK\r\n'));
    expectHeadError(() => parser.finish(), /ended before the empty line/);
  });
});
