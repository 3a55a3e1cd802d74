// nginx's allow/deny: first match wins within an address family, `all` is in every family, no match
// lets the request through (NGX_DECLINED).
import { expect } from 'chai';
import { compileRules } from '../../../src/access/allow-deny.js';
import type { AccessRule } from '../../../src/config/types.js';

const allow = (source: string): AccessRule => ({ action: 'allow', source });
const deny = (source: string): AccessRule => ({ action: 'deny', source });

describe('access/allow-deny', () => {
  it('the first matching rule wins, in written order', () => {
    const r = compileRules([deny('192.168.1.1'), allow('192.168.1.0/24'), allow('10.1.1.0/16'), deny('all')]);
    expect(r.match('192.168.1.1')).to.equal('deny');
    expect(r.match('192.168.1.2')).to.equal('allow');
    expect(r.match('10.1.200.7')).to.equal('allow');
    expect(r.match('10.2.0.1')).to.equal('deny');
    expect(compileRules([allow('all'), deny('192.168.1.1')]).match('192.168.1.1')).to.equal('allow');
  });

  it('no matching rule is no verdict (the request goes on)', () => {
    expect(compileRules([deny('10.0.0.0/8')]).match('127.0.0.1')).to.equal(undefined);
    expect(compileRules([]).match('127.0.0.1')).to.equal(undefined);
  });

  it('keeps the families apart: an IPv6 rule never matches IPv4 and the reverse', () => {
    const r = compileRules([allow('::1'), deny('127.0.0.0/8'), allow('2001:db8::/32'), deny('all')]);
    expect(r.match('::1')).to.equal('allow');
    expect(r.match('127.0.0.1')).to.equal('deny');
    expect(r.match('2001:db8:1::5')).to.equal('allow');
    expect(r.match('2001:db9::1')).to.equal('deny');
    // Order across families does not matter, as in nginx (one list per family).
    expect(compileRules([deny('127.0.0.1'), allow('all')]).match('::1')).to.equal('allow');
  });

  it('`unix:` matches only a connection without an IP address; `all` matches it too', () => {
    expect(compileRules([allow('unix:'), deny('all')]).match('')).to.equal('allow');
    expect(compileRules([allow('unix:'), deny('all')]).match('127.0.0.1')).to.equal('deny');
    expect(compileRules([deny('all')]).match('')).to.equal('deny');
    expect(compileRules([allow('127.0.0.1')]).match('')).to.equal(undefined);
  });

  it('masks a CIDR with host bits set, as nginx does', () => {
    expect(compileRules([allow('10.1.1.1/8'), deny('all')]).match('10.200.0.1')).to.equal('allow');
  });
});
