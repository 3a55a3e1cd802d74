import { expect } from 'chai';
import { normalizeRequestTarget, originForm } from '../../../src/http/normalize.js';

type Vector = [target: string, path: string, args?: string];

function check(vectors: Vector[]): void {
  for (const [target, path, args = ''] of vectors) {
    it(`${JSON.stringify(target)} → ${JSON.stringify(path)}${args ? ` ? ${args}` : ''}`, () => {
      expect(normalizeRequestTarget(target)).to.deep.equal({ path, args });
    });
  }
}

function rejects(targets: string[]): void {
  for (const target of targets) {
    it(`${JSON.stringify(target)} → 400`, () => expect(normalizeRequestTarget(target)).to.equal(undefined));
  }
}

describe('router: request-target normalisation (ngx_http_parse_complex_uri)', () => {
  describe('already normal targets pass unchanged', () => {
    check([
      ['/', '/'],
      ['/a/b.html', '/a/b.html'],
      ['/a/b?x=1&y=/../', '/a/b', 'x=1&y=/../'],
      ['/a/', '/a/'],
      ['/a+b', '/a+b'],
      ['/a?', '/a'],
    ]);
  });

  describe('dot segments (RFC 3986 §5.2.4)', () => {
    check([
      ['/a/./b', '/a/b'],
      ['/a/b/../c', '/a/c'],
      ['/a/b/..', '/a/'],
      ['/a/.', '/a/'],
      ['/a/..', '/'],
      ['/a/b/../../c/', '/c/'],
      ['/.../x', '/.../x'],
      ['/a/..b/.c', '/a/..b/.c'],
      ['/.well-known/acme', '/.well-known/acme'],
      ['/a/./?q=./..', '/a/', 'q=./..'],
    ]);
    rejects(['/..', '/../a', '/a/../..', '/a/../../b', '/./..']);
  });

  describe('percent-decoding, %2F and %2e included, then resolving', () => {
    check([
      ['/a%20b', '/a b'],
      ['/a%2Fb', '/a/b'],
      ['/a/%2F/b', '/a/b'],
      ['/a/%2e%2e/b', '/b'],
      ['/a/.%2E/', '/'],
      ['/a%2F..%2Fb', '/b'],
      ['/100%25', '/100%'],
      ['/%25%32%65', '/%2e'],
      ['/a%3Fb?c=d', '/a?b', 'c=d'],
      ['/a%23b', '/a#b'],
      ['/%41%62', '/Ab'],
      ['/a%20b?x=%20&y=%zz', '/a b', 'x=%20&y=%zz'],
    ]);
    rejects(['/%2e%2e/x', '/%2E%2E', '/a/%2e%2e%2f..']);
  });

  describe('merges slashes', () => {
    check([
      ['//a///b//', '/a/b/'],
      ['//', '/'],
      ['/a//../b', '/b'],
    ]);
  });

  describe('UTF-8 and raw bytes', () => {
    check([
      ['/caf%C3%A9', '/café'],
      // Node gives the wire bytes as latin1 chars: C3 A9 is "é" in UTF-8.
      ['/caf\u00c3\u00a9', '/café'],
      ['/%F0%9F%98%80', '/😀'],
      // Bytes that are not UTF-8 survive as U+DC80..U+DCFF, so they can be re-escaped exactly.
      ['/%FF', '/\udcff'],
      ['/caf%E9', '/caf\udce9'],
      ['/%C3', '/\udcc3'],
      ['/%ED%A0%80', '/\udced\udca0\udc80'],
    ]);
  });

  describe('fragments end the path and the args', () => {
    check([
      ['/a#frag', '/a'],
      ['/a?x=1#frag', '/a', 'x=1'],
      ['/a#f?x=1', '/a'],
    ]);
  });

  describe('a backslash is not a separator (nginx on Unix)', () => {
    check([
      ['/a\\..\\b', '/a\\..\\b'],
      ['/a/..\\b', '/a/..\\b'],
      ['/a%5C..%5Cb', '/a\\..\\b'],
    ]);
  });

  describe('absolute-form targets (RFC 9112 §3.2.2)', () => {
    check([
      ['http://example.com/a/../b?x', '/b', 'x'],
      ['https://example.com:8443', '/'],
      ['HTTP://h?q=1', '/', 'q=1'],
      ['http://[::1]:8080/p', '/p'],
    ]);
    rejects(['http:/x', 'http://h#x', 'ftp//h/x']);
  });

  describe('rejects what nginx answers with 400', () => {
    rejects([
      '',
      '*',
      'a/b',
      '/a%',
      '/a%2',
      '/a%zz',
      '/a%2g',
      '/a%00b',
      '/a\u0000b',
      '/a\u0001b',
      '/a b',
      '/a\tb',
      '/a\u007fb',
      '/a?x=\u0001',
    ]);
  });

  it('returns the target itself on the fast path', () => {
    const target = '/static/app.js';
    expect(normalizeRequestTarget(target)?.path).to.equal(target);
  });

  it('originForm strips scheme and authority only', () => {
    expect(originForm('/a//b?c')).to.equal('/a//b?c');
    expect(originForm('http://h:1/a//b?c')).to.equal('/a//b?c');
    expect(originForm('http://h?c')).to.equal('/?c');
    expect(originForm('http://h')).to.equal('/');
  });
});
