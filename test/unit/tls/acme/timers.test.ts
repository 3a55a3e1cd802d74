// Per-certificate timers of the proxy (src/tls/acme/record.ts, timer.ts): a renewal at the due time with
// no check running, waits beyond Node's setTimeout limit, one log line per state change, and a failure
// recorded by another process followed without resetting the back-off.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { AcmeCertStore, type NameState } from '../../../../src/tls/acme/cert-store.js';
import { AcmeOrderError } from '../../../../src/tls/acme/errors.js';
import type { AcmeIssuer, IssuedCert } from '../../../../src/tls/acme/issuer.js';
import { AcmeManager } from '../../../../src/tls/acme/manager.js';
import { Obtainer } from '../../../../src/tls/acme/obtain.js';
import { AtTimer, MAX_TIMEOUT_MS } from '../../../../src/tls/acme/timer.js';
import { leaf, MemoryStorage, recordingLogger } from './helpers.js';

const DAY = 86_400_000;
const KNOBS = { checkIntervalMs: 600_000, syncIntervalMs: 60_000, pollMinMs: 250 };

/** An issuer making leaves of `lifetimeMs` locally; `fail` makes orders fail with the CA unreachable. */
function fakeIssuer(storage: MemoryStorage, lifetimeMs: number, clock: () => number = Date.now) {
  const state = { fail: false, orders: 0 };
  const issuer = {
    key: 'ca.test-dir',
    directory: 'https://ca.test/dir',
    keyType: 'ecdsa-p256',
    storage,
    renewalInfoUrl: async () => undefined,
    async issue(names: readonly string[]): Promise<IssuedCert> {
      state.orders++;
      if (state.fail) throw new AcmeOrderError(null, 'cannot reach the ACME server https://ca.test (ECONNREFUSED)', 'check the network');
      const p = leaf([...names], new Date(clock() - 1000), new Date(clock() + lifetimeMs));
      return { certPem: p.certPem, keyPem: p.keyPem, challenge: 'http-01', ms: 1 };
    },
  };
  return { issuer: issuer as unknown as AcmeIssuer, state };
}

