// The stores behind all cached routes of a process: memory in front, the disk store (if
// configured) behind it. Kept across config reloads while the `cache:` section is unchanged, so a
// SIGHUP does not empty the cache.
import { CACHE_DEFAULTS } from '../config/cache.js';
import type { CacheStoreConfig } from '../config/types.js';
import { DiskStore } from './disk-store.js';
import { MemoryStore } from './memory-store.js';
import type { Variant } from './variant.js';

export class CacheStore {
  readonly memory: MemoryStore;
  readonly disk: DiskStore | undefined;
  /** Fills and revalidations under way, by primary key: later requests for the key wait for them. */
  readonly inflight = new Map<string, Promise<void>>();

  constructor(
    readonly config: CacheStoreConfig,
    onError: (message: string) => void,
  ) {
    this.memory = new MemoryStore(config.memoryBytes);
    this.disk = config.disk ? new DiskStore(config.disk.dir, config.disk.maxBytes, onError) : undefined;
  }

  get maxObjectBytes(): number {
    return this.config.maxObjectBytes;
  }

  /** Memory first; a disk hit is copied into memory. */
  async get(key: string): Promise<Variant[] | undefined> {
    const hot = this.memory.get(key);
    if (hot || !this.disk) return hot;
    const cold = await this.disk.get(key);
    if (cold) this.memory.set(key, cold);
    return cold;
  }

  /** Becomes the one request that asks the upstream for `key`; others wait until release(). */
  claim(key: string): () => void {
    let resolve!: () => void;
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    this.inflight.set(key, done);
    return () => {
      if (this.inflight.get(key) === done) this.inflight.delete(key);
      resolve();
    };
  }

  set(key: string, variants: Variant[]): Promise<void> {
    this.memory.set(key, variants);
    return this.disk ? this.disk.set(key, variants) : Promise.resolve();
  }

  async delete(key: string): Promise<boolean> {
    const inMemory = this.memory.delete(key);
    const onDisk = this.disk ? await this.disk.delete(key) : false;
    return inMemory || onDisk;
  }
}

let shared: { signature: string; store: CacheStore } | undefined;

/** The process's store for this config, reused when the settings are the same as last time. */
export function cacheStoreFor(config: CacheStoreConfig | undefined, onError: (message: string) => void): CacheStore {
  const settings = config ?? CACHE_DEFAULTS;
  const signature = JSON.stringify(settings);
  if (shared?.signature !== signature) shared = { signature, store: new CacheStore(settings, onError) };
  return shared.store;
}
