// Opens the storage named by the config's `storage` value (SPEC §2, §5).
import { FileStorage, type FileStorageOptions } from './file-storage.js';
import type { Storage } from './types.js';

export { FileStorage } from './file-storage.js';
export type { FileStorageOptions } from './file-storage.js';
export * from './types.js';

/** A folder path gives a FileStorage; a `redis://` (or `rediss://`) URL will give the Redis storage. */
export function openStorage(spec: string, options: FileStorageOptions = {}): Storage {
  if (/^rediss?:\/\//i.test(spec)) {
    throw Object.assign(new Error(`redis storage is not available yet (storage: ${spec}); use a folder path`), {
      code: 'ESTORAGE_UNSUPPORTED',
    });
  }
  if (spec.trim() === '') throw new Error('storage: empty path');
  return new FileStorage(spec, options);
}
