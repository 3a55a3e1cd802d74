// The client limits: timers, body size and body buffering, with nginx's defaults.
import { expect } from 'chai';
import { expectErrorAt, lines, valid } from './helpers.js';
import { DEFAULT_TUNNEL_IDLE_MS } from '../../../src/config/client.js';

const SITE = 'sites: [{ hosts: a.test, routes: [{ location: /, return: 204 }] }]';

describe('config/client limits', () => {
  it('defaults to nginx: header 60s, body 60s, send 60s, keep-alive 75s, maxBody 1m, 16k in memory', () => {
    const c = valid(lines('listen: { https: 8443 }', SITE));
    expect(c.timeouts).to.deep.equal({ headerMs: 60_000, bodyMs: 60_000, sendMs: 60_000, keepaliveMs: 75_000 });
    expect(c.sites[0]?.timeouts).to.deep.equal(c.timeouts);
    expect(c.maxBody).to.equal(1024 * 1024);
    expect(c.bodyBuffer).to.deep.equal({ memoryBytes: 16 * 1024, tempMaxBytes: 1024 ** 3, tempTotalBytes: 4 * 1024 ** 3 });
    expect(c.sites[0]?.underscoresInHeaders).to.equal(false);
  });

  it('takes top-level values, and site values over them key by key', () => {
    const c = valid(lines(
      'listen: { https: 8443 }',
      'timeouts: { header: 10s, keepalive: 2m }',
      'maxBody: 0',
      'underscoresInHeaders: true',
      'bodyBuffer: { memory: 64k, tempDir: ./tmp, tempMax: 10m, tempTotal: 100m }',
      'sites:',
      '  - { hosts: a.test, routes: [{ location: /, return: 204 }] }',
      '  - { hosts: b.test, timeouts: { body: 5m, keepalive: 5s }, underscoresInHeaders: false, routes: [{ location: /, return: 204 }] }',
    ));
    expect(c.timeouts).to.deep.equal({ headerMs: 10_000, bodyMs: 60_000, sendMs: 60_000, keepaliveMs: 120_000 });
    expect(c.sites[0]?.timeouts).to.deep.equal(c.timeouts);
    expect(c.sites[1]?.timeouts).to.deep.equal({ headerMs: 10_000, bodyMs: 300_000, sendMs: 60_000, keepaliveMs: 5_000 });
    expect(c.maxBody).to.equal(0);
    expect(c.bodyBuffer).to.deep.equal({ memoryBytes: 65536, tempDir: '/etc/gatehouse/tmp', tempMaxBytes: 10 * 1024 ** 2, tempTotalBytes: 100 * 1024 ** 2 });
    expect(c.sites.map((s) => s.underscoresInHeaders)).to.deep.equal([true, false]);
  });

  it('reads requestBuffering and upgrade on routes', () => {
    const c = valid(lines(
      'listen: { https: 8443 }',
      'sites:',
      '  - hosts: a.test',
      '    routes:',
      '      - { location: /up/, proxy: "http://127.0.0.1:1", requestBuffering: true, upgrade: [WebSocket, h2c] }',
      '      - { location: /, proxy: "http://127.0.0.1:1", requestBuffering: false, upgrade: off }',
    ));
    expect(c.sites[0]?.routes[0]).to.include({ requestBuffering: true });
    expect(c.sites[0]?.routes[0]?.upgrade).to.deep.equal(['websocket', 'h2c']);
    expect(c.sites[0]?.routes[1]).to.include({ requestBuffering: false });
    expect(c.sites[0]?.routes[1]?.upgrade).to.deep.equal([]);
  });

  it('reads tunnelIdle on routes (unset: the 60 s runtime default) and refuses one under a second', () => {
    const c = valid(lines(
      'listen: { https: 8443 }',
      'sites:',
      '  - hosts: a.test',
      '    routes:',
      '      - { location: /ws/, proxy: "http://127.0.0.1:1", tunnelIdle: 10m }',
      '      - { location: /, proxy: "http://127.0.0.1:1" }',
    ));
    expect(c.sites[0]?.routes[0]?.tunnelIdleMs).to.equal(600_000);
    expect(c.sites[0]?.routes[1]?.tunnelIdleMs).to.equal(undefined);
    expect(DEFAULT_TUNNEL_IDLE_MS).to.equal(60_000);
    expectErrorAt(['listen: { https: 8443 }', 'sites:', '  - hosts: a.test', '    routes:', '      - { location: /, proxy: "http://127.0.0.1:1", tunnelIdle: 500ms }'], '500ms', 'tunnelIdle must be at least 1s');
  });

  it('refuses a timer under a second, a bad timer name and a temp cap larger than the total', () => {
    expectErrorAt(['listen: { https: 8443 }', 'timeouts: { header: 500ms }', SITE], '500ms', 'timeouts.header must be at least 1s');
    expectErrorAt(['listen: { https: 8443 }', 'timeouts: { headers: 5s }', SITE], 'headers', 'unknown key "headers"');
    expectErrorAt(['listen: { https: 8443 }', 'bodyBuffer: { tempMax: 2g, tempTotal: 1g }', SITE], '2g', 'tempMax is larger than bodyBuffer.tempTotal');
  });

  it('reads admin host names, without their port', () => {
    const c = valid(lines('listen: { https: 8443 }', 'admin: { listen: "127.0.0.1:2019", hosts: [Gatehouse.Internal, "metrics.lan:2019"] }', SITE));
    expect(c.admin?.hosts).to.deep.equal(['gatehouse.internal', 'metrics.lan']);
    expectErrorAt(['listen: { https: 8443 }', 'admin: { listen: "127.0.0.1:2019", hosts: ["a b"] }', SITE], '"a b"', 'is not a host name');
  });
});
