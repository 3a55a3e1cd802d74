// Opens the storage named by the config's `storage` value (README "Configuration reference" and "Several machines").
import { parseDuration } from '../config/units.js';
import type { Logger } from '../log/types.js';
import { FileStorage, type FileStorageOptions } from './file-storage.js';
import { RedisStorage } from './redis-storage.js';
import type { Storage } from './types.js';

export { FileStorage } from './file-storage.js';
export type { FileStorageOptions } from './file-storage.js';
export { RedisStorage } from './redis-storage.js';
export type { RedisStorageOptions } from './redis-storage.js';
export * from './types.js';

export interface OpenStorageOptions extends FileStorageOptions {
  /** Connection loss and recovery of a shared storage are logged here. */
  logger?: Logger;
}

/**
 * A folder path gives a FileStorage; a `redis://` or `rediss://` URL a RedisStorage. The lock lease comes
 * from `options`, else from GATEHOUSE_STORAGE_LEASE (a test and operations knob: tests cannot wait a minute
 * for a killed holder's lock to expire), else the storages' default of 60 s.
 */
export function openStorage(spec: string, options: OpenStorageOptions = {}, env: NodeJS.ProcessEnv = process.env): Storage {
  const lease = { ...leaseFromEnv(env), ...withoutUndefined(options) };
  if (/^rediss?:\/\//i.test(spec)) return new RedisStorage(spec, lease);
  if (spec.trim() === '') throw new Error('storage: empty path');
  const { logger: _logger, ...fileOptions } = lease;
  return new FileStorage(spec, fileOptions);
}

const MAX_LEASE_MS = 120_000;

/** Heartbeat a sixth of the lease, polls no slower than a tenth, as the 60 s / 10 s / 250 ms defaults. */
function leaseFromEnv(env: NodeJS.ProcessEnv): FileStorageOptions {
  const raw = env.GATEHOUSE_STORAGE_LEASE;
  if (raw === undefined || raw.trim() === '') return {};
  let leaseMs: number;
  try {
    leaseMs = parseDuration(raw);
  } catch {
    leaseMs = NaN;
  }
  // README "Automatic HTTPS (ACME)": a crashed holder's lock expires within 2 minutes.
  if (!(leaseMs >= 300 && leaseMs <= MAX_LEASE_MS)) {
    process.emitWarning(`GATEHOUSE_STORAGE_LEASE=${raw} must be a duration from 300ms to 2m; using the default`);
    return {};
  }
  return { leaseMs, heartbeatMs: Math.floor(leaseMs / 6), pollMs: Math.min(250, Math.floor(leaseMs / 10)) };
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
