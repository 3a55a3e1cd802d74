// issue 19: listener entries as objects, `{ address, proxyProtocol: true, trusted: [CIDRs] }`
// (README "Behind a load balancer"), mixed with the plain forms, and the nginx adapter's
// `listen ... proxy_protocol` + `set_real_ip_from`.
import { expect } from 'chai';
import { parseConfig } from '../../../src/config/index.js';
import { ConfigError, formatIssue } from '../../../src/config/types.js';
import { expectError, lines } from './helpers.js';

const SITES = ['sites:', '  - hosts: [a.test]', '    routes: [{ location: /, return: 204 }]'];

describe('config: listen entries with proxyProtocol', () => {
  it('mixes plain entries and objects, in both lists', () => {
    const { config } = parseConfig(
      lines(
        'listen:',
        '  http:',
        '    - 8080',
        '    - { address: "127.0.0.1:8081", proxyProtocol: true, trusted: [10.0.0.0/8, "::1"] }',
        '  https: { address: 8443, proxyProtocol: true, trusted: 192.168.1.10 }',
        ...SITES,
      ),
      '/x/gatehouse.yaml',
    );
    expect(config.listen.http).to.deep.equal([{ port: 8080 }, { host: '127.0.0.1', port: 8081, proxyProtocol: { trusted: ['10.0.0.0/8', '::1'] } }]);
    expect(config.listen.https).to.deep.equal([{ port: 8443, proxyProtocol: { trusted: ['192.168.1.10'] } }]);
  });

  it('keeps an object without proxyProtocol a plain address', () => {
    const { config } = parseConfig(lines('listen: { https: [{ address: "[::1]:8443" }] }', ...SITES), '/x/g.yaml');
    expect(config.listen.https).to.deep.equal([{ host: '::1', port: 8443 }]);
  });

  it('requires trusted with proxyProtocol, at the key', () => {
    expectError(lines('listen:', '  https:', '    - { address: 8443, proxyProtocol: true }', ...SITES), 3, 24, 'proxyProtocol needs trusted');
    expectError(lines('listen:', '  https:', '    - { address: 8443, proxyProtocol: true, trusted: [] }', ...SITES), 3, 24, 'proxyProtocol needs trusted');
  });

  it('refuses trusted without proxyProtocol', () => {
    expectError(lines('listen:', '  http: { address: 80, trusted: 10.0.0.1 }', ...SITES), 2, 24, 'trusted applies only with proxyProtocol: true');
  });

  it('checks each trusted entry as trustedProxies does, at its position', () => {
    expectError(lines('listen:', '  http:', '    - address: 80', '      proxyProtocol: true', '      trusted: [10.0.0.0/8, 10.0.0.0/33, lb.example]', ...SITES), 5, 29, 'trusted entry "10.0.0.0/33" is not an IP address or CIDR');
    expectError(lines('listen:', '  http:', '    - address: 80', '      proxyProtocol: true', '      trusted: [10.0.0.0/8, 10.0.0.0/33, lb.example]', ...SITES), 5, 42, 'trusted entry "lb.example"');
  });

  it('warns when trusted lets every address in, at the entry', () => {
    const { warnings } = parseConfig(lines('listen:', '  https: { address: 8443, proxyProtocol: true, trusted: [10.0.0.1, "::/0"] }', ...SITES), '/x/g.yaml');
    expect(warnings.map(formatIssue)).to.deep.equal(['/x/g.yaml:2:68: warning: trusted "::/0" trusts every address: any client can name its own address in a PROXY header']);
  });

  it('reports a bad address at the address key', () => {
    expectError(lines('listen:', '  http: { address: "example.com:80", proxyProtocol: true, trusted: 10.0.0.1 }', ...SITES), 2, 20, 'the host must be an IP address');
  });

  it('refuses unknown keys and a missing address through the schema', () => {
    const issues = ((): string[] => {
      try {
        parseConfig(lines('listen:', '  http: { port: 80, proxyProtocol: yes }', ...SITES), '/x/g.yaml');
      } catch (err) {
        if (err instanceof ConfigError) return err.issues.map(formatIssue);
      }
      return [];
    })();
    expect(issues.join('\n')).to.match(/\/x\/g\.yaml:2:/);
  });
});

describe('nginx adapter: listen ... proxy_protocol', () => {
  const FILE = '/etc/nginx/sites-enabled/lb.conf';
  const load = (...ls: string[]) => parseConfig(`${ls.join('\n')}\n`, FILE);

  it('becomes a listener reading the header from the set_real_ip_from addresses', () => {
    const { config } = load(
      'set_real_ip_from 10.0.0.0/8;',
      'real_ip_header proxy_protocol;',
      'server { listen 443 ssl proxy_protocol; listen 80; server_name a.test; ssl_certificate /c.pem; ssl_certificate_key /k.pem; return 204; }',
    );
    expect(config.listen.https).to.deep.equal([{ port: 443, proxyProtocol: { trusted: ['10.0.0.0/8'] } }]);
    expect(config.listen.http).to.deep.equal([{ port: 80 }]);
    expect(config.trustedProxies).to.deep.equal(['10.0.0.0/8']);
  });

  it('asks for set_real_ip_from at the proxy_protocol word', () => {
    try {
      load('server { listen 8080 proxy_protocol; return 204; }');
      expect.fail('expected a ConfigError');
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      expect(err.issues.map(formatIssue)).to.include(`${FILE}:1:22: listen "proxy_protocol" needs "set_real_ip_from" (http level) naming the load balancers: gatehouse reads the header only from them`);
    }
  });
});
