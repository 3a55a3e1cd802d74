// FastCGI / uwsgi / SCGI servers under `upstreams:`: accepted and normalised, a mix of protocols
// in one upstream refused at the odd server, a route URL that contradicts its upstream refused.
import { expect } from 'chai';
import { parseConfig } from '../../../src/config/index.js';
import { expectError, FILE, lines } from './helpers.js';

const HEAD = ['listen: { https: 8443 }'];
const SITE = ['sites:', '  - hosts: [a.test]', '    routes:'];

describe('config: CGI servers under upstreams', () => {
  it('accepts fastcgi://, fastcgi+unix: (both spellings), uwsgi:// and scgi:// servers, normalised', () => {
    const config = parseConfig(
      lines(
        ...HEAD,
        'upstreams:',
        '  php: { servers: [fastcgi://127.0.0.1:9000, "fastcgi+unix:/run/php.sock", "fastcgi+unix:///run/php2.sock"] }',
        '  py: { servers: ["uwsgi://[::1]:3031"] }',
        '  sc: { servers: [{ url: scgi://LOCALHOST:4000, weight: 2 }] }',
        ...SITE,
        '      - { location: "~ \\\\.php$", proxy: php, root: /var/www }',
        '      - { location: /py/, proxy: uwsgi://py }',
        '      - { location: /sc/, proxy: sc }',
      ),
      FILE,
    ).config;
    expect(config.upstreams.php?.servers.map((s) => s.url)).to.deep.equal([
      'fastcgi://127.0.0.1:9000',
      'fastcgi+unix:/run/php.sock',
      'fastcgi+unix:/run/php2.sock',
    ]);
    expect(config.upstreams.py?.servers[0]?.url).to.equal('uwsgi://[::1]:3031');
    expect(config.upstreams.sc?.servers[0]).to.deep.equal({ url: 'scgi://localhost:4000', weight: 2, backup: false });
  });

  it('refuses an upstream that mixes protocols, at the server that differs', () => {
    const text = lines(...HEAD, 'upstreams:', '  php:', '    servers:', '      - fastcgi://127.0.0.1:9000', '      - http://127.0.0.1:9001', ...SITE, '      - { location: /, proxy: php }');
    expectError(text, 6, 9, 'upstream servers must all use one protocol: this one is http, the first is fastcgi');
    const unix = lines(...HEAD, 'upstreams:', '  php: { servers: [fastcgi://127.0.0.1:9000, "uwsgi+unix:/run/u.sock"] }', ...SITE, '      - { location: /, proxy: php }');
    expectError(unix, 3, 46, 'this one is uwsgi, the first is fastcgi');
  });

  it('refuses a CGI server without a port, and +unix for HTTP/2', () => {
    const text = lines(...HEAD, 'upstreams:', '  php: { servers: [fastcgi://127.0.0.1] }', ...SITE, '      - { location: /, proxy: php }');
    expectError(text, 3, 20, 'upstream server "fastcgi://127.0.0.1" needs a port (fastcgi:// has no default one)');
    const unix = lines(...HEAD, 'upstreams:', '  web: { servers: ["h2c+unix:/run/web.sock"] }', ...SITE, '      - { location: /, proxy: web }');
    expectError(unix, 3, 20, 'unix sockets work with http, https, fastcgi, uwsgi and scgi');
  });

  it("refuses a route URL whose protocol is not its upstream's", () => {
    const text = lines(...HEAD, 'upstreams:', '  php: { servers: [fastcgi://127.0.0.1:9000] }', ...SITE, '      - { location: /, proxy: "http://php" }');
    expectError(text, 7, 31, 'upstream "php" has fastcgi:// servers; write proxy: php or fastcgi://php');
  });
});
