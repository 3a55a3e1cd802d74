// Who may PURGE (security review F10): the trusted proxies and the admin.allow list, never loopback
// just for being loopback.
import { expect } from 'chai';
import { compilePurgeAccess } from '../../../src/cache/purge.js';

describe('cache/purge access', () => {
  it('lets in nobody when neither list is set, loopback included', () => {
    const may = compilePurgeAccess([], undefined);
    for (const a of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '10.0.0.1']) expect(may(a), a).to.equal(false);
  });

  it('lets in trustedProxies and admin.allow entries, and no one else', () => {
    const may = compilePurgeAccess(['10.0.0.0/8'], ['127.0.0.1', '2001:db8::/32']);
    for (const a of ['10.2.3.4', '127.0.0.1', '::ffff:127.0.0.1', '2001:db8::7']) expect(may(a), a).to.equal(true);
    for (const a of ['127.0.0.2', '::1', '192.0.2.1', '']) expect(may(a), a).to.equal(false);
  });
});
