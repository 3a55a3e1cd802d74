// `params` (nginx fastcgi_param / uwsgi_param / scgi_param) and `splitPathInfo` (nginx
// fastcgi_split_path_info): accepted on CGI routes, inherited as nginx's lists are, refused at the
// key or value that is wrong.
import { expect } from 'chai';
import { expectError, expectWarning, issuesOf, lines, valid } from './helpers.js';

const HEAD = ['listen: { https: 8443 }'];
const SITE = ['sites:', '  - hosts: [a.test]', '    routes:'];

describe('config: params and splitPathInfo of CGI routes', () => {
  it('accepts NAME: value and NAME: { value, ifNotEmpty }, in written order, with variables', () => {
    const config = valid(
      lines(
        ...HEAD,
        ...SITE,
        '      - location: "~ \\\\.php(/|$)"',
        '        proxy: fastcgi://127.0.0.1:9000',
        '        root: /var/www',
        '        params:',
        '          SCRIPT_FILENAME: /srv/app$fastcgi_script_name',
        '          APP_ENV: production',
        '          PORT_NUMBER: 8080',
        '          HTTP_AUTH: { value: $http_authorization, ifNotEmpty: true }',
        '        splitPathInfo: "^(.+\\\\.php)(/.+)$"',
      ),
    );
    const route = config.sites[0]!.routes[0]!;
    expect(route.params).to.deep.equal([
      { name: 'SCRIPT_FILENAME', value: '/srv/app$fastcgi_script_name', ifNotEmpty: false },
      { name: 'APP_ENV', value: 'production', ifNotEmpty: false },
      { name: 'PORT_NUMBER', value: '8080', ifNotEmpty: false },
      { name: 'HTTP_AUTH', value: '$http_authorization', ifNotEmpty: true },
    ]);
    expect(route.splitPathInfo).to.equal('^(.+\\.php)(/.+)$');
  });

  it("inherits a site's params into every CGI route that writes none; a route's own replace them whole", () => {
    const config = valid(
      lines(
        ...HEAD,
        'sites:',
        '  - hosts: [a.test]',
        '    params: { A: site, B: site }',
        '    routes:',
        '      - { location: /one/, proxy: "uwsgi://127.0.0.1:3031" }',
        '      - { location: /two/, proxy: "scgi://127.0.0.1:4000", params: { C: own } }',
        '      - location: /outer/',
        '        params: { D: outer }',
        '        routes:',
        '          - { location: /outer/php/, proxy: "fastcgi://127.0.0.1:9000", root: /var/www }',
      ),
    );
    const [one, two, outer] = config.sites[0]!.routes;
    expect(config.sites[0]!.params?.map((p) => p.name)).to.deep.equal(['A', 'B']);
    expect(one!.params?.map((p) => `${p.name}=${p.value}`)).to.deep.equal(['A=site', 'B=site']);
    expect(two!.params?.map((p) => `${p.name}=${p.value}`)).to.deep.equal(['C=own']);
    expect(outer!.routes![0]!.params?.map((p) => `${p.name}=${p.value}`)).to.deep.equal(['D=outer']);
  });

  it('inherits splitPathInfo into a nested FastCGI route; unset, a route has none of its own', () => {
    const config = valid(
      lines(
        ...HEAD,
        ...SITE,
        '      - location: /app/',
        '        splitPathInfo: "^(/app/.+?\\\\.php)(.*)$"',
        '        routes:',
        '          - { location: "~ \\\\.php", proxy: "fastcgi://127.0.0.1:9000", root: /var/www }',
        '      - { location: /b/, proxy: "fastcgi://127.0.0.1:9000", root: /var/www }',
      ),
    );
    expect(config.sites[0]!.routes[0]!.routes![0]!.splitPathInfo).to.equal('^(/app/.+?\\.php)(.*)$');
    expect(config.sites[0]!.routes[1]!.splitPathInfo).to.equal(undefined);
  });

  it('refuses own params on a route that proxies over HTTP or serves files, at the key', () => {
    const http = lines(...HEAD, ...SITE, '      - location: /', '        proxy: http://127.0.0.1:3000', '        params: { A: b }');
    expectError(http, 7, 9, 'params go to FastCGI, uwsgi and SCGI backends; this route proxies over http');
    const files = lines(...HEAD, ...SITE, '      - location: /', '        root: /srv', '        params: { A: b }');
    expectError(files, 7, 9, 'this route does not proxy');
  });

  it('finds the protocol of a named upstream', () => {
    const named = lines(...HEAD, 'upstreams:', '  php: { servers: [fastcgi://127.0.0.1:9000] }', '  web: { servers: [http://127.0.0.1:3000] }', ...SITE,
      '      - { location: /a/, proxy: php, root: /var/www, params: { A: b } }',
      '      - location: /b/',
      '        proxy: web',
      '        params: { A: b }');
    expectError(named, 11, 9, 'this route proxies over http');
    expect(issuesOf(named).filter((i) => i.severity === 'error')).to.have.length(1);
  });

  it('warns where a site\'s params reach an HTTP proxy route, as nginx ignores them there; not for files', () => {
    const text = lines(
      ...HEAD,
      'sites:',
      '  - hosts: [a.test]',
      '    params: { A: b }',
      '    routes:',
      '      - { location: /api/, proxy: "http://127.0.0.1:3000" }',
      '      - { location: /static/, root: /srv }',
      '      - { location: /php/, proxy: "fastcgi://127.0.0.1:9000", root: /srv }',
      '      - { location: /api2/, proxy: "http://127.0.0.1:3000" }',
    );
    expectWarning(text, 4, 5, 'params are not sent to route "/api/", which proxies over http');
    expectWarning(text, 4, 5, 'params are not sent to route "/api2/", which proxies over http');
    expect(issuesOf(text).filter((i) => i.message.startsWith('params'))).to.have.length(2);
  });

  it('refuses splitPathInfo outside a FastCGI route, and a regex without exactly two captures', () => {
    const uwsgi = lines(...HEAD, ...SITE, '      - location: /', '        proxy: uwsgi://127.0.0.1:3031', '        splitPathInfo: true');
    expectError(uwsgi, 7, 9, 'splitPathInfo applies to FastCGI routes; this route proxies over uwsgi');
    const one = lines(...HEAD, ...SITE, '      - location: /', '        proxy: fastcgi://127.0.0.1:9000', '        splitPathInfo: "^(.+\\\\.php)/.*$"');
    expectError(one, 7, 24, 'must have 2 captures (script name, path info), it has 1');
    const broken = lines(...HEAD, ...SITE, '      - location: /', '        proxy: fastcgi://127.0.0.1:9000', '        splitPathInfo: "^(.+\\\\.php)(/.*$"');
    expectError(broken, 7, 24, 'splitPathInfo: Invalid regular expression');
  });

  it('refuses a bad name, a NUL in a value, an unknown variable and a value that is not text', () => {
    const route = (param: string) => lines(...HEAD, ...SITE, '      - location: /', '        proxy: fastcgi://127.0.0.1:9000', '        params:', `          ${param}`);
    expectError(route('"A B": x'), 8, 11, '"A B" is not a valid parameter name');
    expectError(route('"A=B": x'), 8, 11, '"A=B" is not a valid parameter name');
    expectError(route('A: "x\\0y"'), 8, 14, 'the value of parameter "A" contains a NUL byte');
    expectError(route('A: $fastcgi_script'), 8, 14, 'unknown variable "$fastcgi_script"');
    expectError(route('A: [x]'), 8, 14, 'a value (text with variables), or { value, ifNotEmpty: true }');
    expectError(route('A: { value: x, ifempty: true }'), 8, 26, 'ifempty');
    expectError(route(`A: "${'x'.repeat(16 * 1024 + 1)}"`), 8, 14, 'is over 16384 characters');
  });
});
