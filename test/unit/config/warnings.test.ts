// Likely mistakes are warnings: the config stays valid, and each warning points at the culprit.
import zlib from 'node:zlib';
import { expect } from 'chai';
import { parseConfig } from '../../../src/config/index.js';
import { formatIssue } from '../../../src/config/types.js';
import { FILE, expectWarningAt, lines } from './helpers.js';

const OK_ROUTES = '    routes: [{ location: /, return: 204 }]';

describe('config/warnings', () => {
  it('a clean config has no warnings', () => {
    const { warnings } = parseConfig(lines('listen: { http: 8080, https: 8443 }', 'sites:', '  - hosts: [a.test]', OK_ROUTES), FILE);
    expect(warnings).to.deep.equal([]);
  });

  it('are formatted with "warning:" after the position', () => {
    const { warnings } = parseConfig(lines('listen: { https: 8443 }', 'sites:', '  - hosts: [a.test]'), FILE);
    expect(warnings.map(formatIssue)).to.deep.equal([
      `${FILE}:3:5: warning: no route matches every path (like "location: /"); other requests will get 404`,
    ]);
  });

  it('warns about hsts on a tls: off site', () => {
    const L = ['listen: { http: 80 }', 'sites:', '  - hosts: [a.test]', '    tls: off', '    hsts: 365d', OK_ROUTES];
    expectWarningAt(L, '365d', 'hsts has no effect on a "tls: off" site');
  });

  it('warns about an explicit https redirect on a tls: off site', () => {
    const L = ['listen: { http: 80 }', 'sites:', '  - hosts: [a.test]', '    tls: off', '    redirect: https', OK_ROUTES];
    expectWarningAt(L, 'https', 'redirect: https on a "tls: off" site', 1);
  });

  it('warns when no route catches every path, but not for "^~ /" or a regex that matches all', () => {
    const L = ['listen: { https: 8443 }', 'sites:', '  - hosts: [a.test]', '    routes:', '      - { location: /api/, return: 204 }'];
    expectWarningAt(L, '- { location', 'no route matches every path');
    for (const loc of ['^~ /', '"~ ^/"', '"~* .*"']) {
      const { warnings } = parseConfig(lines(...L.slice(0, 4), `      - { location: ${loc}, return: 204 }`), FILE);
      expect(warnings, loc).to.deep.equal([]);
    }
  });

  it('warns when trustedProxies trusts every address', () => {
    const L = ['listen: { https: 8443 }', 'trustedProxies: [10.0.0.0/8, 0.0.0.0/0, "::/0"]', 'sites:', '  - hosts: [a.test]', OK_ROUTES];
    expectWarningAt(L, '0.0.0.0/0', 'trustedProxies "0.0.0.0/0" trusts every address');
    expectWarningAt(L, '"::/0"', 'trustedProxies "::/0" trusts every address');
  });

  it('warns when admin listens beyond loopback with no allow list', () => {
    const L = ['listen: { https: 8443 }', 'admin: 2019', 'sites:', '  - hosts: [a.test]', OK_ROUTES];
    expectWarningAt(L, '2019', 'admin listens beyond loopback but lets only loopback clients in (403 for others)');
    const long = ['listen: { https: 8443 }', 'admin: { listen: "0.0.0.0:2019" }', 'sites:', '  - hosts: [a.test]', OK_ROUTES];
    expectWarningAt(long, '"0.0.0.0:2019"', 'add allow: [CIDRs]');
    const quiet = parseConfig(lines('listen: { https: 8443 }', 'admin: "[::1]:2019"', 'sites:', '  - hosts: [a.test]', OK_ROUTES), FILE);
    expect(quiet.warnings).to.deep.equal([]);
    const allowed = parseConfig(lines('listen: { https: 8443 }', 'admin: { listen: 2019, allow: [10.0.0.0/8] }', 'sites:', '  - hosts: [a.test]', OK_ROUTES), FILE);
    expect(allowed.warnings).to.deep.equal([]);
  });

  it('warns about an upstream no route uses, at its name', () => {
    const L = [
      'listen: { https: 8443 }',
      'upstreams:',
      '  app: { servers: http://127.0.0.1:1 }',
      '  old: { servers: http://127.0.0.1:2 }',
      'sites:',
      '  - hosts: [a.test]',
      '    routes: [{ location: /, proxy: "http://app/x/" }]',
    ];
    expectWarningAt(L, 'old', 'upstream "old" is not used by any route');
    expect(parseConfig(lines(...L), FILE).warnings).to.have.length(1);
  });

  it('warns about a wildcard ACME name without on-demand issuance', () => {
    const L = ['listen: { http: 80, https: 443 }', 'sites:', '  - hosts: [example.com, "*.example.com"]', OK_ROUTES];
    expectWarningAt(L, '"*.example.com"', 'needs a wildcard certificate');
    const onDemand = parseConfig(lines(...L, 'acme: { onDemand: { ask: "http://127.0.0.1:5555/check" } }'), FILE);
    expect(onDemand.warnings).to.deep.equal([]);
  });

  it('warns when a TLS site has no https listener, or ACME has no challenge it can answer', () => {
    const L = ['listen: { http: 80 }', 'acme: { challenges: [tls-alpn-01] }', 'sites:', '  - hosts: [example.com]', '    tls: acme', OK_ROUTES];
    expectWarningAt(L, 'acme', 'site uses TLS (acme) but there is no listen.https', 2);
    expectWarningAt(L, '{ challenges', 'no ACME challenge can be answered');
  });

  describe('a FastCGI route with a root and no script check (review F11)', () => {
    const PHP = 'x.jpg/index.php reaches php-fpm';

    it('warns at the route, for a fastcgi:// and a fastcgi+unix: proxy, and says what to add', () => {
      const L = [
        'listen: { https: 8443 }',
        'sites:',
        '  - hosts: [a.test]',
        '    routes:',
        '      - location: "~ \\\\.php(/|$)"',
        '        proxy: fastcgi://127.0.0.1:9000',
        '        root: /var/www/html',
        '      - { location: "~ \\\\.phtml$", proxy: "fastcgi+unix:/run/php/php8.2-fpm.sock", root: /var/www/html }',
        '      - { location: /, root: /var/www/html }',
      ];
      expectWarningAt(L, 'location: "~ \\\\.php', PHP);
      expectWarningAt(L, '{ location: "~ \\\\.phtml', PHP);
      const { warnings } = parseConfig(lines(...L), FILE);
      expect(warnings).to.have.length(2);
      expect(formatIssue(warnings[0]!)).to.equal(
        `${FILE}:5:9: warning: FastCGI route "~ \\.php(/|$)" has a root but no script check: a request for ` +
          '/uploads/x.jpg/index.php reaches php-fpm, whose cgi.fix_pathinfo walks back to the uploaded ' +
          'uploads/x.jpg and may run it as PHP (only security.limit_extensions stops that); add ' +
          'tryFiles: [$uri, =404] (nginx: try_files $fastcgi_script_name =404) so that only scripts that ' +
          'exist under root are sent',
      );
    });

    it('warns for a route to an upstream whose servers are fastcgi://, by name or as fastcgi://NAME', () => {
      const L = [
        'listen: { https: 8443 }',
        'upstreams:',
        '  php: { servers: [fastcgi://127.0.0.1:9000, fastcgi://127.0.0.1:9001] }',
        'sites:',
        '  - hosts: [a.test]',
        '    routes:',
        '      - { location: "~ \\\\.php$", proxy: php, root: /srv }',
        '      - { location: "= /status.php", proxy: fastcgi://php, root: /srv }',
        '      - { location: /, root: /srv }',
      ];
      expectWarningAt(L, '{ location: "~', PHP);
      expectWarningAt(L, '{ location: "=', PHP);
    });

    it('is quiet with a script check, with any tryFiles, without a root, and for uwsgi, SCGI and HTTP', () => {
      const quiet = [
        'proxy: fastcgi://127.0.0.1:9000, root: /srv, tryFiles: [$uri, =404]',
        'proxy: fastcgi://127.0.0.1:9000, root: /srv, tryFiles: [$fastcgi_script_name, =403]',
        // Every tryFiles item must exist under root before anything is forwarded (try-files.ts).
        'proxy: fastcgi://127.0.0.1:9000, root: /srv, tryFiles: [$uri, /index.php]',
        'proxy: fastcgi://127.0.0.1:9000',
        'proxy: uwsgi://127.0.0.1:3031, root: /srv',
        'proxy: scgi://127.0.0.1:4000, root: /srv',
        'proxy: http://127.0.0.1:8000, root: /srv',
      ];
      for (const route of quiet) {
        const text = lines('listen: { https: 8443 }', 'sites:', '  - hosts: [a.test]', '    routes:', `      - { location: /, ${route} }`);
        expect(parseConfig(text, FILE).warnings, route).to.deep.equal([]);
      }
    });
  });

  it('leaves zstd out, with a warning, where Node.js has no zstd', () => {
    const L = ['listen: { https: 8443 }', 'sites:', '  - hosts: [a.test]', '    compress: [zstd, br]', OK_ROUTES];
    const { config, warnings } = parseConfig(lines(...L), FILE);
    if (typeof (zlib as unknown as Record<string, unknown>).createZstdCompress === 'function') {
      expect(warnings).to.deep.equal([]);
      expect(config.sites[0]?.compress).to.deep.equal(['zstd', 'br']);
    } else {
      expectWarningAt(L, 'zstd', 'zstd needs Node.js 22.15 or later');
      expect(config.sites[0]?.compress).to.deep.equal(['br']);
    }
  });
});
