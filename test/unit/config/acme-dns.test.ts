// issue 19: `acme.dns` and the dns-01 challenge: what is read, the defaults, and every mistake at its
// FILE:LINE:COL, with secrets never quoted.
import { expect } from 'chai';
import { parseConfig } from '../../../src/config/index.js';
import { ConfigError, formatIssue } from '../../../src/config/types.js';
import { FILE, expectErrorAt, expectWarningAt, lines, valid } from './helpers.js';

const SITE = ['sites:', '  - hosts: ["*.example.com", example.com]', '    tls: acme', '    routes: [{ location: /, return: 204 }]'];
const LISTEN = 'listen: { http: 80, https: 443 }';

function errorsOf(ls: string[]): string[] {
  try {
    parseConfig(lines(...ls), FILE);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map(formatIssue);
    throw err;
  }
  return [];
}

describe('config/acme-dns', () => {
  it('reads a cloudflare provider with its defaults, and dns-01 becomes the only challenge when none are listed (as in Caddy)', () => {
    const c = valid(lines(LISTEN, 'acme:', '  dns: { provider: cloudflare, apiToken: tok-123 }', ...SITE));
    expect(c.acme?.challenges).to.deep.equal(['dns-01']);
    expect(c.acme?.dns).to.deep.equal({
      provider: 'cloudflare',
      apiToken: 'tok-123',
      endpoint: 'https://api.cloudflare.com/client/v4',
      propagationTimeoutMs: 120_000,
      propagationIntervalMs: 2_000,
      ttl: 60,
    });
  });

  it('reads rfc2136 with TSIG, resolver and nameservers (port 53 unless written), and the timing keys', () => {
    const c = valid(lines(
      LISTEN,
      'acme:',
      '  challenges: [dns-01, http-01]',
      '  dns:',
      '    provider: rfc2136',
      '    server: "127.0.0.1:5353"',
      '    zone: Example.COM.',
      '    tsig: { name: acme-key, algorithm: hmac-sha512, secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQ=" }',
      '    resolver: "[::1]:53"',
      '    nameservers: [ns1.example.com, "10.0.0.2:5300"]',
      '    propagationTimeout: 5m',
      '    propagationInterval: 500ms',
      '    ttl: 120',
      ...SITE,
    ));
    expect(c.acme?.challenges).to.deep.equal(['dns-01', 'http-01']);
    expect(c.acme?.dns).to.deep.equal({
      provider: 'rfc2136',
      server: { host: '127.0.0.1', port: 5353 },
      zone: 'example.com',
      tsig: { name: 'acme-key', algorithm: 'hmac-sha512', secret: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ=' },
      resolver: { host: '::1', port: 53 },
      nameservers: [{ host: 'ns1.example.com', port: 53 }, { host: '10.0.0.2', port: 5300 }],
      propagationTimeoutMs: 300_000,
      propagationIntervalMs: 500,
      ttl: 120,
    });
  });

  it('resolves a relative exec command against the config folder and leaves a bare name to PATH', () => {
    const rel = valid(lines(LISTEN, 'acme:', '  dns: { provider: exec, command: [hooks/dns.sh, --zone, example.com] }', ...SITE));
    expect(rel.acme?.dns).to.include({ provider: 'exec' });
    expect((rel.acme?.dns as { command: string[] }).command).to.deep.equal(['/etc/gatehouse/hooks/dns.sh', '--zone', 'example.com']);
    const bare = valid(lines(LISTEN, 'acme:', '  dns: { provider: exec, command: lexicon-hook }', ...SITE));
    expect((bare.acme?.dns as { command: string[] }).command).to.deep.equal(['lexicon-hook']);
  });

  it('dns-01 in challenges without acme.dns is an error at the challenges', () => {
    expectErrorAt([LISTEN, 'acme: { challenges: [http-01, dns-01] }', ...SITE], '[http-01', 'dns-01 needs acme.dns');
  });

  it('acme.dns with challenges that leave out dns-01 is a warning at acme.dns', () => {
    expectWarningAt([LISTEN, 'acme:', '  challenges: [http-01]', '  dns: { provider: cloudflare, apiToken: t }', 'sites:', '  - hosts: [example.com]',
      '    routes: [{ location: /, return: 204 }]'], 'dns', 'acme.dns is not used: acme.challenges does not list dns-01');
  });

  it('a provider\'s required key missing is an error at provider; another provider\'s key is an error at that key', () => {
    expectErrorAt([LISTEN, 'acme:', '  dns: { provider: rfc2136 }', ...SITE], 'rfc2136', 'provider rfc2136 needs acme.dns.server');
    expectErrorAt([LISTEN, 'acme:', '  dns: { provider: cloudflare }', ...SITE], 'cloudflare', 'provider cloudflare needs acme.dns.apiToken');
    expectErrorAt([LISTEN, 'acme:', '  dns: { provider: exec }', ...SITE], 'exec', 'provider exec needs acme.dns.command');
    expectErrorAt([LISTEN, 'acme:', '  dns: { provider: cloudflare, apiToken: t, server: "1.2.3.4" }', ...SITE], 'server',
      'acme.dns.server belongs to provider rfc2136, not cloudflare');
  });

  it('bad addresses, names, endpoint, zone id and timing are errors at their values', () => {
    expectErrorAt([LISTEN, 'acme:', '  dns: { provider: rfc2136, server: "ns.example.com:99999" }', ...SITE], '"ns.example.com:99999"', 'the port must be 1 to 65535');
    expectErrorAt([LISTEN, 'acme:', '  dns: { provider: rfc2136, server: "a b" }', ...SITE], '"a b"', 'is not HOST or HOST:PORT');
    expectErrorAt([LISTEN, 'acme:', '  dns: { provider: rfc2136, server: ns, zone: "exa mple.com" }', ...SITE], '"exa mple.com"', 'is not a DNS name');
    expectErrorAt([LISTEN, 'acme:', '  dns: { provider: cloudflare, apiToken: t, endpoint: "http://api.example.com/v4" }', ...SITE], '"http://api',
      'must be https:// (http:// only on loopback)');
    expectErrorAt([LISTEN, 'acme:', '  dns: { provider: cloudflare, apiToken: t, zoneId: "../x" }', ...SITE], '"../x"', 'is not a Cloudflare zone id');
    expectErrorAt([LISTEN, 'acme:', '  dns: { provider: cloudflare, apiToken: t, nameservers: [ns1, "ns2:0"] }', ...SITE], '"ns2:0"', 'the port must be 1 to 65535');
    expectErrorAt([LISTEN, 'acme:', '  dns: { provider: cloudflare, apiToken: t, propagationTimeout: 1s, propagationInterval: 5s }', ...SITE], '5s',
      'propagationInterval must be above 0 and at most propagationTimeout');
    expectErrorAt([LISTEN, 'acme:', '  dns: { provider: cloudflare, apiToken: t, ttl: 0 }', ...SITE], '0 }', 'acme.dns.ttl must be at least 1');
    expectErrorAt([LISTEN, 'acme:', '  dns: { provider: route53, apiToken: t }', ...SITE], 'route53', 'rfc2136');
  });

  it('a TSIG secret that is not base64, or too short, is an error at its position that never quotes it', () => {
    const bad = [LISTEN, 'acme:', '  dns: { provider: rfc2136, server: ns, tsig: { name: k, secret: "not*base64!!" } }', ...SITE];
    expectErrorAt(bad, '"not*base64!!"', 'acme.dns.tsig.secret is not base64');
    expect(errorsOf(bad).join('\n')).to.not.include('not*base64');
    const short = [LISTEN, 'acme:', '  dns: { provider: rfc2136, server: ns, tsig: { name: k, secret: "c2hvcnQ=" } }', ...SITE];
    expectErrorAt(short, '"c2hvcnQ="', 'shorter than 16 bytes');
    expect(errorsOf(short).join('\n')).to.not.include('c2hvcnQ=');
  });

  it('an API token with spaces is refused without being quoted; one from ${ENV} is never shown either', () => {
    const bad = [LISTEN, 'acme:', '  dns: { provider: cloudflare, apiToken: "abc def-secret" }', ...SITE];
    expectErrorAt(bad, '"abc def-secret"', 'acme.dns.apiToken has spaces');
    expect(errorsOf(bad).join('\n')).to.not.include('def-secret');
    process.env.GH_TEST_CF_TOKEN = 'tok with-space-secret';
    try {
      const env = errorsOf([LISTEN, 'acme:', '  dns: { provider: cloudflare, apiToken: "${GH_TEST_CF_TOKEN}" }', ...SITE]);
      expect(env.join('\n')).to.include('acme.dns.apiToken has spaces');
      expect(env.join('\n')).to.not.include('with-space-secret');
    } finally {
      delete process.env.GH_TEST_CF_TOKEN;
    }
  });

  describe('wildcard hosts', () => {
    it('tls: acme with a wildcard and no dns-01 is an error at the host', () => {
      expectErrorAt([LISTEN, ...SITE], '"*.example.com"', 'needs a wildcard certificate, which an ACME CA issues only through the DNS-01 challenge');
    });

    it('with ACME only as the default for a public name it stays a warning; with dns-01 or on-demand there is nothing to say', () => {
      const implicit = [LISTEN, 'sites:', '  - hosts: ["*.example.com"]', '    routes: [{ location: /, return: 204 }]'];
      expectWarningAt(implicit, '"*.example.com"', 'add dns-01 to acme.challenges');
      expect(parseConfig(lines(LISTEN, 'acme: { dns: { provider: cloudflare, apiToken: t } }', ...SITE), FILE).warnings).to.deep.equal([]);
      expect(parseConfig(lines(LISTEN, 'acme: { onDemand: { ask: "http://127.0.0.1:5555/" } }', ...SITE), FILE).warnings).to.deep.equal([]);
    });
  });
});
