// issue 18: a site's `listen:` — nginx's per-port server tables: names and the default site are per
// listener port, and the checks that follow from it, each at its FILE:LINE:COL.
import { expect } from 'chai';
import { isDefaultOn, servesPort } from '../../../src/config/site-ports.js';
import { expectError, expectErrorAt, expectWarningAt, issuesOf, lines, valid } from './helpers.js';

const HEAD = ['listen: { http: 8080, https: 8443 }', 'sites:'];

describe('config/site-ports', () => {
  it('lets one name be on two ports when each site is bound to one of them', () => {
    const config = valid(lines(...HEAD, '  - hosts: [a.test]', '    listen: [8080]', '    routes: [{ location: /, return: 204 }]', '  - hosts: [a.test]', '    listen: 8443'));
    const [plain, secure] = config.sites;
    expect(plain!.listen).to.deep.equal([8080]);
    // A site on plain-HTTP ports only is served plain, as an nginx server on port 80 only.
    expect(plain!.tls).to.deep.equal({ kind: 'off' });
    expect(plain!.redirect).to.equal('off');
    expect(secure!.listen).to.deep.equal([8443]);
    expect(secure!.tls.kind).to.equal('internal');
    expect(servesPort(plain!, 8443)).to.equal(false);
    expect(servesPort(secure!, 8443)).to.equal(true);
  });

  it('leaves a site without listen on every listener, as before', () => {
    const config = valid(lines(...HEAD, '  - hosts: [a.test]'));
    expect(config.sites[0]!.listen).to.equal(undefined);
    expect(servesPort(config.sites[0]!, 8080)).to.equal(true);
    expect(servesPort(config.sites[0]!, 8443)).to.equal(true);
  });

  it('reports a port no listener has, port 0 and a port listed twice, at the port', () => {
    expectErrorAt([...HEAD, '  - hosts: [a.test]', '    listen: [8080, 9000]'], '9000', 'port 9000 is not a listener port (listen.http / listen.https have: 8080, 8443)');
    expectError(lines(...HEAD, '  - hosts: [a.test]', '    listen: 0'), 4, 13, 'a site cannot be bound to port 0');
    expectErrorAt([...HEAD, '  - hosts: [a.test]', '    listen: [8443, 8443]'], '8443', 'port 8443 is listed twice', 3);
    expectError(lines(...HEAD, '  - hosts: [a.test]', '    listen: [http]'), 4, 14, 'listen[0] must be a port number');
  });

  it('reports a name used twice on one port, naming the port', () => {
    const L = [...HEAD, '  - hosts: [a.test]', '    listen: [8443]', '  - hosts: [b.test, a.test]', '    listen: [8080, 8443]'];
    expectErrorAt(L, 'a.test', 'host "a.test" is already used by the site at line 3 on port 8443', 2);
    // An unbound site is on every port, so it clashes with any bound one.
    const U = [...HEAD, '  - hosts: [a.test]', '  - hosts: [a.test]', '    listen: [8080]'];
    expectErrorAt(U, 'a.test', 'host "a.test" is already used by the site at line 3 on port 8080', 2);
  });

  it('allows a default site per port and reports two on one port', () => {
    const ok = valid(lines(...HEAD, '  - hosts: [a.test]', '    default: true', '    listen: [8080]', '  - hosts: [b.test]', '    default: true', '    listen: [8443]'));
    expect(isDefaultOn(ok.sites[0]!, 8080)).to.equal(true);
    expect(isDefaultOn(ok.sites[0]!, 8443)).to.equal(false);
    expect(isDefaultOn(ok.sites[1]!, 8443)).to.equal(true);
    const L = [...HEAD, '  - hosts: [a.test]', '    default: true', '  - hosts: [b.test]', '    listen: [8443]', '    default: true'];
    expectErrorAt(L, 'true', 'only one site can be "default: true" on port 8443 (the site at line 3 already is)', 2);
  });

  it('takes default: [PORTS] as the default on those ports only, which must be the site\'s', () => {
    const ok = valid(lines(...HEAD, '  - hosts: [a.test]', '    default: [8080]', '  - hosts: [b.test]', '    default: [8443]'));
    expect(isDefaultOn(ok.sites[0]!, 8080)).to.equal(true);
    expect(isDefaultOn(ok.sites[0]!, 8443)).to.equal(false);
    expect(isDefaultOn(ok.sites[1]!, 8443)).to.equal(true);
    expectErrorAt([...HEAD, '  - hosts: [a.test]', '    listen: [8443]', '    default: [8080]'], '8080', 'port 8080 is not one this site listens on (8443)', 2);
    const L = [...HEAD, '  - hosts: [a.test]', '    default: [8080, 8443]', '  - hosts: [b.test]', '    default: [8443]'];
    expectErrorAt(L, '[8443]', 'only one site can be "default: true" on port 8443 (the site at line 3 already is)');
  });

  it('reports a listener no site serves once sites are bound', () => {
    expectErrorAt(['listen: { http: 8080, https: [8443, 9443] }', 'sites:', '  - hosts: [a.test]', '    listen: [8080, 8443]'], '9443', 'no site serves port 9443');
  });

  it('reports a tls: off site bound to an https port, at that port', () => {
    const L = [...HEAD, '  - hosts: [a.test]', '    tls: off', '    listen: [8080, 8443]'];
    expectErrorAt(L, '8443', 'port 8443 is an https listener, but the site is "tls: off"', 2);
  });

  it('reports redirect: https on a site with no https port', () => {
    const L = [...HEAD, '  - hosts: [a.test]', '    listen: [8080]', '    redirect: https', '  - hosts: [b.test]', '    listen: [8443]'];
    expectErrorAt(L, 'https', '"redirect: https" needs an https port, and the site listens on none (listen: [8080])', 2);
  });

  it('warns that a written certificate has no effect on a site with no https port', () => {
    const L = [...HEAD, '  - hosts: [a.test]', '    listen: [8080]', '    tls: internal', '  - hosts: [b.test]', '    listen: [8443]'];
    expectWarningAt(L, 'internal', 'the site listens on no https port (listen: [8080])');
    expect(issuesOf(lines(...L)).filter((i) => i.severity === 'error')).to.deep.equal([]);
  });
});