async function until(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('per-certificate renewal timers', function () {
  this.timeout(20_000);

  it('AtTimer chains waits longer than setTimeout allows (24.8 days) and fires once at the time', () => {
    const real = globalThis.setTimeout;
    const asked: number[] = [];
    const pending: Array<() => void> = [];
    let clock = 0;
    globalThis.setTimeout = ((fn: () => void, ms: number) => {
      asked.push(ms);
      pending.push(fn);
      return { unref() {} } as unknown as NodeJS.Timeout;
    }) as unknown as typeof setTimeout;
    try {
      let fired = 0;
      const t = new AtTimer(() => fired++, () => clock);
      t.set(60 * DAY);
      clock = MAX_TIMEOUT_MS;
      pending.shift()!();
      clock = 2 * MAX_TIMEOUT_MS;
      pending.shift()!();
      expect(fired).to.equal(0);
      clock = 60 * DAY;
      pending.shift()!();
      expect(fired).to.equal(1);
      expect(asked).to.deep.equal([MAX_TIMEOUT_MS, MAX_TIMEOUT_MS, 60 * DAY - 2 * MAX_TIMEOUT_MS]);
    } finally {
      globalThis.setTimeout = real;
    }
  });

  it('renews at the due time by its own timer, with no check running and the default 10-minute check interval', async () => {
    const storage = new MemoryStorage();
    const { issuer, state } = fakeIssuer(storage, 90 * DAY);
    const store = new AcmeCertStore(storage, issuer.key);
    // 4 s certificate: due at half-life (less at most 40 ms of jitter); X.509 times are whole seconds.
    const p = leaf(['t.test'], new Date(Date.now()), new Date(Date.now() + 4000));
    const x = new X509Certificate(p.certPem);
    const due = (Date.parse(x.validFrom) + Date.parse(x.validTo)) / 2;
    await store.save('t.test', p, { names: ['t.test'], issuerKey: issuer.key, directory: issuer.directory, serial: p.serial, fingerprint256: p.fingerprint256, notBefore: '', notAfter: '', issuedAt: '', keyType: 'ecdsa-p256' });
    const served: string[] = [];
    const manager = new AcmeManager({ config: { directory: issuer.directory, challenges: ['http-01'], key: 'ecdsa-p256' }, issuer, sink: { replaceEntry: (_n, e) => void served.push((e as unknown as { serial: string }).serial) }, logger: recordingLogger(), knobs: KNOBS });
    await manager.setNames([['t.test']]);
    manager.start();
    try {
      await until('the renewal', () => served.length === 2);
      expect(state.orders).to.equal(1);
      expect(Date.now() - due).to.be.within(-40, 500);
      // The new 90-day certificate is due in 60 days: a chained timer, set for that time.
      expect(manager.wakeTime('t.test')! - Date.now()).to.be.within(59 * DAY, 61 * DAY);
    } finally {
      manager.close();
    }
  });

  it('logs failing, then expired, then working again: once per change, not per attempt', async () => {
    let clock = Date.UTC(2030, 0, 1);
    const storage = new MemoryStorage();
    const { issuer, state } = fakeIssuer(storage, 90_000, () => clock);
    const store = new AcmeCertStore(storage, issuer.key);
    const p = leaf(['f.test'], new Date(clock - 45_000), new Date(clock + 45_000)); // 90 s, at half-life now
    await store.save('f.test', p, { names: ['f.test'], issuerKey: issuer.key, directory: issuer.directory, serial: p.serial, fingerprint256: p.fingerprint256, notBefore: '', notAfter: '', issuedAt: '', keyType: 'ecdsa-p256' });
    const logger = recordingLogger();
    const manager = new AcmeManager({ config: { directory: issuer.directory, challenges: ['http-01'], key: 'ecdsa-p256' }, issuer, sink: { replaceEntry: () => undefined }, logger, knobs: KNOBS, now: () => clock, random: () => 0 });
    await manager.setNames([['f.test']]);
    state.fail = true;
    manager.start();
    const errors = () => logger.lines.filter((l) => l.level === 'error').map((l) => l.message);
    try {
      await until('the first failure', () => errors().length === 1);
      expect(errors()[0]).to.match(/^could not renew a certificate for f\.test: cannot reach the ACME server/);
      // Seven attempts before notAfter (schedule.ts caps the back-off by the time left), the 8th after it.
      for (let i = 2; i <= 8; i++) {
        clock = Date.parse((await store.loadState('f.test'))!.nextAttempt!);
        manager.check();
        await until(`attempt ${i}`, () => state.orders === i);
        await until(`state ${i}`, () => logger.lines.filter((l) => l.level === 'debug').length === i - 1 || errors().length === 2);
      }
      const status = errors();
      expect(status).to.have.length(2);
      expect(status[1]).to.match(/^the certificate for f\.test expired at .*; it keeps serving until a renewal succeeds/);
      state.fail = false;
      clock = Date.parse((await store.loadState('f.test'))!.nextAttempt!);
      manager.check();
      await until('the recovery', () => logger.lines.some((l) => /works again/.test(l.message)));
      expect(errors()).to.have.length(2);
      expect(logger.lines.find((l) => l.message === 'certificate renewed')?.meta).to.include({ afterFailures: 8 });
      expect(await store.loadState('f.test')).to.include({ failures: 0, lastError: null });
    } finally {
      manager.close();
    }
  });

  it('follows a failure another process recorded: retries at its next attempt although not due, without resetting a longer back-off', async () => {
    let clock = Date.UTC(2030, 0, 1);
    const storage = new MemoryStorage();
    const { issuer, state } = fakeIssuer(storage, 90 * DAY, () => clock);
    const store = new AcmeCertStore(storage, issuer.key);
    const p = leaf(['o.test'], new Date(clock - DAY), new Date(clock + 89 * DAY)); // due in 59 days
    await store.save('o.test', p, { names: ['o.test'], issuerKey: issuer.key, directory: issuer.directory, serial: p.serial, fingerprint256: p.fingerprint256, notBefore: '', notAfter: '', issuedAt: '', keyType: 'ecdsa-p256' });
    const logger = recordingLogger();
    const manager = new AcmeManager({ config: { directory: issuer.directory, challenges: ['http-01'], key: 'ecdsa-p256' }, issuer, sink: { replaceEntry: () => undefined }, logger, knobs: KNOBS, now: () => clock, random: () => 0 });
    await manager.setNames([['o.test']]);
    manager.start();
    try {
      // `gatehouse renew --force` in another process, with the CA down: recorded under the lock.
      const other = new Obtainer(issuer, new AcmeCertStore(storage, issuer.key), recordingLogger(), () => clock);
      state.fail = true;
      await other.obtain(['o.test'], { force: true }).catch(() => undefined);
      const recorded = (await store.loadState('o.test'))!;
      expect(recorded).to.include({ failures: 1 });
      expect(Date.parse(recorded.nextAttempt!) - clock).to.equal(60_000);
      await manager.sync();
      expect(manager.wakeTime('o.test')).to.equal(clock + 60_000);
      expect(logger.lines.filter((l) => l.level === 'error').map((l) => l.message)).to.deep.equal(['another process could not renew the certificate for o.test: cannot reach the ACME server https://ca.test (ECONNREFUSED)']);

      // A second forced failure never brings a recorded next attempt closer (state written as a proxy in
      // back-off would have it: 3 failures, next in 100 minutes).
      const backoff: NameState = { ...recorded, failures: 3, nextAttempt: new Date(clock + 100 * 60_000).toISOString() };
      await store.saveState('o.test', backoff);
      await other.obtain(['o.test'], { force: true }).catch(() => undefined);
      const after = (await store.loadState('o.test'))!;
      expect(after.failures).to.equal(4);
      expect(Date.parse(after.nextAttempt!)).to.be.at.least(clock + 100 * 60_000);
      await manager.sync();
      expect(manager.wakeTime('o.test')).to.equal(Date.parse(after.nextAttempt!));

      // At that time the proxy retries by itself; the CA is back; the success clears the state.
      state.fail = false;
      const orders = state.orders;
      clock = Date.parse(after.nextAttempt!);
      manager.check();
      await until('the retry', () => logger.lines.some((l) => l.message === 'certificate renewed'));
      expect(state.orders).to.equal(orders + 1);
      expect(await store.loadState('o.test')).to.include({ failures: 0, lastError: null, nextAttempt: null });
    } finally {
      manager.close();
    }
  });
});
