// The parameter lists of nginx's fastcgi.conf, uwsgi_params and scgi_params, value by value.
import { expect } from 'chai';
import { decodeNameValuePairs, encodeParams } from '../../../../src/transport/fastcgi/codec.js';
import {
  fastcgiParams,
  headerPairs,
  httpHeaderParams,
  scgiParams,
  uwsgiParams,
  type CgiRequestInfo,
  type FastCgiParamOptions,
} from '../../../../src/transport/cgi/params.js';
import { encodeScgiRequest } from '../../../../src/transport/scgi/codec.js';

const info = (over: Partial<CgiRequestInfo> = {}): CgiRequestInfo => ({
  method: 'GET',
  requestUri: '/index.php/foo/bar?x=1',
  path: '/index.php/foo/bar',
  args: 'x=1',
  serverProtocol: 'HTTP/1.1',
  scheme: 'https',
  remoteAddr: '203.0.113.7',
  remotePort: 51234,
  serverAddr: '192.0.2.1',
  serverPort: 443,
  serverName: 'example.test',
  headers: [
    ['Host', 'example.test'],
    ['User-Agent', 'curl/8.0'],
    ['Accept', '*/*'],
  ],
  ...over,
});

const PHP: FastCgiParamOptions = { root: '/var/www', index: 'index.php', splitPathInfo: true, version: '0.1.0' };

const get = (params: Array<[string, string]>, name: string): string | undefined => params.find(([n]) => n === name)?.[1];

