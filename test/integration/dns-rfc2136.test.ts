// The RFC 2136 provider against a real BIND 9.18: TSIG-signed updates (hmac-sha256 and hmac-sha512) that
// BIND verifies, TXT values checked with dig, the RCODEs and TSIG errors BIND gives turned into errors that
// say what to fix, name the key and never contain its secret.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { Rfc2136Provider } from '../../src/tls/acme/dns/rfc2136.js';
import { exchangeTcp, randomId } from '../../src/tls/acme/dns/transport.js';
import { signRequest, verifyResponse } from '../../src/tls/acme/dns/tsig.js';
import { startBind9, type Bind9 } from '../helpers/bind9.js';
import { rejection } from '../helpers/rejection.js';


describe('DNS-01 RFC 2136 provider against BIND (integration)', function () {
  this.timeout(30_000);
  let bind: Bind9;

  before(async () => {
    bind = await startBind9({
      zones: [{ name: 'test.zone' }],
      keys: [{ name: 'gh-sha256', algorithm: 'hmac-sha256' }, { name: 'gh-sha512', algorithm: 'hmac-sha512' }],
    });
  });
  after(() => bind?.stop());

  const provider = (key: string, extra: { zone?: string } = {}) =>
    new Rfc2136Provider({ server: bind.server, zone: 'test.zone', tsig: bind.keys[key], ttl: 60, timeoutMs: 5000, ...extra });

  it('present writes the TXT that dig sees; a second value at the same name coexists; cleanup removes only its own', async () => {
    const p = provider('gh-sha256');
    const name = '_acme-challenge.www.test.zone';
    await p.present(name, 'value-for-wildcard');
    expect(bind.txt(name)).to.deep.equal(['value-for-wildcard']);
    await p.present(name, 'value-for-base');
    expect(bind.txt(name)).to.deep.equal(['value-for-base', 'value-for-wildcard']);
    await p.cleanup(name, 'value-for-wildcard');
    expect(bind.txt(name)).to.deep.equal(['value-for-base']);
    await p.cleanup(name, 'value-for-base');
    expect(bind.txt(name)).to.deep.equal([]);
  });

  it('cleanup of a value that is not there succeeds and leaves the others', async () => {
    const p = provider('gh-sha256');
    const name = '_acme-challenge.absent.test.zone';
    await p.present(name, 'stays');
    await p.cleanup(name, 'never-written');
    await p.cleanup('_acme-challenge.nothing-here.test.zone', 'never-written');
    expect(bind.txt(name)).to.deep.equal(['stays']);
  });

  it('hmac-sha512 is accepted by BIND as well (and BIND\'s signed answer verifies)', async () => {
    const p = provider('gh-sha512');
    await p.present('_acme-challenge.sha512.test.zone', 'v512');
    expect(bind.txt('_acme-challenge.sha512.test.zone')).to.deep.equal(['v512']);
    await p.cleanup('_acme-challenge.sha512.test.zone', 'v512');
    expect(bind.txt('_acme-challenge.sha512.test.zone')).to.deep.equal([]);
  });

  it('finds the zone by SOA queries when none is configured', async () => {
    const p = new Rfc2136Provider({ server: bind.server, tsig: bind.keys['gh-sha256'], ttl: 60, timeoutMs: 5000 });
    await p.present('_acme-challenge.deep.sub.test.zone', 'discovered');
    expect(bind.txt('_acme-challenge.deep.sub.test.zone')).to.deep.equal(['discovered']);
    await p.cleanup('_acme-challenge.deep.sub.test.zone', 'discovered');
  });

  it('a server given by host name (localhost, from /etc/hosts) works for discovery (UDP) and the update (TCP)', async () => {
    const p = new Rfc2136Provider({ server: { host: 'localhost', port: bind.port }, tsig: bind.keys['gh-sha256'], ttl: 60, timeoutMs: 5000 });
    await p.present('_acme-challenge.named.test.zone', 'by-name');
    expect(bind.txt('_acme-challenge.named.test.zone')).to.deep.equal(['by-name']);
    await p.cleanup('_acme-challenge.named.test.zone', 'by-name');
  });

  it('a wrong secret: an error naming the key and BADSIG, never the secret; nothing is written', async () => {
    const wrong = randomBytes(32).toString('base64');
    const p = new Rfc2136Provider({ server: bind.server, zone: 'test.zone', tsig: { name: 'gh-sha256', algorithm: 'hmac-sha256', secret: wrong }, ttl: 60, timeoutMs: 5000 });
    const err = await rejection(p.present('_acme-challenge.bad.test.zone', 'x'));
    expect(err.message).to.include('gh-sha256').and.to.include('BADSIG');
    expect(err.message).not.to.include(wrong);
    expect(err.message).not.to.include(bind.keys['gh-sha256']!.secret);
    expect(bind.txt('_acme-challenge.bad.test.zone')).to.deep.equal([]);
  });

  it('a key BIND does not know: BADKEY naming the key', async () => {
    const p = new Rfc2136Provider({ server: bind.server, zone: 'test.zone', tsig: { name: 'nobody', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') }, ttl: 60, timeoutMs: 5000 });
    const err = await rejection(p.present('_acme-challenge.bad.test.zone', 'x'));
    expect(err.message).to.include('"nobody"').and.to.include('BADKEY');
  });

  it('a request signed 10 minutes ago (a skewed clock): BIND\'s BADTIME becomes an error with the clock hint', async () => {
    // The provider signs with the real clock; the skew is made here with the same signing function.
    const key = bind.keys['gh-sha256']!;
    const id = randomId();
    const message = dnsPacket.encode({ type: 'query', id, questions: [{ name: 'test.zone', type: 'SOA', class: 'IN' }] });
    const signed = signRequest(message, key, Date.now() - 600_000);
    const answer = await exchangeTcp(bind.server, signed.wire, { id, name: 'test.zone', type: 6 }, 5000);
    expect(() => verifyResponse(answer, key, signed.mac)).to.throw(/"gh-sha256".*BADTIME.*clock/);
  });

  it('no key where BIND requires one: REFUSED with the allow-update / update-policy hint', async () => {
    const p = new Rfc2136Provider({ server: bind.server, zone: 'test.zone', ttl: 60, timeoutMs: 5000 });
    const err = await rejection(p.present('_acme-challenge.nokey.test.zone', 'x'));
    expect(err.message).to.include('REFUSED').and.to.include('allow-update / update-policy').and.to.include('test.zone');
    expect(bind.txt('_acme-challenge.nokey.test.zone')).to.deep.equal([]);
  });

  it('a zone the server does not serve: NOTAUTH with a hint to check the zone', async () => {
    const p = provider('gh-sha256', { zone: 'other.zone' });
    const err = await rejection(p.present('_acme-challenge.x.other.zone', 'x'));
    expect(err.message).to.match(/NOTAUTH|REFUSED/).and.to.include('other.zone');
  });

  it('a name outside the configured zone is refused before anything is sent', async () => {
    const err = await rejection(provider('gh-sha256').present('_acme-challenge.example.org', 'x'));
    expect(err.message).to.include('not inside the configured zone test.zone');
  });
});
