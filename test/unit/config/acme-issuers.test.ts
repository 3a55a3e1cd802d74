// acme.issuers (README "Several CAs: acme.issuers"): each entry inherits what it leaves out from the
// top-level acme keys; mistakes are reported at their FILE:LINE:COL.
import { expect } from 'chai';
import { expectErrorAt, lines, valid } from './helpers.js';

const site = 'sites: [{ hosts: a.test, routes: [{ location: /, return: 204 }] }]';

describe('config: acme.issuers', () => {
  it('inherits every key an entry leaves out from acme.*, and the first entry is acme.directory', () => {
    const acme = valid(
      lines(
        'listen: { http: 80, https: 443 }',
        'acme:',
        '  email: ops@example.com',
        '  trust: ./ca.pem',
        '  challenges: [tls-alpn-01]',
        '  key: rsa-2048',
        '  profile: tlsserver',
        '  issuers:',
        '    - directory: letsencrypt',
        '    - { directory: zerossl, eab: { kid: K, hmac: H }, key: ecdsa-p384, challenges: [http-01], email: z@example.com, trust: z.pem, profile: p }',
        '    - directory: "https://ca.internal:14000/dir"',
        site,
      ),
    ).acme!;
    expect(acme.directory).to.equal('https://acme-v02.api.letsencrypt.org/directory');
    expect(acme.issuers).to.deep.equal([
      {
        directory: 'https://acme-v02.api.letsencrypt.org/directory',
        challenges: ['tls-alpn-01'],
        key: 'rsa-2048',
        trust: '/etc/gatehouse/ca.pem',
        email: 'ops@example.com',
        profile: 'tlsserver',
      },
      {
        directory: 'https://acme.zerossl.com/v2/DV90',
        challenges: ['http-01'],
        key: 'ecdsa-p384',
        trust: '/etc/gatehouse/z.pem',
        email: 'z@example.com',
        eab: { kid: 'K', hmac: 'H' },
        profile: 'p',
      },
      {
        directory: 'https://ca.internal:14000/dir',
        challenges: ['tls-alpn-01'],
        key: 'rsa-2048',
        trust: '/etc/gatehouse/ca.pem',
        email: 'ops@example.com',
        profile: 'tlsserver',
      },
    ]);
  });

  it('inherits the defaults too, and a top-level eab', () => {
    const acme = valid(lines('listen: { https: 443 }', 'acme: { eab: { kid: K, hmac: H }, issuers: [{ directory: zerossl }] }', site)).acme!;
    expect(acme.issuers).to.deep.equal([
      { directory: 'https://acme.zerossl.com/v2/DV90', challenges: ['http-01', 'tls-alpn-01'], key: 'ecdsa-p256', eab: { kid: 'K', hmac: 'H' } },
    ]);
  });

  it('has no issuers without acme.issuers (one CA, as before)', () => {
    const acme = valid(lines('listen: { https: 443 }', 'acme: { directory: letsencrypt-staging }', site)).acme!;
    expect(acme).to.not.have.property('issuers');
    expect(acme.directory).to.equal('https://acme-staging-v02.api.letsencrypt.org/directory');
  });

  it('refuses acme.directory beside acme.issuers, at the issuers key', () => {
    const L = ['listen: { https: 443 }', 'acme:', '  directory: letsencrypt', '  issuers: [{ directory: letsencrypt-staging }]', site];
    expectErrorAt(L, 'issuers', 'acme.directory and acme.issuers cannot both be set: keep one');
  });

  it('refuses ZeroSSL without EAB, at its directory (top level or entry)', () => {
    const entry = ['listen: { https: 443 }', 'acme:', '  issuers:', '    - directory: letsencrypt', '    - directory: zerossl', site];
    expectErrorAt(entry, 'zerossl', 'ZeroSSL requires an external account binding: set eab { kid, hmac }');
    const top = ['listen: { https: 443 }', 'acme: { directory: zerossl }', site];
    expectErrorAt(top, 'zerossl', 'ZeroSSL requires an external account binding');
  });

  it('reports a bad entry at its own position', () => {
    const L = [
      'listen: { https: 443 }',
      'acme:',
      '  issuers:',
      '    - directory: letsencrypt',
      '    - directory: letsencrypt-stagin',
      '    - { directory: letsencrypt, challenges: [smtp-01] }',
      '    - { key: rsa-2048 }',
      '    - { directory: letsencrypt, colour: blue }',
      site,
    ];
    expectErrorAt(L, 'letsencrypt-stagin', 'acme.issuers[1].directory (letsencrypt, letsencrypt-staging, zerossl or a URL) "letsencrypt-stagin" is not a URL');
    expectErrorAt(L, 'smtp-01', 'http-01');
    expectErrorAt(L, '{ key: rsa-2048 }', 'directory');
    expectErrorAt(L, 'colour', 'colour');
  });

  it('refuses an empty list', () => {
    expectErrorAt(['listen: { https: 443 }', 'acme: { issuers: [] }', site], '[]', 'issuers');
  });
});
