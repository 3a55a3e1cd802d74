// `admin`: the short form (an address) and the long form { listen, allow } with their errors.
import { expect } from 'chai';
import { expectErrorAt, lines, valid } from './helpers.js';

const TAIL = ['sites: [{ hosts: a.test }]'];
const HEAD = ['listen: { https: 8443 }'];

describe('config/admin', () => {
  it('reads the short form as a loopback-only address', () => {
    const c = valid(lines(...HEAD, 'admin: 127.0.0.1:2019', ...TAIL));
    expect(c.admin).to.deep.equal({ host: '127.0.0.1', port: 2019 });
  });

  it('reads the long form with an allow list of CIDRs and addresses', () => {
    const c = valid(lines(...HEAD, 'admin:', '  listen: "[::]:2019"', '  allow: [10.0.0.0/8, "192.0.2.7", "2001:db8::/32"]', ...TAIL));
    expect(c.admin).to.deep.equal({ host: '::', port: 2019, allow: ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'] });
    const one = valid(lines(...HEAD, 'admin: { listen: 2019, allow: 10.1.0.0/16 }', ...TAIL));
    expect(one.admin).to.deep.equal({ port: 2019, allow: ['10.1.0.0/16'] });
  });

  it('reports a bad allow entry at the entry', () => {
    const L = [...HEAD, 'admin: { listen: 2019, allow: [10.0.0.0/8, 10.0.0.0/40, "ten"] }', ...TAIL];
    expectErrorAt(L, '10.0.0.0/40', 'admin allow entry "10.0.0.0/40" is not an IP address or CIDR (like 10.0.0.0/8)');
    expectErrorAt(L, '"ten"', 'admin allow entry "ten" is not an IP address or CIDR');
  });

  it('reports a bad or clashing listen address inside the long form', () => {
    expectErrorAt([...HEAD, 'admin: { listen: "1.2.3:9", allow: [] }', ...TAIL], '"1.2.3:9"', 'the host must be an IP address, "localhost" or "*"');
    expectErrorAt([...HEAD, 'admin: { listen: 8443 }', ...TAIL], '8443', 'admin address 8443 clashes with listen address 8443', 2);
  });

  it('reports a missing listen and unknown keys in the long form', () => {
    expectErrorAt([...HEAD, 'admin: { allow: [10.0.0.0/8] }', ...TAIL], '{ allow', 'listen');
    expectErrorAt([...HEAD, 'admin: { listen: 2019, alow: [10.0.0.0/8] }', ...TAIL], 'alow', 'unknown key "alow" (did you mean "allow"?)');
  });

  it('reports a wrong type with the forms it accepts', () => {
    expectErrorAt([...HEAD, 'admin: [2019]', ...TAIL], '[2019]', 'a port, "host:port", or { listen: ADDRESS, allow: [CIDRs] }');
  });
});
