// The disk store: survives restarts. One file per primary key (sha256 of it), written atomically
// (temp file + rename, storage/fs-atomic.ts), holding a JSON line of metadata (the key, and per
// variant its CachePolicy object, Vary fields and body length) followed by the bodies. The total
// size is bounded: an LRU index of file sizes, rebuilt from the folder at start (oldest mtime
// first), unlinks the least recently used files. Processes sharing the folder (pm2 cluster) read
// each other's files; each bounds what it knows of, so the folder may grow to workers x diskSize.
// A file that cannot be read back is deleted and treated as a miss, never served.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import CachePolicy from 'http-cache-semantics';
import { LRUCache } from 'lru-cache';
import { writeFileAtomic } from '../storage/fs-atomic.js';
import type { Variant } from './variant.js';

const FORMAT = 1;
const SUFFIX = '.entry';
const STALE_TEMP_MS = 10 * 60_000;

interface StoredMeta {
  v: number;
  key: string;
  variants: Array<{ secondary: string; vary: string[]; status: number; policy: CachePolicy.CachePolicyObject; cappedUntil: number; length: number }>;
}

export class DiskStore {
  private readonly index: LRUCache<string, number>;
  private readonly ready: Promise<void>;
  /** Operations per file run one after another: a PURGE must not be undone by a write still in flight. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    readonly dir: string,
    maxBytes: number,
    private readonly onError: (message: string) => void,
  ) {
    this.index = new LRUCache<string, number>({
      maxSize: maxBytes,
      sizeCalculation: (size) => Math.max(1, size),
      dispose: (_size, name, reason) => {
        if (reason === 'evict') void rm(join(this.dir, name), { force: true });
      },
    });
    this.ready = this.scan().catch((err: unknown) => this.onError(`cache folder ${dir}: ${(err as Error).message}`));
  }

  /** Rebuilds the index from what an earlier process left; leftover temporary files are removed. */
  private async scan(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const found: Array<{ name: string; size: number; mtime: number }> = [];
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      const st = await stat(path).catch(() => undefined);
      if (name.startsWith('.') && name.endsWith('.tmp')) {
        // Another worker sharing the folder may be writing it right now (a pm2 reload starts workers
        // next to running ones): only a file no write has touched for a while is a crash's leftover.
        if (st && Date.now() - st.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true });
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      if (st?.isFile()) found.push({ name, size: st.size, mtime: st.mtimeMs });
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const f of found) this.index.set(f.name, f.size);
  }

  private serial<T>(name: string, op: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(name) ?? this.ready).then(op, op);
    const tail = run.catch(() => undefined);
    this.queues.set(name, tail);
    void tail.then(() => {
      if (this.queues.get(name) === tail) this.queues.delete(name);
    });
    return run;
  }

  private fileName(key: string): string {
    return createHash('sha256').update(key).digest('hex') + SUFFIX;
  }

  get(key: string): Promise<Variant[] | undefined> {
    const name = this.fileName(key);
    return this.serial(name, () => this.read(key, name));
  }

  private async read(key: string, name: string): Promise<Variant[] | undefined> {
    // A file this process does not know may still be there: another pm2 worker sharing the folder
    // wrote it. A miss costs one failed open, and the upstream request that follows costs more.
    let data: Buffer;
    try {
      data = await readFile(join(this.dir, name));
    } catch {
      this.index.delete(name);
      return undefined;
    }
    if (this.index.get(name) === undefined) this.index.set(name, data.length);
    const variants = decode(data, key);
    if (!variants) {
      this.onError(`cache file ${join(this.dir, name)} is unreadable; removed`);
      await this.remove(name);
    }
    return variants;
  }

  set(key: string, variants: readonly Variant[]): Promise<void> {
    const data = encode(key, variants);
    if (data.length > this.index.maxSize) return Promise.resolve();
    const name = this.fileName(key);
    return this.serial(name, () => this.write(name, data));
  }

  private async write(name: string, data: Buffer): Promise<void> {
    try {
      await writeFileAtomic(join(this.dir, name), data, 0o600);
      this.index.set(name, data.length);
    } catch (err) {
      this.onError(`cache file ${join(this.dir, name)}: ${(err as Error).message}`);
    }
  }

  delete(key: string): Promise<boolean> {
    const name = this.fileName(key);
    return this.serial(name, () => this.remove(name));
  }

  /** True when there was a file to remove. */
  private async remove(name: string): Promise<boolean> {
    this.index.delete(name);
    try {
      await rm(join(this.dir, name));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}

export function encode(key: string, variants: readonly Variant[]): Buffer {
  const meta: StoredMeta = {
    v: FORMAT,
    key,
    variants: variants.map((v) => ({
      secondary: v.secondary,
      vary: [...v.vary],
      status: v.status,
      policy: v.policy.toObject(),
      cappedUntil: v.cappedUntil,
      length: v.body.length,
    })),
  };
  // JSON.stringify escapes newlines inside strings, so the first \n ends the metadata.
  return Buffer.concat([Buffer.from(`${JSON.stringify(meta)}\n`), ...variants.map((v) => v.body)]);
}

/** Undefined for anything that is not a whole file of this format written for `key`. */
export function decode(data: Buffer, key: string): Variant[] | undefined {
  const nl = data.indexOf(10);
  if (nl === -1) return undefined;
  try {
    const meta = JSON.parse(data.subarray(0, nl).toString('utf8')) as StoredMeta;
    if (meta.v !== FORMAT || meta.key !== key || !Array.isArray(meta.variants)) return undefined;
    let offset = nl + 1;
    const out: Variant[] = [];
    for (const m of meta.variants) {
      if (!Number.isInteger(m.length) || m.length < 0 || offset + m.length > data.length) return undefined;
      out.push({
        secondary: String(m.secondary),
        vary: m.vary.map(String),
        status: Number(m.status),
        policy: CachePolicy.fromObject(m.policy),
        cappedUntil: Number(m.cappedUntil),
        body: Buffer.from(data.subarray(offset, offset + m.length)),
      });
      offset += m.length;
    }
    return offset === data.length ? out : undefined;
  } catch {
    return undefined;
  }
}
