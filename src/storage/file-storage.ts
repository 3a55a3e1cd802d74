// Storage in a local (or NFS-shared) folder, `./certs` by default (README "Several machines").
//
// Permissions: every folder is 0700, so nobody but the owner can even reach a file inside. Values stored
// with `secret: true` (private keys) are 0600 anyway, in case the folder is copied or its mode loosened;
// other values (certificates, metadata, challenge answers — all public by nature) are 0644, which keeps
// them readable by the owner's tools when copied elsewhere and grants nothing extra while under a 0700 folder.
//
// Keys map to paths one-to-one. A key segment may not start with a dot (temporary files do), and the top
// folder `locks/` holds lock files, so it is not a key namespace.
import { mkdir, readdir, readFile, rm, stat, chmod } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { FileLocks, type LeaseOptions } from './file-lock.js';
import { writeFileAtomic } from './fs-atomic.js';
import { KeyWatch } from './key-watch.js';
import { StorageNotFoundError, type Storage, type StoreOptions, type Unlock } from './types.js';

export interface FileStorageOptions {
  /** Lease of a lock without heartbeat; default 60 s (a crashed holder's lock is broken after this). */
  leaseMs?: number;
  /** Heartbeat of a held lock; default 10 s. */
  heartbeatMs?: number;
  /** Poll interval while waiting for a lock; default 250 ms, jittered. */
  pollMs?: number;
}

const LOCKS_DIR = 'locks';
const DIR_MODE = 0o700;
const SECRET_MODE = 0o600;
const PUBLIC_MODE = 0o644;

export class FileStorage implements Storage {
  readonly description: string;
  private readonly root: string;
  private readonly locks: FileLocks;
  private rootReady: Promise<void> | undefined;
  private readonly watches = new Set<KeyWatch>();

  constructor(rootDir: string, options: FileStorageOptions = {}) {
    this.root = resolve(rootDir);
    this.description = `folder ${this.root}`;
    const lease: LeaseOptions = {
      leaseMs: options.leaseMs ?? 60_000,
      heartbeatMs: options.heartbeatMs ?? 10_000,
      pollMs: options.pollMs ?? 250,
    };
    if (lease.heartbeatMs * 2 > lease.leaseMs) throw new Error('lock heartbeat must be under half the lease');
    this.locks = new FileLocks(lease);
  }

  async load(key: string): Promise<Buffer> {
    const path = this.pathOf(key);
    try {
      return await readFile(path);
    } catch (err) {
      if (isMissing(err)) throw new StorageNotFoundError(key);
      throw err;
    }
  }

  async store(key: string, value: Uint8Array | string, options: StoreOptions = {}): Promise<void> {
    const path = this.pathOf(key);
    await this.ensureRoot();
    await mkdir(dirname(path), { recursive: true, mode: DIR_MODE });
    await writeFileAtomic(path, value, options.secret ? SECRET_MODE : PUBLIC_MODE);
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const trimmed = prefix.replace(/\/+$/, '');
    const segments = trimmed === '' ? [] : parseKey(trimmed);
    const out: string[] = [];
    await walk(join(this.root, ...segments), segments, out);
    return out.sort();
  }

  async lock(name: string, signal?: AbortSignal): Promise<Unlock> {
    const segments = parseKey(name, false);
    await this.ensureRoot();
    const path = join(this.root, LOCKS_DIR, ...segments) + '.lock';
    return this.locks.acquire(path, signal);
  }

  /**
   * Calls `onChange` soon after any process stores or deletes `key`: at once where the folder can be
   * watched (inotify), within a few seconds elsewhere (key-watch.ts).
   */
  watch(key: string, onChange: () => void): () => void {
    const w = new KeyWatch(this.pathOf(key), onChange);
    this.watches.add(w);
    return () => {
      w.close();
      this.watches.delete(w);
    };
  }

  async close(): Promise<void> {
    for (const w of this.watches) w.close();
    this.watches.clear();
    await this.locks.releaseAll();
  }

  private pathOf(key: string): string {
    return join(this.root, ...parseKey(key));
  }

  /** Creates the root 0700, and tightens an existing one: it holds private keys. */
  private ensureRoot(): Promise<void> {
    this.rootReady ??= (async () => {
      await mkdir(this.root, { recursive: true, mode: DIR_MODE });
      const { mode } = await stat(this.root);
      if ((mode & 0o077) !== 0) await chmod(this.root, DIR_MODE);
    })().catch((err: unknown) => {
      this.rootReady = undefined;
      throw err;
    });
    return this.rootReady;
  }
}

/**
 * Splits and checks a key: relative, '/'-separated, no empty, `.` or `..` segments, no segment starting
 * with a dot, no backslashes or NULs (so a key can never name a path outside the root).
 */
export function parseKey(key: string, checkReserved = true): string[] {
  if (key === '' || key.startsWith('/') || /^[A-Za-z]:/.test(key)) throw invalidKey(key, 'must be a relative path');
  if (key.includes('\\') || key.includes('\0')) throw invalidKey(key, 'contains a backslash or NUL');
  const segments = key.split('/');
  for (const s of segments) {
    if (s === '') throw invalidKey(key, 'has an empty segment');
    if (s.startsWith('.')) throw invalidKey(key, 'has a segment starting with a dot');
  }
  if (checkReserved && segments[0] === LOCKS_DIR) throw invalidKey(key, `"${LOCKS_DIR}/" is reserved for locks`);
  return segments;
}

function invalidKey(key: string, why: string): Error {
  return Object.assign(new Error(`invalid storage key ${JSON.stringify(key)}: ${why}`), { code: 'EINVALID_KEY' });
}

async function walk(dir: string, segments: string[], out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return;
    throw err;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    if (segments.length === 0 && entry.name === LOCKS_DIR) continue;
    if (entry.isDirectory()) await walk(join(dir, entry.name), [...segments, entry.name], out);
    else if (entry.isFile()) out.push([...segments, entry.name].join('/'));
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}
