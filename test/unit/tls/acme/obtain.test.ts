import { expect } from 'chai';
import { AcmeCertStore } from '../../../../src/tls/acme/cert-store.js';
import { AcmeOrderError } from '../../../../src/tls/acme/errors.js';
import type { AcmeIssuer, IssuedCert } from '../../../../src/tls/acme/issuer.js';
import { ObtainError, Obtainer } from '../../../../src/tls/acme/obtain.js';
import { leaf, MemoryStorage, recordingLogger } from './helpers.js';

const DAY = 86_400_000;

/** An issuer that makes leaves locally, counting orders; `fail` makes the next orders fail. */
function fakeIssuer(storage: MemoryStorage) {
  const calls: Array<{ names: readonly string[]; replaces?: string }> = [];
  const state = { fail: undefined as AcmeOrderError | undefined, delayMs: 20, ari: undefined as string | undefined };
  const issuer = {
    key: 'ca.test-dir',
    directory: 'https://ca.test/dir',
    keyType: 'ecdsa-p256',
    storage,
    renewalInfoUrl: async () => state.ari,
    async issue(names: readonly string[], o: { replaces?: string } = {}): Promise<IssuedCert> {
      calls.push({ names, ...(o.replaces ? { replaces: o.replaces } : {}) });
      await new Promise((r) => setTimeout(r, state.delayMs));
      if (state.fail) throw state.fail;
      const p = leaf([...names], new Date(Date.now() - 1000), new Date(Date.now() + 90 * DAY));
      return { certPem: p.certPem, keyPem: p.keyPem, challenge: 'http-01', ms: state.delayMs };
    },
  };
  return { issuer: issuer as unknown as AcmeIssuer, calls, state };
}

describe('obtaining a certificate (single-flight → lock → look again → order)', () => {
  it('orders once for concurrent callers in one process and across two processes sharing the storage', async () => {
    const storage = new MemoryStorage();
    const { issuer, calls } = fakeIssuer(storage);
    const a = new Obtainer(issuer, new AcmeCertStore(storage, issuer.key), recordingLogger());
    const b = new Obtainer(issuer, new AcmeCertStore(storage, issuer.key), recordingLogger()); // "another process"
    const results = await Promise.all([a.obtain(['x.test']), a.obtain(['x.test']), b.obtain(['x.test'])]);
    expect(calls).to.have.length(1);
    expect(results.map((r) => r.kind).sort()).to.deep.equal(['issued', 'issued', 'stored']);
    const fps = new Set(results.map((r) => (r.kind === 'backoff' ? '' : r.pair.certPem)));
    expect(fps.size).to.equal(1);
  });

  it('a renewal takes a certificate someone else stored meanwhile instead of ordering again', async () => {
    const storage = new MemoryStorage();
    const { issuer, calls } = fakeIssuer(storage);
    const o = new Obtainer(issuer, new AcmeCertStore(storage, issuer.key), recordingLogger());
    const first = await o.obtain(['y.test']);
    const fp = first.kind === 'issued' ? first.pair.meta.fingerprint256 : '';
    await o.obtain(['y.test'], { replacing: fp }); // due: orders
    expect(calls).to.have.length(2);
    const again = await o.obtain(['y.test'], { replacing: fp }); // a stale caller: the stored one is newer
    expect(again.kind).to.equal('stored');
    expect(calls).to.have.length(2);
  });

  it('records a failure with back-off for `gatehouse certs`, and a success clears it', async () => {
    const storage = new MemoryStorage();
    const { issuer, state } = fakeIssuer(storage);
    const store = new AcmeCertStore(storage, issuer.key);
    const o = new Obtainer(issuer, store, recordingLogger());
    state.fail = new AcmeOrderError('http-01', 'Connection refused', 'check DNS', 'urn:ietf:params:acme:error:connection');
    const t = Date.now();
    for (const expected of [60_000, 600_000]) {
      const err = await o.obtain(['z.test']).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ObtainError);
      const s = await store.loadState('z.test');
      expect(s!.lastError).to.include({ challenge: 'http-01', detail: 'Connection refused', hint: 'check DNS' });
      expect(Date.parse(s!.nextAttempt!) - t).to.be.within(expected - 50, expected + 1000);
    }
    // The proxy loop respects a back-off another process recorded.
    expect((await o.obtain(['z.test'], { respectBackoff: true })).kind).to.equal('backoff');
    state.fail = undefined;
    expect((await o.obtain(['z.test'])).kind).to.equal('issued');
    expect(await store.loadState('z.test')).to.include({ lastError: null, nextAttempt: null, failures: 0 });
  });

  it('sends `replaces` with the old certificate\'s ARI CertID when the CA offers ARI', async () => {
    const storage = new MemoryStorage();
    const { issuer, calls, state } = fakeIssuer(storage);
    const o = new Obtainer(issuer, new AcmeCertStore(storage, issuer.key), recordingLogger());
    const first = await o.obtain(['r.test']);
    const fp = first.kind === 'issued' ? first.pair.meta.fingerprint256 : '';
    await o.obtain(['r.test'], { replacing: fp, useAri: true });
    expect(calls[1]).to.not.have.property('replaces'); // no renewalInfo in the directory
    state.ari = 'https://ca.test/ari';
    const second = await o.obtain(['r.test'], { force: true, useAri: true });
    expect(second.kind).to.equal('issued');
    expect(calls[2]!.replaces).to.match(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('fail(): records an attempt that never reached an order (CA unreachable) under the lock, and gives up on a held lock', async () => {
    const storage = new MemoryStorage();
    const { issuer } = fakeIssuer(storage);
    const store = new AcmeCertStore(storage, issuer.key);
    const o = new Obtainer(issuer, store, recordingLogger());
    await o.obtain(['u.test']);
    const marker = await store.changedMarker();
    const err = await o.fail(['u.test'], new Error('cannot reach the ACME server https://ca.test (ECONNREFUSED)'));
    expect(err).to.be.instanceOf(ObtainError);
    const s = await store.loadState('u.test');
    expect(s).to.include({ failures: 1 });
    expect(s!.lastError).to.include({ challenge: null, detail: 'cannot reach the ACME server https://ca.test (ECONNREFUSED)' });
    expect(await store.changedMarker(), 'announced to running proxies').to.not.equal(marker);
    const unlock = await storage.lock('issue/ca.test-dir/u.test');
    const held = await o.fail(['u.test'], new Error('down'), AbortSignal.timeout(50)).then(
      () => undefined,
      (e: unknown) => e,
    );
    await unlock();
    expect(held).to.be.instanceOf(Error);
    expect((await store.loadState('u.test'))!.failures).to.equal(1);
  });
});
