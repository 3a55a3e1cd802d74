// The shared Storage suite: every implementation (file, redis) runs it, as hono's routers all run one
// common case file. It checks the contract in src/storage/types.ts, not any one layout.
import { expect } from 'chai';
import { StorageNotFoundError, type Storage, type Unlock } from '../../../src/storage/types.js';

export interface StorageFixture {
  storage: Storage;
  /** A second, independent instance over the same backing store (another process, in effect). */
  peer(): Promise<Storage>;
  /**
   * Takes lock `name` from a process that then dies without unlocking (kill -9), so its lease
   * can only end by expiring. Resolves once that process is dead.
   */
  abandonLock(name: string): Promise<void>;
  /** The lease the fixture's storages use (kept short for tests). */
  leaseMs: number;
  cleanup(): Promise<void>;
}

export function storageConformance(name: string, make: () => Promise<StorageFixture>): void {
  describe(`Storage conformance: ${name}`, function () {
    this.timeout(20_000);
    let fx: StorageFixture;
    let s: Storage;
    const extra: Storage[] = [];

    beforeEach(async () => {
      fx = await make();
      s = fx.storage;
    });
    afterEach(async () => {
      for (const other of extra.splice(0)) await other.close();
      await s.close();
      await fx.cleanup();
    });
    async function peer(): Promise<Storage> {
      const p = await fx.peer();
      extra.push(p);
      return p;
    }

    describe('values', () => {
      it('load of a missing key throws StorageNotFoundError naming the key', async () => {
        const err = await s.load('certificates/x/missing.crt').then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).to.be.instanceOf(StorageNotFoundError);
        expect((err as StorageNotFoundError).key).to.equal('certificates/x/missing.crt');
        expect((err as StorageNotFoundError).code).to.equal('ENOTFOUND_KEY');
      });

      it('stores and loads bytes exactly, and strings as UTF-8', async () => {
        const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
        await s.store('a/bin', bytes);
        await s.store('a/text', 'héllo ✓');
        expect(Buffer.compare(await s.load('a/bin'), Buffer.from(bytes))).to.equal(0);
        expect((await s.load('a/text')).toString('utf8')).to.equal('héllo ✓');
      });

      it('stores an empty value', async () => {
        await s.store('a/empty', '');
        expect((await s.load('a/empty')).length).to.equal(0);
        expect(await s.exists('a/empty')).to.equal(true);
      });

      it('overwrites a value', async () => {
        await s.store('k', 'one');
        await s.store('k', 'two', { secret: true });
        expect((await s.load('k')).toString()).to.equal('two');
      });

      it('exists tells keys apart from missing keys and from folder-like prefixes', async () => {
        await s.store('certificates/internal/a/a.crt', 'x');
        expect(await s.exists('certificates/internal/a/a.crt')).to.equal(true);
        expect(await s.exists('certificates/internal/a/a.key')).to.equal(false);
        expect(await s.exists('certificates/internal/a')).to.equal(false);
      });

      it('delete removes a key, and deleting a missing key is not an error', async () => {
        await s.store('d/k', 'v');
        await s.delete('d/k');
        expect(await s.exists('d/k')).to.equal(false);
        await s.delete('d/k');
        await s.delete('never/was');
      });

      it('a second instance sees what the first stored', async () => {
        await s.store('shared/k', 'v1');
        const p = await peer();
        expect((await p.load('shared/k')).toString()).to.equal('v1');
        await p.store('shared/k', 'v2');
        expect((await s.load('shared/k')).toString()).to.equal('v2');
      });

      it('readers during repeated overwrites see only whole values', async () => {
        const size = 256 * 1024;
        const values = ['a', 'b', 'c'].map((ch) => Buffer.alloc(size, ch));
        await s.store('big', values[0]!);
        let writing = true;
        const writer = (async () => {
          for (let i = 1; i <= 30; i++) await s.store('big', values[i % 3]!);
          writing = false;
        })();
        let reads = 0;
        while (writing) {
          const got = await s.load('big');
          expect(got.length, 'length of a value read during overwrites').to.equal(size);
          expect(values.some((v) => v.equals(got)), 'a value read during overwrites is one that was written').to.equal(true);
          reads++;
        }
        await writer;
        expect(reads).to.be.greaterThan(0);
      });

      it('rejects keys that are absolute, climb out, or have empty segments', async () => {
        for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a//b', 'a/', './a', 'a/./b']) {
          const err = await s.store(bad, 'x').then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err, `store(${JSON.stringify(bad)})`).to.be.instanceOf(Error);
          expect(err).to.not.be.instanceOf(StorageNotFoundError);
        }
        const loadErr = await s.load('../x').then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(loadErr).to.be.instanceOf(Error).and.not.instanceOf(StorageNotFoundError);
      });
    });

    describe('list', () => {
      beforeEach(async () => {
        for (const k of ['certificates/b/b.crt', 'certificates/a/a.key', 'certificates/a/a.crt', 'certs2/x', 'top'])
          await s.store(k, k);
      });

      it('lists keys under a prefix recursively, sorted, with or without a trailing slash', async () => {
        const expected = ['certificates/a/a.crt', 'certificates/a/a.key', 'certificates/b/b.crt'];
        expect(await s.list('certificates')).to.deep.equal(expected);
        expect(await s.list('certificates/')).to.deep.equal(expected);
        expect(await s.list('certificates/a')).to.deep.equal(['certificates/a/a.crt', 'certificates/a/a.key']);
      });

      it('treats the prefix as a folder, not a string prefix', async () => {
        expect(await s.list('cert')).to.deep.equal([]);
        expect(await s.list('certificates/a/a')).to.deep.equal([]);
      });

      it('lists everything for an empty prefix, and nothing for an unknown one', async () => {
        expect(await s.list('')).to.deep.equal([
          'certificates/a/a.crt',
          'certificates/a/a.key',
          'certificates/b/b.crt',
          'certs2/x',
          'top',
        ]);
        expect(await s.list('nothing/here')).to.deep.equal([]);
      });

      it('no longer lists a deleted key', async () => {
        await s.delete('certificates/a/a.key');
        expect(await s.list('certificates/a')).to.deep.equal(['certificates/a/a.crt']);
      });
    });

    describe('lock', () => {
      const pending = <T>(p: Promise<T>) => {
        const state = { settled: false, value: undefined as T | undefined };
        void p.then((v) => {
          state.settled = true;
          state.value = v;
        }, () => {
          state.settled = true;
        });
        return state;
      };
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

      it('a second instance waits while the lock is held, and gets it after unlock', async () => {
        const p = await peer();
        const unlockA = await s.lock('issue/acme/example.com');
        const b = pending(p.lock('issue/acme/example.com'));
        await sleep(fx.leaseMs / 2);
        expect(b.settled, 'second locker acquired while the first held the lock').to.equal(false);
        await unlockA();
        const deadline = Date.now() + fx.leaseMs;
        while (!b.settled && Date.now() < deadline) await sleep(10);
        expect(b.settled, 'second locker acquired after unlock').to.equal(true);
        await b.value!();
      });

      it('different names do not block each other', async () => {
        const u1 = await s.lock('one');
        const u2 = await (await peer()).lock('two');
        await u1();
        await u2();
      });

      it('never lets two holders into the critical section at once', async () => {
        const p = await peer();
        let inside = 0;
        let maxInside = 0;
        const worker = async (st: Storage) => {
          const unlock = await st.lock('critical');
          inside++;
          maxInside = Math.max(maxInside, inside);
          await sleep(5);
          inside--;
          await unlock();
        };
        await Promise.all([s, p, s, p, s, p].map(worker));
        expect(maxInside).to.equal(1);
      });

      it('a live holder keeps the lock past its lease by heartbeat', async () => {
        const p = await peer();
        const unlock = await s.lock('long');
        const ac = new AbortController();
        const attempt = p.lock('long', ac.signal);
        await sleep(fx.leaseMs * 2.5);
        ac.abort(new Error('gave up'));
        const err = await attempt.then(
          (u) => (void u(), undefined),
          (e: unknown) => e,
        );
        expect(err, 'a heartbeating lock was broken').to.be.instanceOf(Error);
        await unlock();
      });

      it('a lock left by a dead holder expires and is taken', async () => {
        await fx.abandonLock('orphan');
        const started = Date.now();
        const unlock = await s.lock('orphan');
        expect(Date.now() - started).to.be.lessThan(fx.leaseMs * 3);
        await unlock();
      });

      it('rejects with the signal reason when aborted while waiting, and leaves the lock usable', async () => {
        const p = await peer();
        const unlock = await s.lock('wait');
        const ac = new AbortController();
        const reason = new Error('shutting down');
        const attempt = p.lock('wait', ac.signal);
        setTimeout(() => ac.abort(reason), 50);
        const err = await attempt.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).to.equal(reason);
        await unlock();
        const again = await p.lock('wait');
        await again();
      });

      it('rejects at once for an already-aborted signal', async () => {
        const reason = new Error('already');
        const err = await s.lock('x', AbortSignal.abort(reason)).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).to.equal(reason);
      });

      it('unlock is idempotent and frees the name for the same instance', async () => {
        const u: Unlock = await s.lock('again');
        await u();
        await u();
        const u2 = await s.lock('again');
        await u2();
      });

      it('close releases the locks still held', async () => {
        const p = await peer();
        await s.lock('held-at-close');
        await s.close();
        const u = await p.lock('held-at-close');
        await u();
      });
    });
  });
}