describe('fastcgiParams', () => {
  it("sends REMOTE_USER as nginx's $remote_user: the Basic user name, else empty", () => {
    const basic = (cred: string) => info({ headers: [['Authorization', `Basic ${Buffer.from(cred).toString('base64')}`]] });
    expect(get(fastcgiParams(basic('bob:pw:x'), PHP), 'REMOTE_USER')).to.equal('bob');
    expect(get(fastcgiParams(basic('nocolon'), PHP), 'REMOTE_USER')).to.equal('');
    expect(get(fastcgiParams(info({ headers: [['Authorization', 'Bearer abc']] }), PHP), 'REMOTE_USER')).to.equal('');
    expect(get(fastcgiParams(info(), PHP), 'REMOTE_USER')).to.equal('');
  });

  it('sends fastcgi.conf with PATH_INFO split off /index.php/foo/bar?x=1', () => {
    expect(fastcgiParams(info(), PHP)).to.deep.equal([
      ['PATH_INFO', '/foo/bar'],
      ['SCRIPT_FILENAME', '/var/www/index.php'],
      ['QUERY_STRING', 'x=1'],
      ['REQUEST_METHOD', 'GET'],
      ['CONTENT_TYPE', ''],
      ['CONTENT_LENGTH', ''],
      ['SCRIPT_NAME', '/index.php'],
      ['REQUEST_URI', '/index.php/foo/bar?x=1'],
      ['DOCUMENT_URI', '/index.php/foo/bar'],
      ['DOCUMENT_ROOT', '/var/www'],
      ['SERVER_PROTOCOL', 'HTTP/1.1'],
      ['REQUEST_SCHEME', 'https'],
      ['HTTPS', 'on'],
      ['GATEWAY_INTERFACE', 'CGI/1.1'],
      ['SERVER_SOFTWARE', 'gatehouse/0.1.0'],
      ['REMOTE_ADDR', '203.0.113.7'],
      ['REMOTE_PORT', '51234'],
      ['REMOTE_USER', ''],
      ['SERVER_ADDR', '192.0.2.1'],
      ['SERVER_PORT', '443'],
      ['SERVER_NAME', 'example.test'],
      ['REDIRECT_STATUS', '200'],
      ['HTTP_HOST', 'example.test'],
      ['HTTP_USER_AGENT', 'curl/8.0'],
      ['HTTP_ACCEPT', '*/*'],
    ]);
  });

  it('appends fastcgi_index to /dir/ and sends PATH_INFO empty, as $fastcgi_path_info is', () => {
    const params = fastcgiParams(info({ requestUri: '/dir/', path: '/dir/', args: '' }), PHP);
    expect(get(params, 'SCRIPT_NAME')).to.equal('/dir/index.php');
    expect(get(params, 'SCRIPT_FILENAME')).to.equal('/var/www/dir/index.php');
    expect(get(params, 'DOCUMENT_URI')).to.equal('/dir/');
    expect(get(params, 'PATH_INFO')).to.equal('');
    expect(get(params, 'QUERY_STRING')).to.equal('');
  });

  it('drops one trailing slash from root, as the root directive does', () => {
    const params = fastcgiParams(info(), { ...PHP, root: '/var/www/' });
    expect(get(params, 'DOCUMENT_ROOT')).to.equal('/var/www');
    expect(get(params, 'SCRIPT_FILENAME')).to.equal('/var/www/index.php');
  });

  it('splits as ^(.+?\\.php)(/.*)$ does: first .php followed by /, none without a /', () => {
    const split = (path: string): [string | undefined, string | undefined] => {
      const p = fastcgiParams(info({ path }), PHP);
      return [get(p, 'SCRIPT_NAME'), get(p, 'PATH_INFO')];
    };
    expect(split('/index.php')).to.deep.equal(['/index.php', '']);
    expect(split('/a.php/b.php/c')).to.deep.equal(['/a.php', '/b.php/c']);
    expect(split('/index.php/')).to.deep.equal(['/index.php', '/']);
    expect(split('/x.phps/y')).to.deep.equal(['/x.phps/y', '']);
    // PCRE: "." is any byte but LF, "$" also matches before a final LF (a decoded %0A).
    expect(split('/index.php/foo\n')).to.deep.equal(['/index.php', '/foo']);
    expect(split('/index.php/fo\no')).to.deep.equal(['/index.php/fo\no', '']);
    expect(split('/index.php/a\rb')).to.deep.equal(['/index.php', '/a\rb']);
  });

  it('sends no PATH_INFO and the whole path as script name without splitting', () => {
    const params = fastcgiParams(info(), { root: '/srv', version: '1' });
    expect(get(params, 'PATH_INFO')).to.equal(undefined);
    expect(get(params, 'SCRIPT_NAME')).to.equal('/index.php/foo/bar');
    expect(get(params, 'SCRIPT_FILENAME')).to.equal('/srv/index.php/foo/bar');
  });

  it('takes a custom split regex', () => {
    const params = fastcgiParams(info({ path: '/app/run/x' }), { ...PHP, splitPathInfo: /^(\/app\/run)(\/.*)$/ });
    expect([get(params, 'SCRIPT_NAME'), get(params, 'PATH_INFO')]).to.deep.equal(['/app/run', '/x']);
  });

  it('leaves HTTPS out over plain HTTP', () => {
    const params = fastcgiParams(info({ scheme: 'http', serverPort: 80 }), PHP);
    expect(get(params, 'HTTPS')).to.equal(undefined);
    expect(get(params, 'REQUEST_SCHEME')).to.equal('http');
  });

  it('sends CONTENT_TYPE/CONTENT_LENGTH from the headers, and the headers as HTTP_* too', () => {
    const params = fastcgiParams(
      info({
        method: 'POST',
        headers: [
          ['Host', 'example.test'],
          ['Content-Type', 'application/x-www-form-urlencoded'],
          ['Content-Length', '3'],
        ],
      }),
      PHP,
    );
    expect(get(params, 'CONTENT_TYPE')).to.equal('application/x-www-form-urlencoded');
    expect(get(params, 'CONTENT_LENGTH')).to.equal('3');
    expect(get(params, 'HTTP_CONTENT_TYPE')).to.equal('application/x-www-form-urlencoded');
    expect(get(params, 'HTTP_CONTENT_LENGTH')).to.equal('3');
  });

  it('sends the buffered length of a chunked body as CONTENT_LENGTH', () => {
    const params = fastcgiParams(info({ contentLength: 42, headers: [['Transfer-Encoding', 'chunked']] }), PHP);
    expect(get(params, 'CONTENT_LENGTH')).to.equal('42');
    expect(get(params, 'HTTP_TRANSFER_ENCODING')).to.equal('chunked');
  });

  it('sends a decoded non-ASCII path as its UTF-8 bytes', () => {
    const params = fastcgiParams(info({ path: '/café.php/ü', requestUri: '/caf%C3%A9.php/%C3%BC', args: '' }), PHP);
    expect(get(params, 'SCRIPT_NAME')).to.equal('/caf\xc3\xa9.php');
    expect(get(params, 'PATH_INFO')).to.equal('/\xc3\xbc');
    const records = encodeParams(1, params);
    expect(records[0]!.toString('hex')).to.contain(Buffer.from('/café.php', 'utf8').toString('hex'));
    // %FF is not UTF-8: the router keeps it as U+DCFF, and nginx sends the raw byte.
    const raw = fastcgiParams(info({ path: '/x\udcff.php/y', requestUri: '/x%FF.php/y', args: '' }), PHP);
    expect(get(raw, 'SCRIPT_FILENAME')).to.equal('/var/www/x\xff.php');
    expect(encodeParams(1, raw)[0]!.toString('hex')).to.contain('2f78ff2e706870');
  });

  it('survives the round trip through encodeParams', () => {
    const params = fastcgiParams(info(), PHP);
    const records = encodeParams(1, params);
    expect(records).to.have.length(2);
    const first = records[0]!;
    expect(decodeNameValuePairs(first.subarray(8, 8 + first.readUInt16BE(4)))).to.deep.equal(params);
  });
});

