// Site-level defaults inherited by routes and nested routes (config/inherit.ts), nested routes'
// load-time rules (config/nesting.ts), alias and internal, and the warnings they bring.
import { expect } from 'chai';
import { parseConfig } from '../../../src/config/index.js';
import { MAX_NESTING } from '../../../src/config/schema.js';
import type { RouteConfig } from '../../../src/config/types.js';
import { FILE, at, expectErrorAt, expectWarningAt, issuesOf, lines, valid } from './helpers.js';

const HEAD = ['listen: { http: 8080 }', 'sites:', '  - hosts: [a.test]', '    tls: off'];

describe('config: inheritance, nested routes, alias, internal (issue 17)', () => {
  describe('site-level defaults', () => {
    const L = [
      ...HEAD,
      '    root: /srv/www',
      '    index: [home.html, index.html]',
      '    maxBody: 2m',
      '    headers:',
      '      request: { set: { X-Site: s } }',
      '      response: { set: { X-Frame-Options: DENY } }',
      '    routes:',
      '      - location: /',
      '      - location: /own/',
      '        root: /srv/own',
      '        index: own.html',
      '        maxBody: 0',
      '        headers: { response: { set: { X-Own: o } } }',
      '      - location: /api/',
      '        proxy: http://127.0.0.1:9000',
      '        headers: { request: { set: { X-Api: a } } }',
      '        routes:',
      '          - location: /api/v2/',
      '            proxy: http://127.0.0.1:9001',
      '      - { location: = /ping, return: 204 }',
    ];
    const c = valid(lines(...L));
    const [root, own, api, ping] = c.sites[0]?.routes ?? [];

    it('a route with nothing of its own serves the site root with the site index', () => {
      expect(root).to.deep.include({ root: '/srv/www', index: ['home.html', 'index.html'], maxBody: 2 * 1024 * 1024 });
      expect(root?.headers).to.deep.equal({
        request: { set: { 'X-Site': 's' }, remove: [] },
        response: { set: { 'X-Frame-Options': 'DENY' }, remove: [] },
      });
      expect(c.sites[0]).to.deep.include({ root: '/srv/www', index: ['home.html', 'index.html'] });
    });

    it('a route value replaces the site value, a list is replaced whole (nginx add_header / proxy_set_header)', () => {
      expect(own).to.deep.include({ root: '/srv/own', index: ['own.html'], maxBody: 0 });
      expect(own?.headers?.response).to.deep.equal({ set: { 'X-Own': 'o' }, remove: [] });
      // The part the route does not write is still the site's.
      expect(own?.headers?.request).to.deep.equal({ set: { 'X-Site': 's' }, remove: [] });
      expect(api?.headers?.request).to.deep.equal({ set: { 'X-Api': 'a' }, remove: [] });
    });

    it('a nested route inherits from its parent route, which inherited from the site', () => {
      const v2 = api?.routes?.[0] as RouteConfig;
      expect(v2.location).to.equal('/api/v2/');
      expect(v2.headers?.request).to.deep.equal({ set: { 'X-Api': 'a' }, remove: [] });
      expect(v2.headers?.response).to.deep.equal({ set: { 'X-Frame-Options': 'DENY' }, remove: [] });
      expect(v2).to.deep.include({ root: '/srv/www', maxBody: 2 * 1024 * 1024 });
    });

    it('an inherited root is no conflict for a return route', () => {
      expect(ping).to.deep.include({ return: { status: 204 }, root: '/srv/www' });
    });

    it('the raw config is left as written (check reads it again)', () => {
      const text = lines(...L);
      const first = parseConfig(text, FILE);
      expect(first.config.sites[0]?.routes[0]?.root).to.equal('/srv/www');
    });

    it('an error in a site value is reported once, at the site line, however many routes inherit it', () => {
      const B = [...HEAD, '    headers: { request: { set: { X-Who: $remote_adr } } }', '    routes:', '      - location: /a', '        proxy: http://127.0.0.1:1', '      - location: /b', '        proxy: http://127.0.0.1:2'];
      const issues = issuesOf(lines(...B)).filter((i) => i.message.includes('$remote_adr'));
      expect(issues).to.have.length(1);
      expect(issues[0]?.pos).to.deep.include(at(B, '$remote_adr'));
    });

    it('a relative site root is relative to the config file', () => {
      const c2 = valid(lines(...HEAD, '    root: public', '    routes: [{ location: / }]'));
      expect(c2.sites[0]?.routes[0]?.root).to.equal('/etc/gatehouse/public');
    });

    it('tryFiles and symlinks accept an inherited root', () => {
      const c2 = valid(lines(...HEAD, '    root: /srv', '    routes: [{ location: /, tryFiles: [$uri, =404], symlinks: follow }]'));
      expect(c2.sites[0]?.routes[0]).to.deep.include({ root: '/srv', tryFiles: ['$uri', '=404'], symlinks: 'follow' });
    });

    it('a site with a root and no "/" route serves the rest from its root (nginx server-level config), and does not warn', () => {
      const text = lines(...HEAD, '    root: /srv/www', '    headers: { response: { set: { X-A: a } } }', '    routes: [{ location: /api/, proxy: "http://127.0.0.1:1" }]');
      const { config, warnings } = parseConfig(text, FILE);
      const last = config.sites[0]?.routes.at(-1);
      expect(last).to.deep.include({ location: '/', root: '/srv/www', implicit: true, index: ['index.html'] });
      expect(last?.headers?.response).to.deep.equal({ set: { 'X-A': 'a' }, remove: [] });
      expect(warnings).to.deep.equal([]);
      const withSlash = valid(lines(...HEAD, '    root: /srv/www', '    routes: [{ location: ^~ /, return: 204 }]'));
      expect(withSlash.sites[0]?.routes).to.have.length(1);
      const noRoutes = valid(lines(...HEAD, '    root: /srv/www'));
      expect(noRoutes.sites[0]?.routes.map((r) => r.location)).to.deep.equal(['/']);
    });

    it('still refuses a route that does nothing when there is no root to inherit', () => {
      expectErrorAt([...HEAD, '    routes:', '      - location: /a'], 'location: /a', 'route "/a" needs one of proxy, root or return');
    });
  });

  describe('nested routes', () => {
    it('refuses a nested static location outside its parent (nginx "is outside location")', () => {
      const L = [...HEAD, '    routes:', '      - location: /app/', '        root: /srv', '        routes:', '          - { location: /other/, return: 204 }', '          - { location: = /app, return: 204 }'];
      expectErrorAt(L, '/other/', 'location "/other/" is outside location "/app/"');
      expectErrorAt(L, '= /app', 'location "= /app" is outside location "/app/"');
    });

    it('accepts nested regexes and nested prefixes inside the parent', () => {
      const c = valid(lines(...HEAD, '    routes:', '      - location: /', '        root: /srv', '        routes:', '          - { location: "~ \\\\.php$", return: 204 }', '          - { location: ^~ /img/, return: 204 }'));
      expect(c.sites[0]?.routes[0]?.routes?.map((r) => r.location)).to.deep.equal(['~ \\.php$', '^~ /img/']);
    });

    it('refuses a named location below site level, and anything inside an exact or named location', () => {
      const L = [
        ...HEAD, '    routes:',
        '      - location: /',
        '        root: /srv',
        '        routes: [{ location: "@inner", return: 204 }]',
        '      - location: = /x',
        '        return: 204',
        '        routes: [{ location: /x/y, return: 204 }]',
        '      - location: "@named"',
        '        return: 204',
        '        routes: [{ location: "~ y", return: 204 }]',
      ];
      expectErrorAt(L, '"@inner"', 'named location "@inner" can be on site level only');
      expectErrorAt(L, '/x/y', 'location "/x/y" cannot be inside the exact location "= /x"');
      expectErrorAt(L, '"~ y"', 'location "~ y" cannot be inside the named location "@named"');
    });

    it('a prefix cannot nest in a regex location (nginx compares it with the regex text)', () => {
      const L = [...HEAD, '    routes:', '      - location: "~ ^/u/"', '        root: /srv', '        routes: [{ location: /u/x, return: 204 }]'];
      expectErrorAt(L, '/u/x', 'location "/u/x" is outside location "~ ^/u/"');
    });

    it('reports duplicates within one level, not across levels', () => {
      const L = [...HEAD, '    routes:', '      - location: /a/', '        root: /srv', '        routes:', '          - { location: /a/b, return: 204 }', '          - { location: ^~ /a/b, return: 204 }', '      - { location: /a/b, return: 204 }'];
      expectErrorAt(L, '^~ /a/b', 'duplicate location "^~ /a/b"');
      expect(issuesOf(lines(...L)).filter((i) => i.message.includes('duplicate'))).to.have.length(1);
    });

    it('tryFiles in a nested route may fall back to a site-level @name', () => {
      const c = valid(lines(...HEAD, '    routes:', '      - location: /', '        root: /srv', '        routes: [{ location: /a/, tryFiles: [$uri, "@app"] }]', '      - { location: "@app", return: 204 }'));
      expect(c.sites[0]?.routes[0]?.routes?.[0]?.tryFiles).to.deep.equal(['$uri', '@app']);
    });

    it(`accepts ${MAX_NESTING} levels of nesting, and says so past it`, () => {
      const deep = (n: number): string => (n === 0 ? '{ location: /, return: 204 }' : `{ location: /, root: /srv, routes: [${deep(n - 1)}] }`);
      // A nested "/" inside "/" is inside its parent.
      valid(lines(...HEAD, `    routes: [${deep(MAX_NESTING)}]`));
      const issues = issuesOf(lines(...HEAD, `    routes: [${deep(MAX_NESTING + 1)}]`));
      expect(issues.some((i) => i.severity === 'error' && /routes/.test(i.message))).to.equal(true);
    });
  });

  describe('alias', () => {
    it('keeps the trailing slash and the declaring location; a nested route inherits both', () => {
      const c = valid(lines(...HEAD, '    root: /srv/www', '    routes:', '      - location: /app/', '        alias: /srv/app/', '        routes: [{ location: "~ \\\\.txt$" }]', '      - { location: "~ ^/u/(\\\\w+)/(.*)$", alias: "/home/$1/www/$2" }'));
      const [app, u] = c.sites[0]?.routes ?? [];
      expect(app?.alias?.path).to.equal('/srv/app/');
      expect(app?.root).to.equal(undefined);
      const nested = app?.routes?.[0];
      expect(nested?.alias).to.equal(app?.alias);
      expect(nested?.root).to.equal(undefined);
      expect(u?.alias?.path).to.equal('/home/$1/www/$2');
      expect(u?.alias?.location.kind).to.equal('regex');
    });

    it('a nested route with its own root drops the inherited alias (one slot, as in nginx)', () => {
      const c = valid(lines(...HEAD, '    routes:', '      - location: /app/', '        alias: /srv/app/', '        routes: [{ location: /app/x/, root: /srv/x }]'));
      const nested = c.sites[0]?.routes[0]?.routes?.[0];
      expect(nested).to.deep.include({ root: '/srv/x' });
      expect(nested?.alias).to.equal(undefined);
    });

    it('refuses root with alias, alias in a named location, variables outside a regex location, unknown variables', () => {
      const L = [
        ...HEAD, '    routes:',
        '      - { location: /a/, root: /srv, alias: /srv/a/ }',
        '      - { location: "@n", alias: /srv/n/ }',
        '      - { location: /b/, alias: /srv/$host/ }',
        '      - { location: "~ ^/c/(.*)$", alias: /srv/$10x/$one }',
      ];
      expectErrorAt(L, '/srv/a/', 'a route has root or alias, not both');
      expectErrorAt(L, '/srv/n/', 'alias cannot be used in a named location');
      expectErrorAt(L, '/srv/$host/', 'alias with variables is only supported in a regex location');
      expectErrorAt(L, '/srv/$10x/$one', 'unknown variable "$one"');
    });

    it('warns about the off-by-slash (location without, alias with a trailing slash) at the alias', () => {
      const L = [...HEAD, '    routes:', '      - location: /', '        return: 204', '      - location: /files', '        alias: /srv/files/'];
      expectWarningAt(L, '/srv/files/', 'location "/files" has no trailing slash but its alias "/srv/files/" has one');
      const ok = parseConfig(lines(...L.slice(0, -2), '      - location: /files/', '        alias: /srv/files/'), FILE);
      expect(ok.warnings).to.deep.equal([]);
    });
  });

  describe('internal', () => {
    it('is a route key, not inherited', () => {
      const c = valid(lines(...HEAD, '    root: /srv', '    routes:', '      - location: /in/', '        internal: true', '        routes: [{ location: /in/x/ }]'));
      const r = c.sites[0]?.routes[0];
      expect(r?.internal).to.equal(true);
      expect(r?.routes?.[0]?.internal).to.equal(undefined);
    });

    it('is not a site key', () => {
      expectErrorAt([...HEAD, '    internal: true', '    routes: [{ location: /, return: 204 }]'], 'internal', 'internal');
    });
  });

  describe('dropped security headers', () => {
    const L = [
      ...HEAD,
      '    headers:',
      '      response:',
      '        set: { Strict-Transport-Security: max-age=63072000, X-Content-Type-Options: nosniff, X-Other: 1 }',
      '    routes:',
      '      - location: /',
      '        return: 204',
      '      - location: /a/',
      '        return: 204',
      '        headers: { response: { set: { X-Content-Type-Options: nosniff, Cache-Control: no-store } } }',
      '        routes:',
      '          - location: /a/b/',
      '            return: 204',
      '            headers: { response: { set: { X-B: b } } }',
      '      - location: /c/',
      '        return: 204',
      '        headers: { request: { set: { X-C: c } } }',
    ];

    it("warns at the route's response headers, naming what is lost", () => {
      expectWarningAt(L, '{ set: { X-Content-Type-Options', "this route's own response headers replace the site's (as nginx's add_header does), so Strict-Transport-Security is not sent here");
      expectWarningAt(L, '{ set: { X-B', "replace the parent route's (as nginx's add_header does), so X-Content-Type-Options is not sent here");
    });

    it('says nothing for a route that writes only the request part, or that keeps the headers', () => {
      const warnings = parseConfig(lines(...L), FILE).warnings.filter((w) => w.message.includes('add_header'));
      expect(warnings).to.have.length(2);
    });
  });
});
