// Storage in Redis (`storage: redis://…`, README "Several machines"): what ./certs holds, shared by every gatehouse instance
// that points at the same Redis, database and prefix. Layout under the prefix P (default `gatehouse`):
//
//   P:data:<key>      the value, as raw bytes (certificates and keys byte-exact)
//   P:index           sorted set of every key (score 0), for list()
//   P:lock:<name>     a lease lock (redis-lock.ts)
//   P:changed@<db>    pub/sub channel: the key of every store and delete
//
// list() reads the index with ZRANGEBYLEX instead of KEYS or SCAN: KEYS blocks a big Redis and is often
// disabled on managed ones, and SCAN walks the whole keyspace of a shared database. Each store/delete
// changes the value, the index and announces the key in one MULTI, so the three never disagree and a
// notification is never seen before the value it announces.
import type { Logger } from '../log/types.js';
import type { LeaseOptions } from './file-lock.js';
import { parseKey } from './file-storage.js';
import { RedisConnection } from './redis-connection.js';
import { RedisLocks } from './redis-lock.js';
import { parseRedisUrl } from '../config/redis-url.js';
import { StorageNotFoundError, type Storage, type Unlock } from './types.js';

export interface RedisStorageOptions extends Partial<LeaseOptions> {
  /** Where connection loss and recovery are logged (once per outage). */
  logger?: Logger;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

const LIST_PAGE = 1000;

export class RedisStorage implements Storage {
  readonly description: string;
  private readonly conn: RedisConnection;
  private readonly locks: RedisLocks;
  private readonly prefix: string;

  constructor(url: string, options: RedisStorageOptions = {}) {
    const target = parseRedisUrl(url);
    this.description = target.display;
    this.prefix = target.prefix;
    const lease: LeaseOptions = {
      leaseMs: options.leaseMs ?? 60_000,
      heartbeatMs: options.heartbeatMs ?? 10_000,
      pollMs: options.pollMs ?? 250,
    };
    if (lease.heartbeatMs * 2 > lease.leaseMs) throw new Error('lock heartbeat must be under half the lease');
    this.conn = new RedisConnection(target, {
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
    });
    this.locks = new RedisLocks(this.conn, lease);
  }

  async load(key: string): Promise<Buffer> {
    const value = await this.conn.run((c) => c.getBuffer(this.dataKey(key)));
    if (value === null) throw new StorageNotFoundError(key);
    return value;
  }

  async store(key: string, value: Uint8Array | string): Promise<void> {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const dataKey = this.dataKey(key);
    await this.transaction((c) => c.multi().set(dataKey, bytes).zadd(this.indexKey, 0, key).publish(this.conn.channel, key).exec());
  }

  async delete(key: string): Promise<void> {
    const dataKey = this.dataKey(key);
    await this.transaction((c) => c.multi().del(dataKey).zrem(this.indexKey, key).publish(this.conn.channel, key).exec());
  }

  async exists(key: string): Promise<boolean> {
    const dataKey = this.dataKey(key);
    return (await this.conn.run((c) => c.exists(dataKey))) === 1;
  }

  async list(prefix: string): Promise<string[]> {
    const trimmed = prefix.replace(/\/+$/, '');
    if (trimmed !== '') parseKey(trimmed);
    // A folder-like prefix: every member starting with "prefix/" sorts in [prefix/, prefix0), '0' being
    // the byte after '/'.
    let from = trimmed === '' ? '-' : `[${trimmed}/`;
    const to = trimmed === '' ? '+' : `(${trimmed}0`;
    const out: string[] = [];
    for (;;) {
      const page = await this.conn.run((c) => c.zrangebylex(this.indexKey, from, to, 'LIMIT', 0, LIST_PAGE));
      out.push(...page);
      if (page.length < LIST_PAGE) break;
      from = `(${page[page.length - 1]!}`;
    }
    // Same order as FileStorage (JavaScript string order), which differs from Redis's byte order only
    // outside ASCII.
    return out.sort();
  }

  lock(name: string, signal?: AbortSignal): Promise<Unlock> {
    parseKey(name, false);
    return this.locks.acquire(`${this.prefix}:lock:${name}`, signal);
  }

  watch(key: string, onChange: () => void): () => void {
    parseKey(key);
    return this.conn.watch(key, onChange);
  }

  async close(): Promise<void> {
    await this.locks.releaseAll();
    await this.conn.close();
  }

  private get indexKey(): string {
    return `${this.prefix}:index`;
  }

  /** Checks the key as FileStorage does, so a key valid in one storage is valid in the other. */
  private dataKey(key: string): string {
    parseKey(key);
    return `${this.prefix}:data:${key}`;
  }

  private async transaction(run: Parameters<RedisConnection['run']>[0]): Promise<void> {
    const results = (await this.conn.run(run)) as Array<[Error | null, unknown]> | null;
    const failed = results?.find(([err]) => err !== null)?.[0];
    if (results === null || failed) throw new Error(`Redis storage ${this.description}: transaction failed: ${failed?.message ?? 'aborted'}`);
  }
}
