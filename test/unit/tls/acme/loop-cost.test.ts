// The cost of the renewal timers' safety-net check with 1,000 managed certificates (issue #3, "Speed"): one check must stay
// under 50 ms of CPU. Certificates come from a throwaway CA into an in-memory storage; the clock is fake,
// so nothing is due and no CA is contacted — what is measured is the check itself.
import { expect } from 'chai';
import v8 from 'node:v8';
import vm from 'node:vm';
import { AcmeCertStore } from '../../../../src/tls/acme/cert-store.js';
import type { AcmeIssuer } from '../../../../src/tls/acme/issuer.js';
import { AcmeManager } from '../../../../src/tls/acme/manager.js';
import type { CertEntry } from '../../../../src/tls/types.js';
import { leaf, MemoryStorage, recordingLogger } from './helpers.js';

const DAY = 86_400_000;
const N = 1000;

// A real gc() for the memory numbers, without a node flag on the mocha command line.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function cpuMs(fn: () => void, times: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < times; i++) fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / times;
}

describe('renewal loop cost with 1,000 certificates', function () {
  this.timeout(120_000);

  it('one check costs well under 50 ms of CPU; the storage sync is one read while nothing changed', async () => {
    const storage = new MemoryStorage();
    const issuerKey = 'ca.test-dir';
    const store = new AcmeCertStore(storage, issuerKey);
    const now = Date.now();
    const names: string[][] = [];
    const made = Date.now();
    // One wildcard leaf stored under 1,000 names (making 1,000 distinct leaves only slows the test down:
    // every record still parses its own copy and gets its own TLS context).
    const p = leaf(['*.example.com'], new Date(now - 10 * DAY), new Date(now + 80 * DAY));
    for (let i = 0; i < N; i++) {
      const set = [`site${i}.example.com`];
      await store.save(set[0]!, p, { names: set, issuerKey, directory: 'https://ca.test/dir', serial: p.serial, fingerprint256: p.fingerprint256, notBefore: '', notAfter: '', issuedAt: '', keyType: 'ecdsa-p256' });
      names.push(set);
    }
    const makeMs = Date.now() - made;
    const issuer = { key: issuerKey, directory: 'https://ca.test/dir', keyType: 'ecdsa-p256', storage, renewalInfoUrl: async () => undefined, issue: async () => { throw new Error('no CA in this test'); } } as unknown as AcmeIssuer;
    let served = 0;
    const sink = { replaceEntry: (_n: readonly string[], _e: CertEntry) => void served++ };
    let clock = now;
    gc();
    const heapBefore = process.memoryUsage();
    const manager = new AcmeManager({
      config: { directory: 'https://ca.test/dir', challenges: ['http-01'], key: 'ecdsa-p256' },
      issuer,
      sink,
      logger: recordingLogger(),
      knobs: { checkIntervalMs: 600_000, syncIntervalMs: 60_000, pollMinMs: 250 },
      now: () => clock,
    });
    const loadStart = process.cpuUsage();
    const loadWall = Date.now();
    await manager.setNames(names);
    const loadCpu = process.cpuUsage(loadStart);
    const loadWallMs = Date.now() - loadWall;
    gc();
    const heapAfter = process.memoryUsage();
    expect(manager.size).to.equal(N);
    expect(served).to.equal(N);

    // Timers are set (one per certificate, chained past Node's 24.8-day limit); nothing is due (a third
    // of 90 days is left at day 60), so a check of the safety net starts nothing.
    manager.start();
    expect(manager.check()).to.equal(0);
    const checkMs = cpuMs(() => manager.check(), 200);
    expect(checkMs).to.be.below(50);

    const reads = { before: 0 };
    const load = storage.load.bind(storage);
    storage.load = async (k: string) => {
      reads.before++;
      return load(k);
    };
    const syncStart = process.cpuUsage();
    await manager.sync();
    const syncUnchangedMs = (process.cpuUsage(syncStart).user + process.cpuUsage(syncStart).system) / 1000;
    expect(reads.before).to.equal(1);

    // Another process stored something: a full re-read of the 1,000 (stored certificates are unchanged).
    await storage.store(`acme/${issuerKey}/changed`, 'other');
    const fullStart = process.cpuUsage();
    const fullWall = Date.now();
    await manager.sync();
    const fullCpu = process.cpuUsage(fullStart);

    clock = now + 61 * DAY; // all due now; the check hands them to the (failing) issuer, 4 at a time
    expect(manager.check()).to.equal(N);
    manager.close();

    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    console.log(
      [
        `      ${N} certificates: made in ${makeMs} ms (test setup)`,
        `      load from storage at start: ${((loadCpu.user + loadCpu.system) / 1000).toFixed(0)} ms CPU, ${loadWallMs} ms wall`,
        `      memory for ${N} managed certificates: heap +${mb(heapAfter.heapUsed - heapBefore.heapUsed)} MB, rss +${mb(heapAfter.rss - heapBefore.rss)} MB, external +${mb(heapAfter.external - heapBefore.external)} MB`,
        `      one renewal-loop check: ${checkMs.toFixed(3)} ms CPU`,
        `      storage sync, nothing changed: ${syncUnchangedMs.toFixed(2)} ms CPU, 1 read`,
        `      storage sync after a change: ${((fullCpu.user + fullCpu.system) / 1000).toFixed(0)} ms CPU, ${Date.now() - fullWall} ms wall`,
      ].join('\n'),
    );
  });
});
