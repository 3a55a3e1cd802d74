// The top-level `cache:` section: defaults, paths, and errors at their FILE:LINE:COL.
import { expect } from 'chai';
import { expectErrorAt, lines, valid } from './helpers.js';

const HEAD = ['listen: { https: 8443 }'];
const SITES = ['sites:', '  - hosts: [a.test]', '    routes: [{ location: /, proxy: "http://127.0.0.1:9000", cache: 10m }]'];

describe('config/cache', () => {
  it('leaves the section out when it is not written (routes use the memory defaults)', () => {
    const c = valid(lines(...HEAD, ...SITES));
    expect(c.cache).to.equal(undefined);
    expect(c.sites[0]?.routes[0]?.cacheMs).to.equal(600_000);
  });

  it('reads sizes and resolves the disk folder against the config file', () => {
    const c = valid(lines(...HEAD, 'cache: { memory: 16m, maxObject: 256k, disk: ../state/cache, diskSize: 2g }', ...SITES));
    expect(c.cache).to.deep.equal({
      memoryBytes: 16 * 1024 ** 2,
      maxObjectBytes: 256 * 1024,
      disk: { dir: '/etc/state/cache', maxBytes: 2 * 1024 ** 3 },
    });
  });

  it('rejects an unknown key with a suggestion', () => {
    expectErrorAt([...HEAD, 'cache: { memroy: 16m }', ...SITES], 'memroy', 'unknown key "memroy" (did you mean "memory"?)');
  });

  it('rejects a size that is not one', () => {
    expectErrorAt([...HEAD, 'cache: { memory: lots }', ...SITES], 'lots', 'cache.memory: invalid size "lots"');
  });

  it('rejects a maxObject larger than the memory store', () => {
    expectErrorAt([...HEAD, 'cache: { memory: 1m, maxObject: 2m }', ...SITES], '2m', 'cache.maxObject (2097152 bytes) is larger than cache.memory');
  });

  it('rejects diskSize without disk', () => {
    expectErrorAt([...HEAD, 'cache: { diskSize: 1g }', ...SITES], 'diskSize', 'cache.diskSize needs cache.disk');
  });
});