describe('httpHeaderParams', () => {
  it('maps names to HTTP_<NAME> with "-" as "_", joining repeats at the first one\'s place', () => {
    expect(
      httpHeaderParams([
        ['Accept', 'text/html'],
        ['Cookie', 'a=1'],
        ['X-Forwarded-For', '198.51.100.1'],
        ['accept', 'application/json'],
        ['cookie', 'b=2'],
        ['X-FORWARDED-FOR', '198.51.100.2'],
      ]),
    ).to.deep.equal([
      ['HTTP_ACCEPT', 'text/html, application/json'],
      ['HTTP_COOKIE', 'a=1; b=2'],
      ['HTTP_X_FORWARDED_FOR', '198.51.100.1, 198.51.100.2'],
    ]);
  });

  it('drops names nginx treats as invalid (underscore, dot, pseudo-headers)', () => {
    expect(
      httpHeaderParams([
        ['X_Forwarded_For', '6.6.6.6'],
        ['x.custom', '1'],
        [':authority', 'example.test'],
        [':path', '/'],
        ['X-Real', 'ok'],
      ]),
    ).to.deep.equal([['HTTP_X_REAL', 'ok']]);
  });

  it('uses the HTTP/2 :authority as HTTP_HOST when no Host header came, and the Host header when one did', () => {
    expect(httpHeaderParams([['accept', '*/*']], 'example.test:8443')).to.deep.equal([
      ['HTTP_HOST', 'example.test:8443'],
      ['HTTP_ACCEPT', '*/*'],
    ]);
    expect(
      httpHeaderParams(
        [
          ['accept', '*/*'],
          ['host', 'sent.example'],
        ],
        'example.test',
      ),
    ).to.deep.equal([
      ['HTTP_ACCEPT', '*/*'],
      ['HTTP_HOST', 'sent.example'],
    ]);
  });

  it('reads Node rawHeaders and header objects', () => {
    expect(headerPairs(['Host', 'a', 'Cookie', 'x=1', 'Cookie', 'y=2'])).to.deep.equal([
      ['Host', 'a'],
      ['Cookie', 'x=1'],
      ['Cookie', 'y=2'],
    ]);
    expect(headerPairs({ ':authority': 'a', 'x-list': ['1', '2'], accept: '*/*', skipped: undefined })).to.deep.equal([
      [':authority', 'a'],
      ['x-list', '1'],
      ['x-list', '2'],
      ['accept', '*/*'],
    ]);
  });
});

describe('uwsgiParams', () => {
  it('sends uwsgi_params: PATH_INFO is the whole path, DOCUMENT_ROOT only with a root', () => {
    expect(uwsgiParams(info({ requestUri: '/app/x?y=2', path: '/app/x', args: 'y=2' }), { root: '/srv/app/' })).to.deep.equal([
      ['QUERY_STRING', 'y=2'],
      ['REQUEST_METHOD', 'GET'],
      ['CONTENT_TYPE', ''],
      ['CONTENT_LENGTH', ''],
      ['REQUEST_URI', '/app/x?y=2'],
      ['PATH_INFO', '/app/x'],
      ['DOCUMENT_ROOT', '/srv/app'],
      ['SERVER_PROTOCOL', 'HTTP/1.1'],
      ['REQUEST_SCHEME', 'https'],
      ['HTTPS', 'on'],
      ['REMOTE_ADDR', '203.0.113.7'],
      ['REMOTE_PORT', '51234'],
      ['SERVER_PORT', '443'],
      ['SERVER_NAME', 'example.test'],
      ['HTTP_HOST', 'example.test'],
      ['HTTP_USER_AGENT', 'curl/8.0'],
      ['HTTP_ACCEPT', '*/*'],
    ]);
    const plain = uwsgiParams(info({ scheme: 'http', serverProtocol: 'HTTP/2.0' }));
    expect(get(plain, 'DOCUMENT_ROOT')).to.equal(undefined);
    expect(get(plain, 'HTTPS')).to.equal(undefined);
    expect(get(plain, 'SERVER_PROTOCOL')).to.equal('HTTP/2.0');
  });
});

describe('scgiParams', () => {
  it('sends scgi_params, leaving CONTENT_LENGTH and SCGI to the codec, which puts them first', () => {
    const params = scgiParams(info({ method: 'POST', requestUri: '/deepthought', path: '/deepthought', args: '' }), { root: '/srv' });
    expect(params.slice(0, 13)).to.deep.equal([
      ['REQUEST_METHOD', 'POST'],
      ['REQUEST_URI', '/deepthought'],
      ['QUERY_STRING', ''],
      ['CONTENT_TYPE', ''],
      ['DOCUMENT_URI', '/deepthought'],
      ['DOCUMENT_ROOT', '/srv'],
      ['SERVER_PROTOCOL', 'HTTP/1.1'],
      ['REQUEST_SCHEME', 'https'],
      ['HTTPS', 'on'],
      ['REMOTE_ADDR', '203.0.113.7'],
      ['REMOTE_PORT', '51234'],
      ['SERVER_PORT', '443'],
      ['SERVER_NAME', 'example.test'],
    ]);
    const netstring = encodeScgiRequest(params, 27).toString('latin1');
    expect(netstring.slice(netstring.indexOf(':') + 1)).to.satisfy((s: string) =>
      s.startsWith('CONTENT_LENGTH\u000027\u0000SCGI\u00001\u0000REQUEST_METHOD\u0000POST\u0000'),
    );
  });
});
