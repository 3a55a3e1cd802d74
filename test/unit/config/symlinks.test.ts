// The `symlinks` route key (static files): its values, its default, and its errors at FILE:LINE:COL.
import { expect } from 'chai';
import { expectErrorAt, lines, valid } from './helpers.js';

const HEAD = ['listen: { https: 8443 }', 'sites:', '  - hosts: [a.test]', '    routes:'];

describe('config/symlinks', () => {
  it('takes inside, follow or refuse on a root route, and leaves the default to the handler (inside)', () => {
    const cfg = valid(
      lines(...HEAD, '      - { location: /a, root: ./a, symlinks: follow }', '      - { location: /b, root: ./b, symlinks: refuse }', '      - { location: /c, root: ./c }'),
    );
    const routes = cfg.sites[0]?.routes ?? [];
    expect(routes.map((r) => r.symlinks)).to.deep.equal(['follow', 'refuse', undefined]);
  });

  it('rejects an unknown value and names the allowed ones', () => {
    const L = [...HEAD, '      - { location: /a, root: ./a, symlinks: yes }'];
    expectErrorAt(L, 'yes', 'symlinks must be inside, follow or refuse');
  });

  it('rejects symlinks on a route without root', () => {
    const L = [...HEAD, '      - { location: /a, proxy: "http://127.0.0.1:1", symlinks: follow }'];
    expectErrorAt(L, 'follow', 'symlinks applies to static files; this route has no root');
  });
});
