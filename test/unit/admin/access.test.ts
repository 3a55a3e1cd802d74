// Who may use the admin listener: loopback always, admin.allow besides, everyone else 403.
import { expect } from 'chai';
import { compileAdminAccess } from '../../../src/admin/access.js';

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
});
