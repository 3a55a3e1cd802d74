// Top-level `cache:`: the stores behind every route that says `cache: DURATION`. Without the section
// routes still cache, in memory, with CACHE_DEFAULTS.
import type { Ctx } from './context.js';
import type { RawCacheStore } from './schema.js';
import type { CacheStoreConfig } from './types.js';
import { parseSize } from './units.js';

/** 64m of memory and 1m objects: a bounded footprint per process (pm2 runs one per core). */
export const CACHE_DEFAULTS: CacheStoreConfig = { memoryBytes: 64 * 1024 ** 2, maxObjectBytes: 1024 ** 2 };
const DEFAULT_DISK_BYTES = 1024 ** 3;

export function cacheStoreConfig(ctx: Ctx, raw: RawCacheStore | undefined): CacheStoreConfig | undefined {
  if (raw === undefined || !ctx.shaped(['cache'])) return undefined;
  const size = (key: keyof RawCacheStore, fallback: number): number => {
    const value = raw[key];
    if (value === undefined || !ctx.clean(['cache', key])) return fallback;
    return ctx.attempt(['cache', key], () => parseSize(value)) ?? fallback;
  };
  const out: CacheStoreConfig = {
    memoryBytes: size('memory', CACHE_DEFAULTS.memoryBytes),
    maxObjectBytes: size('maxObject', CACHE_DEFAULTS.maxObjectBytes),
  };
  if (out.maxObjectBytes > out.memoryBytes) {
    ctx.error(['cache', 'maxObject'], `cache.maxObject (${out.maxObjectBytes} bytes) is larger than cache.memory (${out.memoryBytes} bytes): no such response could be kept`);
  }
  if (raw.disk !== undefined && ctx.clean(['cache', 'disk'])) {
    out.disk = { dir: ctx.resolve(raw.disk.trim()), maxBytes: size('diskSize', DEFAULT_DISK_BYTES) };
  } else if (raw.diskSize !== undefined) {
    ctx.error(['cache', 'diskSize'], 'cache.diskSize needs cache.disk (the folder of the disk store)', 'key');
  }
  return out;
}
