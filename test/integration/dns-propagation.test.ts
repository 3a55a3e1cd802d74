// The propagation check against a real BIND 9.18 that is both the "resolver" and the authoritative server
// of two zones: the zones' NS ns1.<zone> resolve to 127.0.0.1 inside the zones, and `port` sends the
// discovered NS queries to BIND's free port. Also the acme-dns style CNAME delegation of _acme-challenge
// to another zone, written there by the RFC 2136 provider.
import { expect } from 'chai';
import { DnsPropagationCheck, systemResolver } from '../../src/tls/acme/dns/propagation.js';
import { Rfc2136Provider } from '../../src/tls/acme/dns/rfc2136.js';
import { startBind9, type Bind9 } from '../helpers/bind9.js';
import { tempDir } from '../helpers/gatehouse.js';
import fs from 'node:fs';
import path from 'node:path';
import { rejection } from '../helpers/rejection.js';


describe('DNS-01 propagation check against BIND (integration)', function () {
  this.timeout(30_000);
  let bind: Bind9;
  let provider: Rfc2136Provider;

  before(async () => {
    bind = await startBind9({
      zones: [
        {
          name: 'test.zone',
          records: [
            '_acme-challenge.a CNAME x.delegated.zone.',
            '_acme-challenge.two CNAME hop.test.zone.',
            'hop CNAME y.delegated.zone.',
            '_acme-challenge.loop CNAME loop2.test.zone.',
            'loop2 CNAME _acme-challenge.loop.test.zone.',
          ],
        },
        { name: 'delegated.zone' },
      ],
      keys: [{ name: 'gh-prop', algorithm: 'hmac-sha256' }],
    });
    provider = new Rfc2136Provider({ server: bind.server, tsig: bind.keys['gh-prop'], ttl: 60, timeoutMs: 5000 });
  });
  after(() => bind?.stop());

  // 10 s is a realistic deadline here (BIND has the record at once); 200 ms between rounds.
  const check = (extra: Partial<ConstructorParameters<typeof DnsPropagationCheck>[0]> = {}) =>
    new DnsPropagationCheck({ resolver: bind.server, port: bind.port, timeoutMs: 10_000, intervalMs: 200, ...extra });

  it('wait resolves once the record is there (written while it waits)', async () => {
    const name = '_acme-challenge.later.test.zone';
    const started = Date.now();
    const waiting = check().wait(name, 'late-value');
    await new Promise((r) => setTimeout(r, 600));
    await provider.present(name, 'late-value');
    await waiting;
    expect(Date.now() - started).to.be.greaterThan(600);
    await provider.cleanup(name, 'late-value');
  });

  it('wait rejects at the deadline, naming the server that does not have the value', async () => {
    // 1500 ms: the deadline is the user's propagationTimeout setting, not a product default proven here.
    const name = '_acme-challenge.never.test.zone';
    await provider.present(name, 'some-other-value');
    const started = Date.now();
    const err = await rejection(check({ timeoutMs: 1500 }).wait(name, 'expected-value'));
    const took = Date.now() - started;
    expect(took).to.be.within(1200, 5000);
    expect(err.message).to.include(`ns1.test.zone (127.0.0.1:${bind.port})`).and.to.include('other values only');
    await provider.cleanup(name, 'some-other-value');
  });

  it('asks the configured nameservers instead of discovering them', async () => {
    const name = '_acme-challenge.fixed.test.zone';
    await provider.present(name, 'fixed-value');
    await check({ nameservers: [bind.server], port: 1 /* would fail if NS discovery were used */ }).wait(name, 'fixed-value');
    await provider.cleanup(name, 'fixed-value');
  });

  it('every server must have it: with a second BIND lagging, wait names only that one, and resolves once it has it', async () => {
    const second = await startBind9({ zones: [{ name: 'test.zone' }], keys: [{ name: 'gh-prop', algorithm: 'hmac-sha256' }] });
    try {
      const name = '_acme-challenge.two-servers.test.zone';
      await provider.present(name, 'both');
      // 1500 ms: the user's propagationTimeout, shortened for the failing half only (not a default proven here).
      const both = { nameservers: [bind.server, second.server] };
      const err = await rejection(check({ ...both, timeoutMs: 1500 }).wait(name, 'both'));
      expect(err.message).to.include(`127.0.0.1:${second.port}: NXDOMAIN`).and.not.to.include(`127.0.0.1:${bind.port}`);
      const waiting = check(both).wait(name, 'both');
      await new Rfc2136Provider({ server: second.server, tsig: second.keys['gh-prop'], ttl: 60, timeoutMs: 5000 }).present(name, 'both');
      await waiting;
      await provider.cleanup(name, 'both');
    } finally {
      await second.stop();
    }
  });

  it('target() follows the CNAME of _acme-challenge to the delegated zone; the provider writes there and wait() sees it', async () => {
    const c = check();
    expect(await c.target('_acme-challenge.a.test.zone')).to.equal('x.delegated.zone');
    expect(await c.target('_acme-challenge.two.test.zone')).to.equal('y.delegated.zone');
    expect(await c.target('_acme-challenge.plain.test.zone')).to.equal('_acme-challenge.plain.test.zone');
    await provider.present('x.delegated.zone', 'delegated-value');
    expect(bind.txt('x.delegated.zone')).to.deep.equal(['delegated-value']);
    await c.wait('x.delegated.zone', 'delegated-value');
    await provider.cleanup('x.delegated.zone', 'delegated-value');
    expect(bind.txt('x.delegated.zone')).to.deep.equal([]);
  });

  it('a CNAME loop is an error, not a hang', async () => {
    const err = await rejection(check().target('_acme-challenge.loop.test.zone'));
    expect(err.message).to.include('loops');
  });

  it('the default resolver is the first nameserver of resolv.conf', () => {
    const dir = tempDir('gh-resolv-');
    fs.writeFileSync(path.join(dir, 'resolv.conf'), '# comment\nsearch example\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n');
    expect(systemResolver(path.join(dir, 'resolv.conf'))).to.deep.equal({ host: '192.0.2.53', port: 53 });
    fs.writeFileSync(path.join(dir, 'empty.conf'), 'search example\n');
    expect(() => systemResolver(path.join(dir, 'empty.conf'))).to.throw(/no nameserver/);
  });
});
