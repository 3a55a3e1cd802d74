// Who may use the admin listener: loopback always, admin.allow besides, everyone else 403; and which
// Host and Origin it answers to (DNS rebinding, security review F10).
import { expect } from 'chai';
import { compileAdminAccess, compileAdminHosts } from '../../../src/admin/access.js';

describe('admin/access', () => {
  it('lets in loopback clients only, by default', () => {
    const allowed = compileAdminAccess();
    for (const a of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1']) expect(allowed(a), a).to.equal(true);
    for (const a of ['192.0.2.2', '10.0.0.1', 'fd00::2', '::ffff:10.0.0.1', '']) expect(allowed(a), a).to.equal(false);
  });

  it('adds the allow list: CIDRs and single addresses, IPv4-mapped IPv6 matched as IPv4', () => {
    const allowed = compileAdminAccess(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
    for (const a of ['10.1.2.3', '::ffff:10.1.2.3', '2001:db8::1', '192.0.2.7', '127.0.0.1']) expect(allowed(a), a).to.equal(true);
    for (const a of ['11.0.0.1', '192.0.2.8', '2001:db9::1']) expect(allowed(a), a).to.equal(false);
  });

  describe('Host and Origin (DNS rebinding)', () => {
    const refusal = compileAdminHosts(['admin.example', 'metrics.internal']);

    it('accepts a missing Host, IP literals with or without a port, localhost and the admin.hosts names', () => {
      for (const host of [
        undefined,
        '127.0.0.1',
        '127.0.0.1:2019',
        '10.1.2.3:80',
        '[::1]',
        '[::1]:2019',
        '[fe80::1]:8080',
        'localhost',
        'LocalHost:2019',
        'localhost.',
        'localhost.:2019',
        'admin.example',
        'Admin.Example:9000',
        'metrics.internal.',
      ]) {
        expect(refusal({ host }), String(host)).to.equal(undefined);
      }
    });

    it('refuses any other name, and hosts that are not well-formed', () => {
      for (const host of [
        'attacker.example',
        'attacker.example:2019',
        '127.0.0.1.nip.io',
        'localhost.attacker.example',
        'sub.admin.example',
        '::1',
        '[::1',
        '[not-an-ip]',
        '127.0.0.1:80:80',
        '127.0.0.1:port',
        '',
        '0x7f.0.0.1',
      ]) {
        expect(refusal({ host }), host).to.be.a('string');
      }
    });

    it('applies the same rule to the Origin host when an Origin is sent', () => {
      for (const origin of ['http://127.0.0.1:2019', 'http://localhost:2019', 'https://admin.example', 'http://[::1]:2019']) {
        expect(refusal({ host: '127.0.0.1:2019', origin }), origin).to.equal(undefined);
      }
      for (const origin of ['http://evil.example', 'http://evil.example:2019', 'null', 'not a url', 'file:///etc/passwd', 'http://localhost.evil.example']) {
        expect(refusal({ host: '127.0.0.1:2019', origin }), origin).to.be.a('string');
      }
    });

    it('knows only localhost and addresses when admin.hosts is not set', () => {
      const strict = compileAdminHosts(undefined);
      expect(strict({ host: 'localhost:1' })).to.equal(undefined);
      expect(strict({ host: 'admin.example' })).to.be.a('string');
    });
  });
});
