// `proxy:` values for the CGI-style schemes: TCP addresses and unix sockets (README "Configuration reference").
import { expect } from 'chai';
import { parseProxyTarget } from '../../../src/config/upstream-url.js';

const none = new Set<string>();

describe('parseProxyTarget (CGI-style schemes)', () => {
  it('reads fastcgi+unix:/path and fastcgi+unix:///path as a socket path', () => {
    for (const text of ['fastcgi+unix:/run/php/php-fpm.sock', 'fastcgi+unix:///run/php/php-fpm.sock']) {
      expect(parseProxyTarget(text, none)).to.deep.equal({ scheme: 'fastcgi', address: '/run/php/php-fpm.sock', proxyHost: 'localhost' });
    }
    expect(parseProxyTarget('uwsgi+unix:/tmp/app.sock', none)).to.include({ scheme: 'uwsgi', address: '/tmp/app.sock' });
    expect(parseProxyTarget('scgi+unix:/tmp/app.sock', none)).to.include({ scheme: 'scgi', address: '/tmp/app.sock' });
  });
  it('reads fastcgi://host:port as a TCP address', () => {
    expect(parseProxyTarget('fastcgi://127.0.0.1:9000', none)).to.include({ scheme: 'fastcgi', address: '127.0.0.1:9000' });
    expect(parseProxyTarget('uwsgi://[::1]:3031', none)).to.include({ scheme: 'uwsgi', address: '[::1]:3031' });
  });
  it('refuses a relative socket path, a missing port, and h2+unix', () => {
    expect(() => parseProxyTarget('fastcgi+unix:run/php.sock', none)).to.throw(/must be absolute/);
    expect(() => parseProxyTarget('fastcgi://127.0.0.1', none)).to.throw(/needs a port/);
    expect(() => parseProxyTarget('h2c+unix:/tmp/x.sock', none)).to.throw(/unix sockets work with http, https, fastcgi, uwsgi and scgi/);
  });
});

describe('parseProxyTarget (HTTP over a unix socket)', () => {
  it('reads http+unix:/path (both spellings) with no URI part, $proxy_host "localhost" as nginx', () => {
    for (const text of ['http+unix:/run/app.sock', 'http+unix:///run/app.sock', 'http+unix:/run/app.sock:']) {
      expect(parseProxyTarget(text, none)).to.deep.equal({ scheme: 'http', address: '/run/app.sock', proxyHost: 'localhost' });
    }
  });
  it('splits the URI part at the first ":" after the path, as ngx_parse_unix_domain_url', () => {
    expect(parseProxyTarget('http+unix:/run/app.sock:/v2/', none)).to.deep.equal({ scheme: 'http', address: '/run/app.sock', proxyHost: 'localhost', uri: '/v2/' });
    expect(parseProxyTarget('https+unix:///run/tls.sock:/a:b', none)).to.deep.equal({ scheme: 'https', address: '/run/tls.sock', proxyHost: 'localhost', uri: '/a:b' });
  });
  it('refuses a relative socket path and a URI part without its "/"', () => {
    expect(() => parseProxyTarget('http+unix:run/app.sock', none)).to.throw(/must be absolute/);
    expect(() => parseProxyTarget('http+unix:/run/app.sock:v2', none)).to.throw(/must start with "\/"/);
  });
});
