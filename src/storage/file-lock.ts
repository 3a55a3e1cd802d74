// Lease locks on a filesystem shared by every process (and, over NFS, every machine) using one storage
// folder. A lock is a small JSON file; the holder rewrites it with a later `expires` every heartbeat, so a
// holder that dies (kill -9, power loss) stops renewing and its lease runs out. Waiters break a lock whose
// lease has run out and take it (README "Several machines": a crashed holder's lock expires within 2 minutes).
//
// The design follows CertMagic's FileStorage (lock file created exclusively, kept fresh by the holder,
// removed when stale), with two changes for safety between racing waiters:
//  - the lock file is written in full to a temporary file and then hard-linked into place: link(2) fails
//    with EEXIST when the lock exists, so creation is exclusive AND nobody ever reads a half-written lock;
//  - a stale lock (and our own, on unlock) is first renamed aside under a unique name and checked there.
//    Only one racer can move a given file; if what was moved turns out to be a fresh lock that another
//    waiter took in between, it is linked back instead of deleted.
// Expiry compares the holder's clock with the reader's; machines sharing a folder need roughly synced clocks.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { Unlock } from './types.js';
import { tempPathFor, writeFileAtomic } from './fs-atomic.js';

export interface LeaseOptions {
  /** How long a lock stays valid without a heartbeat. */
  leaseMs: number;
  /** How often the holder renews its lease. Must be well under leaseMs. */
  heartbeatMs: number;
  /** Base interval between attempts while waiting (jittered ±20%). */
  pollMs: number;
}

interface LockRecord {
  owner: string;
  pid: number;
  host: string;
  acquired: string;
  expires: string;
}

type Seen = { kind: 'record'; record: LockRecord } | { kind: 'garbled'; mtimeMs: number } | { kind: 'gone' };

export class FileLocks {
  private readonly held = new Set<Unlock>();

  constructor(private readonly options: LeaseOptions) {}

  /** `path` is the lock file; its folder must be private to the storage. */
  async acquire(path: string, signal?: AbortSignal): Promise<Unlock> {
    signal?.throwIfAborted();
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const owner = randomBytes(12).toString('hex');
    const acquired = new Date().toISOString();
    for (;;) {
      if (await this.tryCreate(path, this.record(owner, acquired))) return this.hold(path, owner, acquired);
      const seen = await readLock(path);
      if (seen.kind === 'gone') continue;
      if (this.isStale(seen)) {
        await this.breakStale(path);
        continue;
      }
      await sleep(jitter(this.options.pollMs), signal);
    }
  }

  /** Releases every lock still held (storage close). */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.held].map((unlock) => unlock()));
  }

  private record(owner: string, acquired: string): LockRecord {
    return {
      owner,
      pid: process.pid,
      host: hostname(),
      acquired,
      expires: new Date(Date.now() + this.options.leaseMs).toISOString(),
    };
  }

  private isStale(seen: Seen): boolean {
    if (seen.kind === 'record') return Date.parse(seen.record.expires) < Date.now();
    // A lock file that is not valid JSON was written by something else (or torn by a filesystem that lost
    // it); age by mtime so it cannot block forever.
    if (seen.kind === 'garbled') return Date.now() - seen.mtimeMs > this.options.leaseMs;
    return false;
  }

  private async tryCreate(path: string, record: LockRecord): Promise<boolean> {
    const tmp = tempPathFor(path);
    const body = JSON.stringify(record);
    const fh = await open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await link(tmp, path);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') return createExclusive(path, body);
      throw err;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private async breakStale(path: string): Promise<void> {
    const aside = await moveAside(path);
    if (aside === undefined) return;
    const seen = await readLock(aside);
    if (seen.kind !== 'gone' && !this.isStale(seen)) await restore(aside, path);
    await rm(aside, { force: true });
  }

  private hold(path: string, owner: string, acquired: string): Unlock {
    let stopped = false;
    let beat: Promise<void> = Promise.resolve();
    const heartbeat = async (): Promise<void> => {
      const seen = await readLock(path);
      // Lost it (we stalled past the lease and someone broke it): never overwrite the new holder's lock.
      if (seen.kind !== 'record' || seen.record.owner !== owner) {
        clearInterval(timer);
        return;
      }
      if (!stopped) await writeFileAtomic(path, JSON.stringify(this.record(owner, acquired)), 0o600);
    };
    const timer = setInterval(() => {
      beat = beat.then(heartbeat).catch(() => undefined);
    }, this.options.heartbeatMs);
    timer.unref();

    let released: Promise<void> | undefined;
    const unlock: Unlock = () => {
      released ??= (async () => {
        stopped = true;
        clearInterval(timer);
        this.held.delete(unlock);
        await beat;
        const aside = await moveAside(path);
        if (aside === undefined) return;
        const seen = await readLock(aside);
        if (seen.kind === 'record' && seen.record.owner !== owner) await restore(aside, path);
        await rm(aside, { force: true });
      })();
      return released;
    };
    this.held.add(unlock);
    return unlock;
  }
}

async function readLock(path: string): Promise<Seen> {
  try {
    const text = await readFile(path, 'utf8');
    try {
      const record = JSON.parse(text) as LockRecord;
      if (typeof record.owner === 'string' && typeof record.expires === 'string') return { kind: 'record', record };
    } catch {
      // fall through to garbled
    }
    const { mtimeMs } = await stat(path);
    return { kind: 'garbled', mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'gone' };
    throw err;
  }
}

/** Renames the lock out of the way under a unique name; undefined when it was already gone. */
async function moveAside(path: string): Promise<string | undefined> {
  const aside = `${path}.${randomBytes(6).toString('hex')}.aside`;
  try {
    await rename(path, aside);
    return aside;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Puts back a lock moved aside by mistake, unless a new lock was taken meanwhile. */
async function restore(aside: string, path: string): Promise<void> {
  try {
    await link(aside, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** For filesystems without hard links: exclusive create, then write (readers may briefly see it empty). */
async function createExclusive(path: string, body: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await fh.writeFile(body);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
