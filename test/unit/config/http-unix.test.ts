// HTTP (and HTTPS) upstreams on unix sockets in the config (README "Configuration reference"):
// `proxy: http+unix:/path[:/uri]` and `http+unix:/path` servers, errors at FILE:LINE:COL.
import { expect } from 'chai';
import { parseConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/config/types.js';
import { expectError, lines, valid } from './helpers.js';

const HEAD = ['listen: { https: 8443 }'];
const SITE = ['sites:', '  - hosts: [a.test]', '    routes:'];

describe('config: HTTP upstreams on unix sockets', () => {
  it('accepts a route proxy with and without a URI part, and https+unix', () => {
    const config = valid(
      lines(
        ...HEAD,
        ...SITE,
        '      - { location: /api/, proxy: "http+unix:/run/app.sock:/v2/" }',
        '      - { location: /tls/, proxy: "https+unix:///run/tls.sock" }',
        '      - { location: /, proxy: "http+unix:/run/app.sock" }',
      ),
    );
    const routes = config.sites[0]?.routes ?? [];
    expect(routes.map((r) => r.proxyTarget)).to.deep.equal([
      { scheme: 'http', address: '/run/app.sock', proxyHost: 'localhost', uri: '/v2/' },
      { scheme: 'https', address: '/run/tls.sock', proxyHost: 'localhost' },
      { scheme: 'http', address: '/run/app.sock', proxyHost: 'localhost' },
    ]);
  });

  it('accepts http+unix servers in an upstream, beside TCP ones, normalised', () => {
    const config = valid(
      lines(
        ...HEAD,
        'upstreams:',
        '  app: { servers: ["http+unix:/run/a.sock", "http+unix:///run/b.sock", { url: "http://127.0.0.1:8001", backup: true }] }',
        ...SITE,
        '      - { location: /, proxy: app }',
      ),
    );
    expect(config.upstreams.app?.servers.map((s) => s.url)).to.deep.equal(['http+unix:/run/a.sock', 'http+unix:/run/b.sock', 'http://127.0.0.1:8001']);
  });

  it('refuses a relative socket path, at the value', () => {
    expectError(lines(...HEAD, ...SITE, '      - { location: /, proxy: "http+unix:run/app.sock" }'), 5, 31, 'unix socket path in "http+unix:run/app.sock" must be absolute');
    expectError(
      lines(...HEAD, 'upstreams:', '  app: { servers: ["http+unix:run/a.sock"] }', ...SITE, '      - { location: /, proxy: app }'),
      3,
      20,
      'the unix socket path must be absolute',
    );
  });

  it('refuses a URI part on a server, and one in a regex location', () => {
    expectError(
      lines(...HEAD, 'upstreams:', '  app: { servers: ["http+unix:/run/a.sock:/v2/"] }', ...SITE, '      - { location: /, proxy: app }'),
      3,
      20,
      'cannot have a path',
    );
    expectError(lines(...HEAD, ...SITE, '      - { location: "~ ^/x", proxy: "http+unix:/run/a.sock:/y/" }'), 5, 37, 'cannot be used in a regex location');
  });
});

describe('config: nginx proxy_pass http://unix: and server unix: (adapter)', () => {
  const CONF = '/etc/nginx/sites-enabled/app.conf';

  it('translates both into http+unix, through the native pipeline', () => {
    const { config } = parseConfig(
      lines(
        'upstream app { server unix:/run/a.sock; server unix:///run/b.sock weight=2; }',
        'server {',
        '  listen 8080; server_name a.test;',
        '  location /v2/ { proxy_pass http://unix:/run/app.sock:/api/; }',
        '  location / { proxy_pass http://app; }',
        '}',
      ),
      CONF,
    );
    expect(config.origin).to.equal('nginx');
    expect(config.upstreams.app?.servers).to.deep.equal([
      { url: 'http+unix:/run/a.sock', weight: 1, backup: false },
      { url: 'http+unix:/run/b.sock', weight: 2, backup: false },
    ]);
    expect(config.sites[0]?.routes[0]?.proxyTarget).to.deep.equal({ scheme: 'http', address: '/run/app.sock', proxyHost: 'localhost', uri: '/api/' });
  });

  it('a relative socket path is an error at the nginx address', () => {
    const text = lines('upstream app {', '  server unix:/run/a.sock;', '  server unix:run/b.sock;', '}', 'server { listen 8080; location / { proxy_pass http://app; } }');
    expect(() => parseConfig(text, CONF)).to.throw(ConfigError, `${CONF}:3:10: upstream server "http+unix:run/b.sock": the unix socket path must be absolute`);
  });
});
