// Every class of config error is reported at the exact FILE:LINE:COL of the offending key or value.
import { expect } from 'chai';
import { parseConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/config/types.js';
import { FILE, expectError, expectErrorAt, issuesOf, lines } from './helpers.js';

const HEAD = ['listen: { https: 8443 }', 'sites:'];

describe('config/errors', () => {
  it('formats each issue as FILE:LINE:COL: message in the ConfigError message', () => {
    try {
      parseConfig(lines('listen: { https: 8443 }', 'sites: [{ hosts: [a.test], rotues: [] }]'), FILE);
      expect.fail('expected a ConfigError');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).code).to.equal('ECONFIG');
      expect((err as Error).message).to.equal(`${FILE}:2:28: unknown key "rotues" (did you mean "routes"?)`);
    }
  });

  describe('syntax', () => {
    it('reports a YAML syntax error where the parser noticed it', () => {
      expectError(lines(...HEAD, '  - hosts: [a.test', '    routes: []'), 4, 5, '"[" is not closed with "]"');
    });

    it('reports a duplicate YAML key at the second occurrence', () => {
      expectError(lines('listen:', '  https: 8443', '  https: 9443', 'sites: [{ hosts: a.test }]'), 3, 3, 'duplicate key "https"');
    });

    it('reports a JSON syntax error with its position', () => {
      const json = lines('{', '  "listen": { "https": 8443 },', '  "sites": [{ "hosts": ["a.test"] }', '}');
      expectError(json, 4, 1, '"[" is not closed with "]"', '/etc/gatehouse/gatehouse.json');
    });

    it('reports a duplicate JSON key at the second occurrence', () => {
      const json = lines('{', '  "listen": { "https": 8443, "https": 1 },', '  "sites": [{ "hosts": ["a.test"] }]', '}');
      expectError(json, 2, 30, 'duplicate key "https"', '/etc/gatehouse/gatehouse.json');
    });

    it('reports an unknown alias and an empty file at their places', () => {
      expectError(lines(...HEAD, '  - hosts: *names'), 3, 12, 'unknown alias "*names"');
      expectError('', 1, 1, 'the config file is empty');
      expectError('- a\n', 1, 1, 'the config must be a map');
    });
  });

  describe('schema', () => {
    it('reports unknown keys at any depth, at the key, with a suggestion, all at once', () => {
      const L = [
        'lisen: { https: 8443 }',
        'listen: { https: 8443 }',
        'sites:',
        '  - hosts: [a.test]',
        '    hots: [b.test]',
        '    routes:',
        '      - location: /',
        '        proxi: http://127.0.0.1:1',
        'upstreams:',
        '  app:',
        '    servers: [http://127.0.0.1:1]',
        '    timeouts: { conect: 1s }',
      ];
      const issues = issuesOf(lines(...L));
      expect(issues.map((i) => `${i.pos.line}:${i.pos.col} ${i.message}`)).to.deep.equal([
        '1:1 unknown key "lisen" (did you mean "listen"?)',
        '5:5 unknown key "hots" (did you mean "hosts"?)',
        '8:9 unknown key "proxi" (did you mean "proxy"?)',
        '12:17 unknown key "conect" (did you mean "connect"?)',
      ]);
    });

    it('reports wrong types at the value', () => {
      const L = [...HEAD, '  - hosts: 5', '    default: "yes"', '    routes: { location: / }', 'drainTimeout: [30s]'];
      expectErrorAt(L, '5', 'hosts must be a string or a list of strings');
      expectErrorAt(L, '"yes"', 'default must be true, false, or a list of the site\'s ports');
      expectErrorAt(L, '{ location', 'routes must be a list');
      expectErrorAt(L, '[30s]', 'drainTimeout must be a duration like 30s');
    });

    it('reports a mistyped value once, not also against its allowed values', () => {
      const issues = issuesOf(lines(...HEAD, '  - hosts: [a.test]', '    redirect: [https]', '    routes: [{ location: /, return: 204 }]'));
      expect(issues.map((i) => `${i.pos.line}:${i.pos.col} ${i.message}`)).to.deep.equal(['4:15 redirect must be a string']);
    });

    it('reports bad durations, sizes and rates with the parser message', () => {
      const L = [...HEAD, '  - hosts: [a.test]', '    hsts: 30 days', '    maxBody: 10x', '    rateLimit: { rate: 10/s }'];
      expectErrorAt(L, '30 days', 'hsts: invalid duration "30 days"');
      expectErrorAt(L, '10x', 'maxBody: invalid size "10x"');
      expectErrorAt(L, '10/s', 'rate: invalid rate "10/s"');
    });

    it('reports a missing required key at the map that lacks it', () => {
      expectError(lines('listen: { https: 8443 }'), 1, 1, 'missing required key "sites"');
      const L = [...HEAD, '  - hosts: [a.test]', '    routes:', '      - root: ./public'];
      expectErrorAt(L, 'root', 'missing required key "location" in routes[0]');
    });

    it('reports a bad enum value with a suggestion, and a one-of choice precisely', () => {
      const L = [...HEAD, '  - hosts: [a.test]', '    tls: acm', '  - hosts: [b.test]', '    tls: { cert: b.pem }', '    redirect: http'];
      expectErrorAt(L, 'acm', 'tls must be acme, internal, off, { cert: FILE, key: FILE } or { issuer: acme|internal, ... } (did you mean "acme"?)');
      expectErrorAt(L, 'b.pem', 'tls.cert and tls.key go together: give both files, or neither');
      expectErrorAt(L, 'http', 'redirect must be https or off', 2);
      expect(issuesOf(lines(...L))).to.have.length(3);
    });

    it('reads the object form of tls: a source (issuer, or cert with key) beside the handshake settings', () => {
      const L = [...HEAD, '  - hosts: [a.test]', '    tls: { issuer: internal, cert: a.pem, key: a.key }', '  - hosts: [b.test]', '    tls: { key: b.key }'];
      expectErrorAt(L, 'internal', 'tls.issuer and tls.cert/tls.key are two sources for one certificate: keep one');
      expectErrorAt(L, 'b.key', 'tls.cert and tls.key go together: give both files, or neither');
      const ok = parseConfig(lines(...HEAD, '  - hosts: [a.test]', '    tls: { issuer: internal }', '  - hosts: [b.example]', '    tls: {}', '  - hosts: [c.test]', '    tls: { cert: c.pem, key: c.key }'), FILE);
      expect(ok.config.sites.map((s) => s.tls.kind)).to.deep.equal(['internal', 'acme', 'files']);
    });

    it('reports a value listed twice', () => {
      const L = [...HEAD, '  - hosts: [a.test]', '    compress: [br, gzip, br]'];
      expectErrorAt(L, 'br', 'compress lists "br" twice', 2);
    });
  });

  describe('sites', () => {
    it('reports a host used by two sites at the second one', () => {
      const L = [...HEAD, '  - hosts: [a.test, B.test]', '  - hosts: [c.test, b.test]'];
      expectErrorAt(L, 'b.test', 'host "b.test" is already used by the site at line 3');
    });

    it('reports a host listed twice in one site', () => {
      const L = [...HEAD, '  - hosts: [a.test, A.TEST.]'];
      expectErrorAt(L, 'A.TEST.', 'host "a.test" is already used earlier in this site');
    });

    it('reports invalid host names', () => {
      const L = [...HEAD, '  - hosts: [a..test, "www.*.test", _]'];
      expectErrorAt(L, 'a..test', 'not a valid DNS name');
      expectErrorAt(L, '"www.*.test"', 'wildcard is only allowed as the first label');
      expectErrorAt(L, '_', 'nginx\'s catch-all idiom; mark the site "default: true" instead');
    });

    it('reports host and location regexes that do not compile', () => {
      const L = [...HEAD, '  - hosts: [a.test, "~^(x"]', '    routes:', '      - location: "~ ((a"', '        return: 204'];
      expectErrorAt(L, '"~^(x"', 'host regex "^(x" does not compile');
      expectErrorAt(L, '"~ ((a"', 'location regex "((a" does not compile');
    });

    it('reports a second "default: true" at its value', () => {
      const L = [...HEAD, '  - hosts: [a.test]', '    default: true', '  - hosts: [b.test]', '    default: true'];
      expectErrorAt(L, 'true', 'only one site can be "default: true" (the site at line 3 already is)', 2);
    });
  });

  describe('routes', () => {
    const UP = ['upstreams:', '  app: { servers: http://127.0.0.1:8001 }'];

    it('reports an unknown upstream name, with a suggestion when one is close', () => {
      const L = [...UP, ...HEAD, '  - hosts: [a.test]', '    routes:', '      - location: /a', '        proxy: ap', '      - location: /b', '        proxy: nope'];
      expectErrorAt(L, 'ap', 'unknown upstream "ap" (did you mean "app"?)', 2);
      expectErrorAt(L, 'nope', 'unknown upstream "nope"; declare it under upstreams:');
    });

    it('reports a proxy the router cannot parse at the value', () => {
      const L = [...HEAD, '  - hosts: [a.test]', '    routes:', '      - location: /', '        proxy: ftp://x:21'];
      expectErrorAt(L, 'ftp://', 'proxy scheme "ftp" is not supported');
    });

    it('refuses a proxy with a URI part in a regex or named location, as nginx does', () => {
      const L = [
        ...UP, ...HEAD, '  - hosts: [a.test]', '    routes:',
        '      - location: "~ \\\\.php$"', '        proxy: http://app/x/',
        '      - location: "@fallback"', '        proxy: http://127.0.0.1:9/y',
        '      - location: /', '        proxy: fastcgi://127.0.0.1:9000/',
      ];
      expectErrorAt(L, 'http://app/x/', 'proxy with a URI part cannot be used in a regex location');
      expectErrorAt(L, 'http://127.0.0.1:9/y', 'proxy with a URI part cannot be used in a named location');
      expectErrorAt(L, 'fastcgi://', 'a fastcgi:// proxy is an address and cannot have a URI part');
    });

    it('reports a duplicate location, treating "/x" and "^~ /x" as the same like nginx', () => {
      const L = [...HEAD, '  - hosts: [a.test]', '    routes:', '      - { location: /x, return: 204 }', '      - { location: ^~ /x, return: 204 }'];
      expectErrorAt(L, '^~ /x', 'duplicate location "^~ /x" (first at line 5)');
    });

    it('reports bad returns', () => {
      const L = [
        ...HEAD, '  - hosts: [a.test]', '    routes:',
        '      - { location: /a, return: moved }',
        '      - { location: /b, return: 999 }',
        '      - { location: /c, return: 301 }',
        '      - { location: /d, return: 301 https://$hots/ }',
      ];
      expectErrorAt(L, 'moved', 'must be CODE, "CODE TEXT" or a URL');
      expectErrorAt(L, '999', 'return code 999 is not an HTTP status');
      expectErrorAt(L, '301 }', 'return 301 needs a URL');
      expectErrorAt(L, '301 https', 'unknown variable "$hots" (did you mean "$host"?)');
    });

    it('reports unknown variables and bad names in header settings', () => {
      const L = [
        ...HEAD, '  - hosts: [a.test]',
        '    headers: { response: { set: { X-Who: $remote_adr } } }',
        '    routes:', '      - location: /', '        return: 204',
        '        headers: { request: { set: { "Bad Name": x }, remove: [Cookie] } }',
      ];
      expectErrorAt(L, '$remote_adr', 'unknown variable "$remote_adr" (did you mean "$remote_addr"?)');
      expectErrorAt(L, '"Bad Name"', '"Bad Name" is not a valid header name');
    });

    it('reports routes that do none or several of proxy, root and return', () => {
      const L = [...HEAD, '  - hosts: [a.test]', '    routes:', '      - location: /a', '        index: x.html', '      - location: /b', '        root: ./b', '        return: 204'];
      expectErrorAt(L, 'location: /a', 'route "/a" needs one of proxy, root or return');
      expectErrorAt(L, '204', 'a route does one of proxy, root or return; this one also has root');
    });

    it('checks tryFiles: a fallback @name must exist, and root is needed', () => {
      const L = [
        ...HEAD, '  - hosts: [a.test]', '    routes:',
        '      - { location: /a, root: ./a, tryFiles: [$uri, "@app"] }',
        '      - { location: /b, proxy: "http://127.0.0.1:1", tryFiles: [$uri, =404] }',
        '      - { location: /c, root: ./c, tryFiles: [$uri, index.html] }',
        '      - { location: "@ap", return: 204 }',
      ];
      expectErrorAt(L, '"@app"', 'tryFiles falls back to "@app", but this site has no "location: @app" (did you mean "ap"?)');
      expectErrorAt(L, '[$uri, =404]', 'tryFiles needs root');
      expectErrorAt(L, 'index.html', 'the last tryFiles item must be =CODE');
    });
  });

  describe('listen and global settings', () => {
    it('reports bad listen addresses at the item', () => {
      const L = ['listen:', '  http: [80, "1.2.3:80"]', '  https: "::1:443"', 'admin: 70000', 'sites: [{ hosts: a.test }]'];
      expectErrorAt(L, '"1.2.3:80"', 'the host must be an IP address, "localhost" or "*"');
      expectErrorAt(L, '"::1:443"', 'put an IPv6 address in brackets');
      expectErrorAt(L, '70000', 'listen port 70000 is out of range');
    });

    it('reports two listeners that cannot both be bound', () => {
      const L = ['listen:', '  http: 8080', '  https: ["127.0.0.1:8080"]', 'admin: "[::]:8080"', 'sites: [{ hosts: a.test }]'];
      expectErrorAt(L, '"127.0.0.1:8080"', 'clashes with 8080 (line 2)');
      expectErrorAt(L, '"[::]:8080"', 'admin address [::]:8080 clashes with listen address 8080');
    });

    it('reports a config with nothing to listen on', () => {
      expectError(lines('listen: { http: [] }', 'sites: [{ hosts: a.test }]'), 1, 9, 'nothing to listen on');
      expectError(lines('sites: [{ hosts: a.test }]'), 1, 1, 'nothing to listen on');
    });

    it('reports bad trustedProxies, storage, upstream servers and ACME URLs', () => {
      const L = [
        'listen: { https: 8443 }',
        'trustedProxies: [10.0.0.0/8, 10.0.0.0/33, "10"]',
        'storage: s3://bucket',
        'acme: { directory: letsencrypt-stagin, onDemand: { ask: "ftp://x" } }',
        'upstreams:',
        '  app: { servers: ["http://a:1/x", "fastcgi://a:9000", { url: "http://b:1", backup: true }] }',
        '  "bad name": { servers: http://c:1 }',
        'sites: [{ hosts: a.test, routes: [{ location: /, proxy: app }] }]',
      ];
      expectErrorAt(L, '10.0.0.0/33', 'trustedProxies entry "10.0.0.0/33" is not an IP address or CIDR');
      expectErrorAt(L, '"10"', 'trustedProxies entry "10"');
      expectErrorAt(L, 's3://', 'storage "s3://bucket" must be a folder or a redis://');
      expectErrorAt(L, 'letsencrypt-stagin', 'acme.directory (letsencrypt, letsencrypt-staging, zerossl or a URL) "letsencrypt-stagin" is not a URL');
      expectErrorAt(L, '"ftp://x"', 'acme.onDemand.ask "ftp://x" must be an http:// or https:// URL');
      expectErrorAt(L, '"http://a:1/x"', 'cannot have a path');
      expectErrorAt(L, '"http://b:1"', 'upstream servers must all use one protocol: this one is http, the first is fastcgi');
      expectErrorAt(L, '"bad name"', 'upstream name "bad name" may only contain');
    });
  });
});
