import { expect } from 'chai';
import { mkdtemp, rm, stat, mkdir, chmod, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../../src/storage/file-storage.js';
import { StorageNotFoundError } from '../../../src/storage/types.js';
import { storageConformance } from './conformance.js';
import { killHard, startChild } from './fixtures/child.js';

const LEASE = { leaseMs: 600, heartbeatMs: 100, pollMs: 20 };

async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'gatehouse-storage-'));
}

storageConformance('FileStorage', async () => {
  const root = await tempRoot();
  return {
    storage: new FileStorage(root, LEASE),
    peer: async () => new FileStorage(root, LEASE),
    abandonLock: async (name) => {
      const child = await startChild(['lock', root, name, String(LEASE.leaseMs), String(LEASE.heartbeatMs)], 'locked');
      await killHard(child);
    },
    leaseMs: LEASE.leaseMs,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('FileStorage (file-specific)', function () {
  this.timeout(30_000);
  let root: string;
  beforeEach(async () => {
    root = join(await tempRoot(), 'certs');
  });
  afterEach(async () => {
    await rm(join(root, '..'), { recursive: true, force: true });
  });

  it('creates folders 0700, secret values 0600 and public values 0644', async () => {
    const s = new FileStorage(root);
    await s.store('certificates/internal/a/a.key', 'k', { secret: true });
    await s.store('certificates/internal/a/a.crt', 'c');
    for (const dir of [root, join(root, 'certificates'), join(root, 'certificates/internal/a')])
      expect((await stat(dir)).mode & 0o777, dir).to.equal(0o700);
    expect((await stat(join(root, 'certificates/internal/a/a.key'))).mode & 0o777).to.equal(0o600);
    expect((await stat(join(root, 'certificates/internal/a/a.crt'))).mode & 0o777).to.equal(0o644);
  });

  it('makes an overwritten secret 0600 even if the old file was looser', async () => {
    const s = new FileStorage(root);
    await s.store('k.key', 'public first');
    await s.store('k.key', 'now secret', { secret: true });
    expect((await stat(join(root, 'k.key'))).mode & 0o777).to.equal(0o600);
  });

  it('tightens an existing root folder to 0700', async () => {
    await mkdir(root, { mode: 0o755 });
    await chmod(root, 0o755);
    await new FileStorage(root).store('x', 'y');
    expect((await stat(root)).mode & 0o777).to.equal(0o700);
  });

  it('keeps locks out of the key space', async () => {
    const s = new FileStorage(root, LEASE);
    const unlock = await s.lock('issue/acme/example.com');
    await s.store('a', 'b');
    expect(await s.list('')).to.deep.equal(['a']);
    await unlock();
    const err = await s.store('locks/x', 'y').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(Error);
  });

  it('never lists or loads temporary files left in its folders', async () => {
    const s = new FileStorage(root);
    await s.store('dir/k', 'v');
    await writeFile(join(root, 'dir', '.k.abc123.tmp'), 'partial');
    expect(await s.list('')).to.deep.equal(['dir/k']);
    const err = await s.load('dir/.k.abc123.tmp').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(Error).and.not.instanceOf(StorageNotFoundError);
  });

  it('a crash mid-write leaves no torn file', async () => {
    // Several writers at once, each killed at its own random moment: a non-atomic write is caught
    // mid-way in a good share of them, so this fails reliably against one.
    const size = 4 * 1024 * 1024;
    const writers = 8;
    const s = new FileStorage(root);
    const keys = Array.from({ length: writers }, (_, i) => `certificates/internal/big${i}/big${i}.key`);
    for (const key of keys) await s.store(key, Buffer.alloc(size, 'z'), { secret: true });
    await Promise.all(
      keys.map(async (key) => {
        const child = await startChild(['write', root, key, String(size)], 'ready');
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 200));
        await killHard(child);
      }),
    );
    for (const key of keys) {
      const got = await s.load(key);
      expect(got.length, `length of ${key} after the crash`).to.equal(size);
      const first = got[0]!;
      expect([0x7a, 0x41, 0x42, 0x43], 'a value that was written').to.include(first);
      expect(got.every((b) => b === first), 'every byte from the same value').to.equal(true);
    }
    // kill -9 may leave temporary files behind (they start with a dot); list never shows them.
    expect(await s.list('certificates')).to.deep.equal([...keys].sort());
  });

  it('watch: another process\'s store of the key is heard at once through fs.watch, and only that key', async () => {
    const watcher = new FileStorage(root);
    const writer = new FileStorage(root); // another process: its own instance on the same folder
    await writer.store('acme/ca/changed', 'one');
    const heard: number[] = [];
    const stop = watcher.watch('acme/ca/changed', () => heard.push(Date.now()));
    await new Promise((r) => setTimeout(r, 100));
    await writer.store('acme/ca/other', 'x'); // same folder, another key: not reported
    await writer.store('acme/ca/state/a.json', 'x');
    await new Promise((r) => setTimeout(r, 300));
    expect(heard).to.have.length(0);
    const t = Date.now();
    await writer.store('acme/ca/changed', 'two');
    while (heard.length === 0 && Date.now() - t < 1500) await new Promise((r) => setTimeout(r, 5));
    expect(heard, 'one notice, well before the 2 s poll').to.have.length(1);
    expect(heard[0]! - t).to.be.below(1000);
    console.log(`      fs.watch notice ${heard[0]! - t} ms after the store`);
    await new Promise((r) => setTimeout(r, 2500)); // the poll must not report the same change again
    expect(heard).to.have.length(1);
    stop();
    await writer.store('acme/ca/changed', 'three');
    await new Promise((r) => setTimeout(r, 300));
    expect(heard).to.have.length(1);
  });

  it('watch: a folder that does not exist yet is polled (every 2 s), then watched once it appears', async () => {
    const s = new FileStorage(root);
    const heard: number[] = [];
    const stop = s.watch('acme/late/changed', () => heard.push(Date.now()));
    try {
      await new Promise((r) => setTimeout(r, 100));
      const t = Date.now();
      await s.store('acme/late/changed', 'first'); // the folder is created by this store
      while (heard.length === 0 && Date.now() - t < 5000) await new Promise((r) => setTimeout(r, 20));
      expect(heard, 'found by the stat poll').to.have.length(1);
      expect(heard[0]! - t).to.be.below(3000);
      const t2 = Date.now();
      await s.store('acme/late/changed', 'second');
      while (heard.length === 1 && Date.now() - t2 < 1500) await new Promise((r) => setTimeout(r, 5));
      expect(heard[1]! - t2, 'now through fs.watch').to.be.below(1000);
    } finally {
      stop();
    }
  });
});
