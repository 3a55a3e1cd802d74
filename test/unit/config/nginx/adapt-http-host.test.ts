// HTTP_HOST from Debian's stock parameter files: `*_param HTTP_HOST $host` (lower case, no port) is
// not what gatehouse sends on its own (the Host it routed by, as the client wrote it), so it stays a
// param; `$http_host` is, and translates to nothing.
import { expect } from 'chai';
import { parseConfig } from '../../../../src/config/index.js';
import type { RouteConfig } from '../../../../src/config/types.js';

const FILE = '/x/site.conf';

function route(body: string): RouteConfig {
  const text = `server {\n  listen 8080;\n  server_name a.test;\n  location / {\n${body}  }\n}\n`;
  return parseConfig(text, FILE).config.sites[0]!.routes[0]!;
}

describe('nginx adapter: HTTP_HOST of the stock parameter files', () => {
  for (const [kind, pass] of [
    ['uwsgi', 'uwsgi_pass 127.0.0.1:3031;'],
    ['fastcgi', 'fastcgi_pass 127.0.0.1:9000;'],
    ['scgi', 'scgi_pass 127.0.0.1:4000;'],
  ] as const) {
    it(`include ${kind}_params keeps HTTP_HOST $host as a param`, () => {
      const r = route(`    include ${kind}_params;\n    ${pass}\n`);
      expect(r.params).to.deep.equal([{ name: 'HTTP_HOST', value: '$host', ifNotEmpty: false }]);
    });
  }

  it('HTTP_HOST $http_host is what gatehouse sends: no param', () => {
    const r = route('    uwsgi_param HTTP_HOST $http_host;\n    uwsgi_pass 127.0.0.1:3031;\n');
    expect(r.params ?? []).to.deep.equal([]);
  });
});
