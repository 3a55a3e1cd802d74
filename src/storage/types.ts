// Certificate storage: the file and redis implementations pass one shared conformance suite
// (test/unit/storage/conformance.ts). Keys are '/'-separated relative paths built by storage/keys.ts.

export class StorageNotFoundError extends Error {
  readonly code = 'ENOTFOUND_KEY';
  constructor(readonly key: string) {
    super(`storage key not found: ${key}`);
  }
}

/** The backing store cannot be reached (Redis down): the operation failed at once instead of queueing. */
export class StorageUnavailableError extends Error {
  readonly code = 'ESTORAGE_UNAVAILABLE';
}

export type Unlock = () => Promise<void>;

export interface StoreOptions {
  /** Private material (keys): stored readable by the owner only. */
  secret?: boolean;
}

export interface Storage {
  /** Human-readable location, for logs and `gatehouse certs`. */
  readonly description: string;
  /** Throws StorageNotFoundError when the key does not exist. */
  load(key: string): Promise<Buffer>;
  /** Atomic: a reader sees the old or the new value, never a torn one, even after a crash. */
  store(key: string, value: Uint8Array | string, options?: StoreOptions): Promise<void>;
  /** No error when the key does not exist. */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** Keys directly or indirectly under `prefix` (a folder-like key), sorted. */
  list(prefix: string): Promise<string[]>;
  /**
   * Takes the named lock, waiting while another holder has it. The lock is a lease renewed by a
   * heartbeat while held; a holder that dies stops renewing and the lease expires (≤ 2 minutes).
   * Rejects with the signal's reason when `signal` aborts while waiting.
   */
  lock(name: string, signal?: AbortSignal): Promise<Unlock>;
  /**
   * Calls `onChange` soon after any process stores or deletes `key` (Redis: pub/sub; folder: fs.watch
   * with a stat poll behind it), and after a lost connection comes back (changes may have been missed).
   * Returns a function that stops watching. Optional for other storages; without it, callers poll.
   */
  watch?(key: string, onChange: () => void): () => void;
  close(): Promise<void>;
}

/** The value of `key` as UTF-8 text, or undefined when the key does not exist (other errors throw). */
export async function loadText(storage: Pick<Storage, 'load'>, key: string): Promise<string | undefined> {
  try {
    return (await storage.load(key)).toString('utf8');
  } catch (err) {
    if (err instanceof StorageNotFoundError) return undefined;
    throw err;
  }
}
