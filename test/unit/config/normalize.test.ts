// Defaults and normalisation: what a short config turns into.
import { expect } from 'chai';
import { lines, valid } from './helpers.js';

const MIN = lines('listen: { https: 8443 }', 'sites:', '  - hosts: [a.test]', '    routes: [{ location: /, return: 204 }]');

describe('config/normalize', () => {
  describe('defaults', () => {
    it('fills in the top-level defaults of README "Configuration reference"', () => {
      const c = valid(MIN);
      expect(c.file).to.equal('/etc/gatehouse/gatehouse.yaml');
      expect(c.origin).to.equal('native');
      expect(c.listen).to.deep.equal({ http: [], https: [{ port: 8443 }] });
      expect(c.admin).to.equal(undefined);
      expect(c.drainTimeoutMs).to.equal(30_000);
      expect(c.storage).to.equal('/etc/gatehouse/certs');
      expect(c.trustedProxies).to.deep.equal([]);
      expect(c.log).to.deep.equal({ access: 'stdout', format: 'combined', formats: {}, error: 'stderr', level: 'info' });
      expect(c.upstreams).to.deep.equal({});
      expect(c.acme).to.equal(undefined);
    });

    it('fills in site and route defaults', () => {
      const site = valid(MIN).sites[0];
      expect(site).to.include({ default: false, redirect: 'https' });
      expect(site?.tls).to.deep.equal({ kind: 'internal' });
      expect(site?.compress).to.deep.equal(['br', 'gzip']);
      expect(site?.hstsMs).to.equal(undefined);
      const route = site?.routes[0];
      expect(route).to.include({ location: '/' });
      expect(route?.index).to.deep.equal(['index.html']);
      expect(route?.return).to.deep.equal({ status: 204 });
    });

    it('fills in upstream defaults (nginx max_fails=1, fail_timeout=10s, weight=1)', () => {
      const c = valid(lines(
        'listen: { http: 80 }',
        'upstreams:',
        '  app: { servers: [http://127.0.0.1:8001, { url: "https://App.internal" }], health: {}, tls: {} }',
        'sites: [{ hosts: a.test, tls: off, routes: [{ location: /, proxy: app }] }]',
      ));
      const { pos, ...app } = c.upstreams.app ?? ({} as never);
      expect(app).to.deep.equal({
        name: 'app',
        servers: [
          { url: 'http://127.0.0.1:8001', weight: 1, backup: false },
          { url: 'https://app.internal:443', weight: 1, backup: false },
        ],
        balance: 'round-robin',
        maxFails: 1,
        failTimeoutMs: 10_000,
        health: { path: '/', intervalMs: 5_000, timeoutMs: 2_000, status: 200 },
        retries: 1,
        timeouts: { connectMs: 5_000, readMs: 60_000, sendMs: 60_000 },
        keepalive: 32,
        tls: { insecure: false },
      });
      expect(pos).to.deep.equal({ file: '/etc/gatehouse/gatehouse.yaml', line: 3, col: 3 });
    });

    it('creates the ACME defaults when a site needs ACME and none are written', () => {
      const c = valid(lines('listen: { http: 80, https: 443 }', 'sites: [{ hosts: example.com, routes: [{ location: /, return: 204 }] }]'));
      expect(c.sites[0]?.tls).to.deep.equal({ kind: 'acme' });
      expect(c.acme).to.deep.equal({
        directory: 'https://acme-v02.api.letsencrypt.org/directory',
        challenges: ['http-01', 'tls-alpn-01'],
        key: 'ecdsa-p256',
      });
    });
  });

  describe('listen', () => {
    it('accepts a port, host:port, bracketed IPv6, "*:port" and lists of them', () => {
      const c = valid(lines(
        'listen:',
        '  http: ["127.0.0.1:8080", "[::1]:8080", "*:8081"]',
        '  https: ["[::]:8443"]',
        'admin: localhost:2019',
        'sites: [{ hosts: a.test, routes: [{ location: /, return: 204 }] }]',
      ));
      expect(c.listen.http).to.deep.equal([{ host: '127.0.0.1', port: 8080 }, { host: '::1', port: 8080 }, { port: 8081 }]);
      expect(c.listen.https).to.deep.equal([{ host: '::', port: 8443 }]);
      expect(c.admin).to.deep.equal({ host: 'localhost', port: 2019 });
    });
  });

  describe('sites', () => {
    it('lower-cases hosts, drops a trailing dot, converts IDN to A-labels and keeps regexes as written', () => {
      const c = valid(lines(
        'listen: { https: 8443 }',
        'sites:',
        '  - hosts: [WWW.Example.COM., "*.Example.com", bücher.example, "[::1]", 10.0.0.1, "~^App\\\\d+$"]',
        '    tls: internal',
        '    routes: [{ location: /, return: 204 }]',
      ));
      expect(c.sites[0]?.hosts).to.deep.equal(['www.example.com', '*.example.com', 'xn--bcher-kva.example', '::1', '10.0.0.1', '~^App\\d+$']);
    });

    it('accepts a single host as a string', () => {
      const c = valid(lines('listen: { https: 8443 }', 'sites: [{ hosts: A.test, routes: [{ location: /, return: 204 }] }]'));
      expect(c.sites[0]?.hosts).to.deep.equal(['a.test']);
    });

    const tlsOf = (hosts: string): string => valid(lines('listen: { https: 8443 }', `sites: [{ hosts: ${hosts}, routes: [{ location: /, return: 204 }] }]`)).sites[0]?.tls.kind ?? '';

    it('defaults tls to internal only when every host is local, else acme', () => {
      expect(tlsOf('[localhost, "*.localhost", app.test, db.internal, printer.local, nas.lan, router.home.arpa, 127.0.0.1, "::1"]')).to.equal('internal');
      expect(tlsOf('[localhost, example.com]')).to.equal('acme');
      expect(tlsOf('[x.arpa]')).to.equal('acme');
      expect(tlsOf('[example.test.com]')).to.equal('acme');
      expect(tlsOf('["~^x$"]')).to.equal('internal');
    });

    it('defaults redirect to https with TLS and off without; compress off is an empty list', () => {
      const c = valid(lines(
        'listen: { http: 80, https: 443 }',
        'sites:',
        '  - { hosts: a.test, tls: off, compress: off, routes: [{ location: /, return: 204 }] }',
        '  - { hosts: b.test, tls: { cert: b.pem, key: /keys/b.key }, hsts: 365d, compress: [gzip], routes: [{ location: /, return: 204 }] }',
      ));
      expect(c.sites[0]).to.include({ redirect: 'off' });
      expect(c.sites[0]?.compress).to.deep.equal([]);
      expect(c.sites[1]).to.include({ redirect: 'https', hstsMs: 365 * 86_400_000 });
      expect(c.sites[1]?.tls).to.deep.equal({ kind: 'files', cert: '/etc/gatehouse/b.pem', key: '/keys/b.key' });
      expect(c.sites[1]?.compress).to.deep.equal(['gzip']);
    });
  });

  describe('routes', () => {
    it('normalises route settings', () => {
      const c = valid(lines(
        'listen: { https: 8443 }',
        'upstreams: { app: { servers: http://127.0.0.1:1 } }',
        'sites:',
        '  - hosts: a.test',
        '    rateLimit: { rate: 10r/m }',
        '    maxBody: 1m',
        '    headers: { response: { set: { Strict-Transport-Security: max-age=60 } } }',
        '    routes:',
        '      - location: /api/',
        '        proxy: http://app/v2/',
        '        headers:',
        '          request: { set: { X-Real-IP: $remote_addr, X-Num: 5 }, remove: Cookie }',
        '        cache: 10m',
        '        maxBody: 64k',
        '        rateLimit: { rate: 10r/s, burst: 20 }',
        '        timeout: 30',
        '      - location: "~ \\\\.php$"',
        '        proxy: fastcgi://127.0.0.1:9000',
        '        root: /var/www/html',
        '        index: index.php',
        '      - location: /',
        '        root: public',
        '        tryFiles: [$uri, $uri/, /index.html]',
        '      - { location: = /old, return: 301 https://$host/new }',
        '      - { location: = /gone, return: "410 \\"gone for good\\"" }',
        '      - { location: = /moved, return: https://example.com/ }',
      ));
      const site = c.sites[0];
      expect(site?.rateLimit?.ratePerSec).to.be.closeTo(1 / 6, 1e-12);
      expect(site?.rateLimit?.burst).to.equal(0);
      expect(site?.maxBody).to.equal(1024 * 1024);
      expect(site?.headers).to.deep.equal({ response: { set: { 'Strict-Transport-Security': 'max-age=60' }, remove: [] } });
      const [api, php, stat, old, gone, moved] = site?.routes ?? [];
      expect(api).to.deep.include({
        proxy: 'http://app/v2/',
        cacheMs: 600_000,
        maxBody: 65_536,
        rateLimit: { ratePerSec: 10, burst: 20 },
        timeoutMs: 30_000,
        // The site's response part is inherited whole (config/inherit.ts); the request part is the route's own.
        headers: {
          request: { set: { 'X-Real-IP': '$remote_addr', 'X-Num': '5' }, remove: ['Cookie'] },
          response: { set: { 'Strict-Transport-Security': 'max-age=60' }, remove: [] },
        },
      });
      expect(php).to.deep.include({ proxy: 'fastcgi://127.0.0.1:9000', root: '/var/www/html', index: ['index.php'] });
      expect(stat).to.deep.include({ root: '/etc/gatehouse/public', tryFiles: ['$uri', '$uri/', '/index.html'] });
      expect(old?.return).to.deep.equal({ status: 301, text: 'https://$host/new' });
      expect(gone?.return).to.deep.equal({ status: 410, text: 'gone for good' });
      expect(moved?.return).to.deep.equal({ status: 302, text: 'https://example.com/' });
      expect(api?.pos).to.deep.equal({ file: '/etc/gatehouse/gatehouse.yaml', line: 9, col: 9 });
      expect(site?.pos).to.deep.equal({ file: '/etc/gatehouse/gatehouse.yaml', line: 4, col: 5 });
    });
  });

  describe('acme', () => {
    const acmeOf = (body: string) => valid(lines('listen: { https: 443 }', `acme: ${body}`, 'sites: [{ hosts: a.test, routes: [{ location: /, return: 204 }] }]')).acme;

    it('resolves directory names to Let\'s Encrypt URLs and keeps other URLs', () => {
      expect(acmeOf('{ directory: letsencrypt-staging }')?.directory).to.equal('https://acme-staging-v02.api.letsencrypt.org/directory');
      expect(acmeOf('{ directory: "https://localhost:14000/dir" }')?.directory).to.equal('https://localhost:14000/dir');
    });

    it('keeps every documented key', () => {
      const acme = acmeOf(
        '{ email: ops@example.com, trust: ./ca.pem, challenges: [tls-alpn-01], key: rsa-2048, renewBefore: 30d, ' +
          'eab: { kid: K, hmac: H }, profile: tlsserver, onDemand: { ask: "http://127.0.0.1:5555/check" } }',
      );
      expect(acme).to.deep.equal({
        email: 'ops@example.com',
        directory: 'https://acme-v02.api.letsencrypt.org/directory',
        trust: '/etc/gatehouse/ca.pem',
        challenges: ['tls-alpn-01'],
        key: 'rsa-2048',
        renewBeforeMs: 30 * 86_400_000,
        eab: { kid: 'K', hmac: 'H' },
        profile: 'tlsserver',
        onDemand: { ask: 'http://127.0.0.1:5555/check' },
      });
    });
  });

  describe('paths', () => {
    it('resolves relative paths against the config file folder, and keeps redis URLs', () => {
      const c = valid(
        lines(
          'listen: { https: 8443 }',
          'storage: ../state/certs',
          'log: { access: logs/access.log, error: off, format: json, level: debug }',
          'acme: { trust: ca/pebble.pem }',
          'upstreams: { app: { servers: https://127.0.0.1:1, tls: { ca: ./backend-ca.pem, servername: app.internal } } }',
          'sites:',
          '  - hosts: a.test',
          '    tls: { cert: tls/a.pem, key: tls/a.key }',
          '    routes: [{ location: /, root: www, proxy: app }]',
        ),
        '/srv/conf/gatehouse.yaml',
      );
      expect(c.storage).to.equal('/srv/state/certs');
      expect(c.log).to.deep.equal({ access: { file: '/srv/conf/logs/access.log' }, error: 'off', format: 'json', formats: {}, level: 'debug' });
      expect(c.acme?.trust).to.equal('/srv/conf/ca/pebble.pem');
      expect(c.upstreams.app?.tls).to.deep.equal({ insecure: false, ca: '/srv/conf/backend-ca.pem', servername: 'app.internal' });
      expect(c.sites[0]?.tls).to.deep.equal({ kind: 'files', cert: '/srv/conf/tls/a.pem', key: '/srv/conf/tls/a.key' });
      expect(c.sites[0]?.routes[0]?.root).to.equal('/srv/conf/www');

      const r = valid(lines('listen: { https: 8443 }', 'storage: redis://127.0.0.1:6379/0', 'sites: [{ hosts: a.test, routes: [{ location: /, return: 204 }] }]'));
      expect(r.storage).to.equal('redis://127.0.0.1:6379/0');
    });

    it('resolves a relative config file name against the working directory', () => {
      const c = valid(MIN, 'gatehouse.yaml');
      expect(c.file).to.equal(`${process.cwd()}/gatehouse.yaml`);
      expect(c.storage).to.equal(`${process.cwd()}/certs`);
    });
  });
});
