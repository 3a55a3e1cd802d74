// The connection to Redis behind RedisStorage, tuned for a proxy that must keep serving while Redis is
// away (README "Automatic HTTPS (ACME)": a failure never removes the certificate that is serving):
//  - no offline queue and no replay: ioredis by default queues commands while disconnected and resends
//    them later, so a caller could wait without bound and a write could land minutes after its caller gave
//    up. Here a command fails at once with StorageUnavailableError, and callers retry on their own schedule;
//  - a bounded wait for the connection: the first connect may take up to `connectTimeoutMs`; once it has
//    been up, an operation during an outage waits only `OUTAGE_GRACE_MS` (a failover or a blip), then fails;
//  - reconnecting forever with a capped back-off, logging one line when the outage starts and one when it
//    ends, not one per attempt (ioredis emits an `error` event for every failed attempt);
//  - a second connection, opened on the first watch(), in subscriber mode for change notifications.
import { hostname } from 'node:os';
import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import type { Logger } from '../log/types.js';
import { StorageUnavailableError } from './types.js';
import type { RedisTarget } from '../config/redis-url.js';

export interface RedisConnectionOptions {
  logger?: Logger;
  /** First connection (TCP + TLS + AUTH + SELECT); default 5 s. */
  connectTimeoutMs?: number;
  /** A command that gets no answer (a frozen Redis, a black-holed route) fails after this; default 5 s. */
  commandTimeoutMs?: number;
}

const OUTAGE_GRACE_MS = 300;
const RECONNECT_MAX_MS = 2000;

export class RedisConnection {
  readonly client: Redis;
  private subscriber: Redis | undefined;
  private readonly watchers = new Map<string, Set<() => void>>();
  private everReady = false;
  private outageSince: number | undefined;
  private lastError: string | undefined;
  private closing = false;
  private readyWaiters = new Set<() => void>();
  private readonly connectTimeoutMs: number;

  constructor(
    readonly target: RedisTarget,
    private readonly options: RedisConnectionOptions = {},
  ) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.client = new Redis(clientOptions(target, this.connectTimeoutMs, options.commandTimeoutMs ?? 5000));
    this.client.on('error', (err: Error) => {
      this.lastError = err.message;
      this.startOutage();
    });
    this.client.on('close', () => this.startOutage());
    this.client.on('ready', () => {
      if (this.outageSince !== undefined) {
        const seconds = ((Date.now() - this.outageSince) / 1000).toFixed(1);
        this.options.logger?.info(`Redis storage ${this.target.display} is reachable again after ${seconds} s`);
      }
      this.outageSince = undefined;
      this.lastError = undefined;
      this.everReady = true;
      for (const wake of this.readyWaiters) wake();
    });
  }

  /** The pub/sub channel on which every store and delete is announced (the key is the message). */
  get channel(): string {
    // Pub/sub ignores the database number, so the channel names it: two deployments that share a Redis by
    // db number must not wake each other.
    return `${this.target.prefix}:changed@${this.target.db}`;
  }

  /**
   * Runs one command (or MULTI) once the connection is up, mapping connection failures to
   * StorageUnavailableError. Errors Redis itself answers (WRONGTYPE, NOPERM, OOM) keep their message.
   */
  async run<T>(command: (client: Redis) => Promise<T>): Promise<T> {
    await this.ready();
    try {
      return await command(this.client);
    } catch (err) {
      if (err instanceof ReplyError) throw new Error(`Redis storage ${this.target.display}: ${(err as Error).message}`, { cause: err });
      throw this.unavailable((err as Error).message);
    }
  }

  /** Calls `onChange` when `key` is announced on the channel, and after the subscriber reconnects. */
  watch(key: string, onChange: () => void): () => void {
    let set = this.watchers.get(key);
    if (!set) this.watchers.set(key, (set = new Set()));
    set.add(onChange);
    this.subscribe();
    return () => {
      set.delete(onChange);
      if (set.size === 0) this.watchers.delete(key);
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const wake of this.readyWaiters) wake();
    this.subscriber?.disconnect();
    if (this.client.status === 'ready') await this.client.quit().catch(() => this.client.disconnect());
    else this.client.disconnect();
  }

  private async ready(): Promise<void> {
    if (this.client.status === 'ready') return;
    if (this.closing) throw new StorageUnavailableError(`Redis storage ${this.target.display} is closed`);
    const waitMs = this.everReady ? OUTAGE_GRACE_MS : this.connectTimeoutMs;
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.readyWaiters.delete(done);
        if (this.client.status === 'ready') resolve();
        else reject(this.unavailable());
      };
      const timer = setTimeout(done, waitMs);
      this.readyWaiters.add(done);
    });
  }

  private unavailable(detail = this.lastError ?? `connection ${this.client.status}`): StorageUnavailableError {
    return new StorageUnavailableError(`Redis storage ${this.target.display} is unavailable: ${detail}`);
  }

  private startOutage(): void {
    if (this.closing || !this.everReady || this.outageSince !== undefined) return;
    this.outageSince = Date.now();
    this.options.logger?.warn(
      `lost the connection to the Redis storage ${this.target.display}${this.lastError ? `: ${this.lastError}` : ''}; ` +
        'certificates in memory keep serving, storage work is retried once it is back (reconnecting)',
    );
  }

  private subscribe(): void {
    if (this.subscriber || this.closing) return;
    // Subscribing is the only thing this connection does, so it may queue while disconnected.
    const sub = this.client.duplicate({ enableOfflineQueue: true, commandTimeout: undefined, connectionName: connectionName('watch') });
    this.subscriber = sub;
    let subscribedOnce = false;
    sub.on('error', () => undefined); // the command connection reports outages
    sub.on('message', (_channel: string, key: string) => this.notify(this.watchers.get(key)));
    sub.on('ready', () => {
      // ioredis resubscribes by itself; what was announced while it was away is lost, so everyone looks again.
      if (subscribedOnce) for (const set of this.watchers.values()) this.notify(set);
      subscribedOnce = true;
    });
    sub.subscribe(this.channel).catch(() => undefined);
  }

  private notify(set: Set<() => void> | undefined): void {
    for (const fn of set ?? []) {
      try {
        fn();
      } catch (err) {
        this.options.logger?.error('a storage change handler failed', { error: (err as Error).message });
      }
    }
  }
}

function clientOptions(target: RedisTarget, connectTimeoutMs: number, commandTimeoutMs: number): RedisOptions {
  const options: RedisOptions = {
    host: target.host,
    port: target.port,
    db: target.db,
    connectionName: connectionName('storage'),
    enableOfflineQueue: false,
    // A command in flight when the connection drops fails now; it is never resent after a reconnect.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), RECONNECT_MAX_MS),
  };
  if (target.username !== undefined) options.username = target.username;
  if (target.password !== undefined) options.password = target.password;
  // rediss://: Node's TLS checks the certificate against the host (SNI too) with the system roots plus
  // NODE_EXTRA_CA_CERTS, as for any other TLS client gatehouse makes.
  if (target.tls) options.tls = {};
  return options;
}

/** Shown by CLIENT LIST, so an operator can tell which gatehouse holds which connection. */
function connectionName(role: string): string {
  return `gatehouse-${role}-${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-${process.pid}`;
}
