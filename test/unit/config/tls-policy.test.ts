// issue 19: TLS policy keys (top-level `tls:`, a site's `tls`, an upstream's `tls.protocols` and client
// certificate): what they normalise to, and each name Node's OpenSSL cannot use is an error at its item.
import { expect } from 'chai';
import { expectErrorAt, expectWarningAt, lines, valid } from './helpers.js';

const HEAD = ['listen: { https: 8443 }'];

describe('config/tls-policy', () => {
  it('gives every site the top-level policy, with a site\'s own keys over it one by one', () => {
    const config = valid(
      lines(
        ...HEAD,
        'tls: { protocols: [TLSv1.2, TLSv1.3], ciphers: [ECDHE-RSA-AES128-GCM-SHA256], curves: [X25519, P-256], preferServerCiphers: false }',
        'sites:',
        '  - hosts: [a.test]',
        '    tls: internal',
        '  - hosts: [b.test]',
        '    tls: { issuer: internal, protocols: [TLSv1.3], curves: [P-384] }',
      ),
    );
    expect(config.tls).to.deep.equal({
      protocols: { min: 'TLSv1.2', max: 'TLSv1.3' },
      ciphers: ['ECDHE-RSA-AES128-GCM-SHA256'],
      curves: ['X25519', 'P-256'],
      preferServerCiphers: false,
    });
    expect(config.sites[0]!.tls).to.deep.equal({ kind: 'internal', policy: config.tls });
    expect(config.sites[1]!.tls).to.deep.equal({
      kind: 'internal',
      policy: { protocols: { min: 'TLSv1.3', max: 'TLSv1.3' }, ciphers: ['ECDHE-RSA-AES128-GCM-SHA256'], curves: ['P-384'], preferServerCiphers: false },
    });
  });

  it('leaves the policy unset when nothing is written (the built-in defaults apply)', () => {
    const config = valid(lines(...HEAD, 'sites:', '  - hosts: [a.test]', '    tls: internal'));
    expect(config.tls).to.equal(undefined);
    expect(config.sites[0]!.tls).to.deep.equal({ kind: 'internal' });
  });

  it('accepts OpenSSL operators in a cipher list (as nginx\'s ssl_ciphers writes them)', () => {
    const config = valid(lines(...HEAD, 'tls: { ciphers: [ECDHE+AESGCM, "!aNULL", "!SHA1"] }', 'sites: [{ hosts: [a.test], tls: internal }]'));
    expect(config.tls?.ciphers).to.deep.equal(['ECDHE+AESGCM', '!aNULL', '!SHA1']);
  });

  it('refuses TLSv1 and TLSv1.1 at their item, saying why', () => {
    const L = [...HEAD, 'tls: { protocols: [TLSv1.2, TLSv1.1] }', 'sites:', '  - hosts: [a.test]', '    tls: { issuer: internal, protocols: [TLSv1, TLSv1.3] }'];
    expectErrorAt(L, 'TLSv1.1', 'TLSv1.1 cannot be served: Node\'s OpenSSL');
    expectErrorAt(L, 'TLSv1,', 'refuses it at its default security level');
  });

  it('refuses an unknown protocol name through the schema', () => {
    expectErrorAt([...HEAD, 'tls: { protocols: [TLSv1.4] }', 'sites: [{ hosts: [a.test], tls: internal }]'], 'TLSv1.4', 'TLSv1.2');
  });

  it('refuses a cipher Node\'s OpenSSL does not have, at its item, with the name', () => {
    const L = [...HEAD, 'tls: { ciphers: [ECDHE-RSA-AES128-GCM-SHA256, DES-CBC3-SHA, RC4-SHA] }', 'sites: [{ hosts: [a.test], tls: internal }]'];
    expectErrorAt(L, 'DES-CBC3-SHA', 'cipher "DES-CBC3-SHA" is unknown to, or disabled in, Node\'s OpenSSL');
    expectErrorAt(L, 'RC4-SHA', 'cipher "RC4-SHA" is unknown');
  });

  it('refuses a TLS 1.3 suite in ciphers with a hint', () => {
    const L = [...HEAD, 'sites:', '  - hosts: [a.test]', '    tls: { issuer: internal, ciphers: [TLS_AES_128_GCM_SHA256] }'];
    expectErrorAt(L, 'TLS_AES_128_GCM_SHA256', 'is a TLS 1.3 suite; ciphers lists TLS 1.2 suites only');
  });

  it('refuses a list of operators only, which leaves no suite', () => {
    expectErrorAt([...HEAD, 'tls: { ciphers: ["!ALL"] }', 'sites: [{ hosts: [a.test], tls: internal }]'], '["!ALL"]', 'this cipher list leaves no TLS 1.2 suite');
  });

  it('refuses an unknown curve at its item', () => {
    const L = [...HEAD, 'tls: { curves: [X25519, P-999] }', 'sites: [{ hosts: [a.test], tls: internal }]'];
    expectErrorAt(L, 'P-999', 'curve "P-999" is unknown to Node\'s OpenSSL');
  });

  it('warns that ciphers have no effect when only TLSv1.3 is allowed', () => {
    expectWarningAt([...HEAD, 'tls: { protocols: [TLSv1.3], ciphers: [ECDHE-RSA-AES128-GCM-SHA256] }', 'sites: [{ hosts: [a.test], tls: internal }]'], '[ECDHE', 'this list has no effect');
  });

  it('reads the README "TLS policy" example as it says', () => {
    // Copied from README "TLS policy" (a listen added).
    const config = valid(`listen: { https: 443 }
tls:                                # every site's default (nginx: ssl_* in http {})
  protocols: [TLSv1.3]
  curves: [X25519, P-256]
sites:
  - hosts: [shop.example.com]       # TLS 1.3 only, X25519 or P-256: the top-level policy
  - hosts: [legacy.example.com]     # for this SNI name: the site's keys, the rest inherited
    tls: { issuer: acme, protocols: [TLSv1.2, TLSv1.3], ciphers: [ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-GCM-SHA256] }
`);
    expect(config.sites[0]!.tls).to.deep.equal({ kind: 'acme', policy: { protocols: { min: 'TLSv1.3', max: 'TLSv1.3' }, curves: ['X25519', 'P-256'] } });
    expect(config.sites[1]!.tls).to.deep.equal({
      kind: 'acme',
      policy: { protocols: { min: 'TLSv1.2', max: 'TLSv1.3' }, curves: ['X25519', 'P-256'], ciphers: ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'] },
    });
  });

  it('reads an upstream\'s client certificate and protocols', () => {
    const config = valid(
      lines(
        'listen: { http: 8080 }',
        'upstreams:',
        '  app:',
        '    servers: https://127.0.0.1:9443',
        '    tls: { cert: client.pem, key: client.key, protocols: [TLSv1.3] }',
        'sites: [{ hosts: [a.test], tls: off, routes: [{ location: /, proxy: app }] }]',
      ),
    );
    expect(config.upstreams.app!.tls).to.deep.equal({
      insecure: false,
      cert: '/etc/gatehouse/client.pem',
      key: '/etc/gatehouse/client.key',
      protocols: { min: 'TLSv1.3', max: 'TLSv1.3' },
    });
  });

  it('refuses an upstream client certificate without its key, and TLSv1.1 there', () => {
    const L = ['listen: { http: 8080 }', 'upstreams:', '  app:', '    servers: https://127.0.0.1:9443', '    tls: { cert: client.pem, protocols: [TLSv1.1, TLSv1.2] }', 'sites: [{ hosts: [a.test], tls: off, routes: [{ location: /, proxy: app }] }]'];
    expectErrorAt(L, 'client.pem', 'tls.cert and tls.key go together');
    expectErrorAt(L, 'TLSv1.1', 'TLSv1.1 cannot be served');
  });
});
