// Lease locks in Redis, the single-instance pattern from the Redis documentation ("Distributed locks with
// Redis", correct implementation with a single instance): `SET key token NX PX lease` takes the lock; only
// the holder's token may extend (PEXPIRE) or delete it, checked atomically in Lua, so a holder that stalled
// past its lease and lost the lock can neither prolong nor release the next holder's lock. A holder that
// dies (kill -9, lost machine) stops its heartbeat and Redis expires the key after the lease (README "Automatic HTTPS (ACME)": at
// most 2 minutes). Same lease/heartbeat/poll model as FileLocks.
//
// Not Redlock: one Redis (or a primary with replicas) is the storage's source of truth anyway. A failover
// to a replica that had not yet received the SET can let a second holder in; the cost is one duplicate
// order, which the CA tolerates.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { LeaseOptions } from './file-lock.js';
import type { RedisConnection } from './redis-connection.js';
import { StorageUnavailableError, type Unlock } from './types.js';

const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

interface LockCommands {
  gatehouseExtendLock(key: string, token: string, leaseMs: number): Promise<number>;
  gatehouseReleaseLock(key: string, token: string): Promise<number>;
}

export class RedisLocks {
  private readonly held = new Set<Unlock>();
  private readonly client: Redis & LockCommands;

  constructor(
    private readonly conn: RedisConnection,
    private readonly options: LeaseOptions,
  ) {
    // defineCommand sends EVALSHA and falls back to EVAL after a NOSCRIPT (a restarted Redis lost its cache).
    conn.client.defineCommand('gatehouseExtendLock', { numberOfKeys: 1, lua: EXTEND });
    conn.client.defineCommand('gatehouseReleaseLock', { numberOfKeys: 1, lua: RELEASE });
    this.client = conn.client as Redis & LockCommands;
  }

  /** `key` is the Redis key of the lock. Rejects with StorageUnavailableError while Redis is away. */
  async acquire(key: string, signal?: AbortSignal): Promise<Unlock> {
    signal?.throwIfAborted();
    // Whoever holds a lock can be told from its value (GET) when debugging a stuck order.
    const token = `${hostname()}:${process.pid}:${randomBytes(12).toString('hex')}`;
    for (;;) {
      const taken = await this.conn.run((c) => c.set(key, token, 'PX', this.options.leaseMs, 'NX'));
      if (taken === 'OK') {
        const unlock = this.hold(key, token);
        if (signal?.aborted) {
          await unlock();
          throw signal.reason;
        }
        return unlock;
      }
      try {
        await delay(jitter(this.options.pollMs), undefined, signal ? { signal } : {});
      } catch {
        throw signal?.reason;
      }
    }
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.held].map((unlock) => unlock()));
  }

  private hold(key: string, token: string): Unlock {
    let beat: Promise<void> = Promise.resolve();
    const heartbeat = async (): Promise<void> => {
      try {
        const extended = await this.conn.run(() => this.client.gatehouseExtendLock(key, token, this.options.leaseMs));
        // Lost it (the lease ran out while we stalled or Redis was away, and someone took it): stop beating.
        if (extended === 0) clearInterval(timer);
      } catch (err) {
        // Redis away: keep trying; if it stays away past the lease, the lock expires as a dead holder's would.
        if (!(err instanceof StorageUnavailableError)) throw err;
      }
    };
    const timer = setInterval(() => {
      beat = beat.then(heartbeat).catch(() => undefined);
    }, this.options.heartbeatMs);
    timer.unref();

    let released: Promise<void> | undefined;
    const unlock: Unlock = () => {
      released ??= (async () => {
        clearInterval(timer);
        this.held.delete(unlock);
        await beat;
        // Redis away: nothing to do; the lease runs out by itself.
        await this.conn.run(() => this.client.gatehouseReleaseLock(key, token)).catch((err: unknown) => {
          if (!(err instanceof StorageUnavailableError)) throw err;
        });
      })();
      return released;
    };
    this.held.add(unlock);
    return unlock;
  }
}

function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}
