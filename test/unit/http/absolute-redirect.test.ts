// nginx's absolute_redirect Location (ngx_http_header_filter): the port rule per scheme, and the
// local address when the request named no host. The integration test compares with nginx on a
// non-default port (test/integration/nginx-conf-redirect.test.ts).
import { expect } from 'chai';
import { absoluteLocation } from '../../../src/http/absolute-redirect.js';
import type { Exchange } from '../../../src/http/exchange.js';

function ex(secure: boolean, localPort: number, localAddress = '127.0.0.1'): Exchange {
  return { conn: { secure, localPort, localAddress } } as unknown as Exchange;
}

describe('absoluteLocation (nginx absolute_redirect + port_in_redirect)', () => {
  it('leaves out the port only when it is the scheme\'s default', () => {
    expect(absoluteLocation(ex(false, 80), 'a.test', '/d/')).to.equal('http://a.test/d/');
    expect(absoluteLocation(ex(true, 443), 'a.test', '/d/')).to.equal('https://a.test/d/');
    expect(absoluteLocation(ex(false, 443), 'a.test', '/d/')).to.equal('http://a.test:443/d/');
    expect(absoluteLocation(ex(true, 80), 'a.test', '/d/')).to.equal('https://a.test:80/d/');
    expect(absoluteLocation(ex(true, 8443), 'a.test', '/d/?x=1')).to.equal('https://a.test:8443/d/?x=1');
  });

  it('names the local address when the request had no Host, IPv6 in brackets', () => {
    expect(absoluteLocation(ex(false, 8080), '', '/d/')).to.equal('http://127.0.0.1:8080/d/');
    expect(absoluteLocation(ex(false, 80, '::1'), '', '/d/')).to.equal('http://[::1]/d/');
  });
});
