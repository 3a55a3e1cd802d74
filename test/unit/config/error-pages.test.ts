// issue 17: `errorPages`, `interceptErrors`, `expires`, `proxyRedirect`, `proxyHideHeaders` /
// `proxyPassHeaders` and `headers.response.add` on sites and routes, with their errors.
import { expect } from 'chai';
import { expectErrorAt, expectWarning, lines, valid } from './helpers.js';

const HEAD = ['listen: { http: 8080 }', 'sites:', '  - hosts: a.test', '    tls: off'];

function route(...keys: string[]): string[] {
  return [...HEAD, '    routes:', '      - location: /', '        root: /srv', ...keys.map((k) => `        ${k}`), '      - location: "@teapot"', '        return: 418'];
}

describe('config/error-pages and response headers (issue 17)', () => {
  it('reads every errorPages form on a site and on a route', () => {
    const c = valid(
      lines(
        ...HEAD,
        "    errorPages: { 404: /404.html, '500 502 503 504': /50x.html }",
        '    routes:',
        '      - location: /',
        '        root: /srv',
        "        errorPages: { 418: '@teapot', 403: '=200 /ok.html', 401: '=301 https://login.example/', 410: '= /gone?x=$uri' }",
        '      - location: "@teapot"',
        '        return: 418',
      ),
    );
    const site = c.sites[0]!;
    expect(site.errorPages).to.deep.equal({
      404: { target: '/404.html' },
      500: { target: '/50x.html' },
      502: { target: '/50x.html' },
      503: { target: '/50x.html' },
      504: { target: '/50x.html' },
    });
    expect(site.routes[0]!.errorPages).to.deep.equal({
      418: { target: '@teapot' },
      403: { overwrite: 200, target: '/ok.html' },
      401: { overwrite: 301, target: 'https://login.example/' },
      410: { overwrite: 0, target: '/gone?x=$uri' },
    });
  });

  it('reports statuses outside 300-599, repeated statuses, unknown @names and bad targets where they are written', () => {
    expectErrorAt(route("errorPages: { 200: /x }"), '200', 'errorPages status "200" must be between 300 and 599');
    expectErrorAt(route("errorPages: { '404 40x': /x }"), "'404 40x'", 'errorPages status "40x"');
    expectErrorAt(route("errorPages: { 404: /a, '500 404': /b }"), "'500 404'", 'status 404 already has an error page');
    expectErrorAt(route("errorPages: { 404: '@teapto' }"), "'@teapto'", 'no "location: @teapto" (did you mean "teapot"?)');
    expectErrorAt(route('errorPages: { 404: nothing.html }'), 'nothing.html', 'must be a URI starting with "/", @name, or a URL');
    expectErrorAt(route("errorPages: { 404: '=2000 /x' }"), "'=2000 /x'", 'is not an HTTP status');
    expectErrorAt(route('errorPages: { 404: /x$urii }'), '/x$urii', 'unknown variable "$urii" (did you mean "$uri"?)');
    expectErrorAt(route('errorPages: [404]'), '[404]', 'a map of statuses to pages');
  });

  it('warns when a URL page is given a status that is not a redirect', () => {
    expectWarning(lines(...route("errorPages: { 404: '=200 https://x.test/' }")), 8, 28, 'a URL page is answered with 302');
  });

  it('warns when interceptErrors has no error pages to use', () => {
    expectWarning(lines(...HEAD, '    routes:', '      - location: /a/', '        proxy: http://127.0.0.1:9000', '        interceptErrors: true'), 6, 9, 'interceptErrors has no effect on "/a/"');
    const quiet = lines(...HEAD, "    errorPages: { 502: /x }", '    routes:', '      - location: /a/', '        proxy: http://127.0.0.1:9000', '        interceptErrors: true');
    expect(valid(quiet).sites[0]!.routes[0]!.interceptErrors).to.equal(true);
  });

  it('reads interceptErrors, expires, proxyRedirect and the hide/pass lists', () => {
    const c = valid(
      lines(
        ...HEAD,
        '    expires: 30d',
        '    routes:',
        '      - location: /',
        '        proxy: http://127.0.0.1:9000',
        '        interceptErrors: true',
        "        expires: 'modified -1h'",
        "        proxyRedirect: [default, { from: 'http://b/', to: '/' }, { from: '~^http://c/(.*)$', to: '/c/$1' }]",
        '        proxyHideHeaders: [X-Powered-By]',
        '        proxyPassHeaders: Server',
        '      - location: /b/',
        '        proxy: http://127.0.0.1:9000',
        '        expires: off',
        '        proxyRedirect: off',
      ),
    );
    const site = c.sites[0]!;
    expect(site.expires).to.deep.equal({ kind: 'access', seconds: 30 * 86400 });
    const [a, b] = site.routes;
    expect(a).to.deep.include({
      interceptErrors: true,
      expires: { kind: 'modified', seconds: -3600 },
      proxyHideHeaders: ['x-powered-by'],
      proxyPassHeaders: ['server'],
    });
    expect(a!.proxyRedirect).to.deep.equal(['default', { from: 'http://b/', to: '/' }, { from: '~^http://c/(.*)$', to: '/c/$1' }]);
    expect(b).to.deep.include({ expires: 'off', proxyRedirect: 'off' });
  });

  it('reads every expires form', () => {
    const expiresOf = (v: string) => valid(lines(...route(`expires: ${v}`))).sites[0]!.routes[0]!.expires;
    expect(expiresOf('epoch')).to.deep.equal({ kind: 'epoch' });
    expect(expiresOf('max')).to.deep.equal({ kind: 'max' });
    expect(expiresOf('off')).to.equal('off');
    expect(expiresOf('-1')).to.deep.equal({ kind: 'access', seconds: -1 });
    expect(expiresOf('0')).to.deep.equal({ kind: 'access', seconds: 0 });
    expect(expiresOf('1h30m')).to.deep.equal({ kind: 'access', seconds: 5400 });
    expect(expiresOf("'modified 2d'")).to.deep.equal({ kind: 'modified', seconds: 172800 });
  });

  it('reports bad expires and proxyRedirect values with a hint', () => {
    expectErrorAt(route('expires: epoc'), 'epoc', 'expires "epoc" is not valid (did you mean "epoch"?)');
    expectErrorAt(route('expires: 10x'), '10x', 'must be off, epoch, max, a duration');
    expectErrorAt(route("expires: '@15h'"), "'@15h'", 'a time of day) is not supported');
    expectErrorAt(route('proxyRedirect: defualt'), 'defualt', 'proxyRedirect "defualt" must be default, off, or a list of { from, to } (did you mean "default"?)');
    expectErrorAt(route("proxyRedirect: [{ from: '~(', to: / }]"), "'~('", 'not a valid regular expression');
    expectErrorAt(route('proxyRedirect: [{ from: a }]'), '{ from: a }', 'to');
    expectErrorAt(route('proxyHideHeaders: ["X Bad"]'), '"X Bad"', '"X Bad" is not a valid header name');
    expectErrorAt(route('interceptErrors: yes please'), 'yes please', 'must be true or false');
  });

  it('reads headers.response.add in written order, with always', () => {
    const c = valid(lines(...route("headers: { response: { add: { X-Frame-Options: SAMEORIGIN, X-Debug: { value: '$host$uri', always: true }, X-N: 5 } } }")));
    expect(c.sites[0]!.routes[0]!.headers?.response?.add).to.deep.equal([
      { name: 'X-Frame-Options', value: 'SAMEORIGIN', always: false },
      { name: 'X-Debug', value: '$host$uri', always: true },
      { name: 'X-N', value: '5', always: false },
    ]);
  });

  it('reports bad add entries where they are written', () => {
    expectErrorAt(route('headers: { response: { add: { X-A: { valu: 1 } } } }'), 'valu', 'unknown key "valu" (did you mean "value"?)');
    expectErrorAt(route("headers: { response: { add: { X-A: '$hots' } } }"), "'$hots'", 'unknown variable "$hots" (did you mean "$host"?)');
    expectErrorAt(route("headers: { response: { add: { 'X A': v } } }"), "'X A'", 'not a valid header name');
    expectErrorAt(route('headers: { request: { add: { X-A: v } } }'), 'add', 'unknown key "add"');
  });
});
