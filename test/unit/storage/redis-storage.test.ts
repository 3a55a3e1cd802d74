// RedisStorage against a real redis-server: the shared conformance suite, then what only Redis has —
// prefixes and databases, token-checked locks, change notifications, and behaviour while Redis is away.
// The server runs with KEYS disabled (as many managed Redis do), so every test here also proves that
// nothing uses it.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { Logger } from '../../../src/log/types.js';
import { RedisStorage, type RedisStorageOptions } from '../../../src/storage/redis-storage.js';
import { StorageNotFoundError, StorageUnavailableError, type Storage } from '../../../src/storage/types.js';
import { freePort } from '../../helpers/ports.js';
import { startRedis, type RedisServer } from '../../helpers/redis.js';
import { storageConformance } from './conformance.js';
import { killHard, startChild } from './fixtures/child.js';
import { rejection } from '../../helpers/rejection.js';

// Longer than FileStorage's test lease: a starved redis-server on a loaded machine answers late, and a
// heartbeat that comes after the lease has (rightly) lost the lock.
const LEASE = { leaseMs: 2000, heartbeatMs: 200, pollMs: 20 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: RedisServer;
let n = 0;
before(async () => {
  redis = await startRedis({ args: ['--rename-command', 'KEYS', ''] });
});
after(async () => {
  await redis?.stop();
});

/** Resolves once `count` connections subscribe to the change channel of `prefix` in database `db`. */
async function subscribed(server: RedisServer, prefix: string, count = 1, db = 0): Promise<void> {
  const deadline = Date.now() + 10_000;
  const channel = `${prefix}:changed@${db}`;
  while (Number(server.cli('PUBSUB', 'NUMSUB', channel).split('\n')[1]) < count) {
    if (Date.now() > deadline) throw new Error(`nobody subscribed to ${channel}`);
    await sleep(20);
  }
}
const prefixOf = (url: string): string => new URL(url).searchParams.get('prefix')!;

/** A fresh prefix per use: tests never see each other's keys. */
const freshUrl = (base = redis.url) => `${base}?prefix=t${process.pid}-${++n}`;

storageConformance('RedisStorage', async () => {
  const url = freshUrl();
  return {
    storage: new RedisStorage(url, LEASE),
    peer: async () => new RedisStorage(url, LEASE),
    abandonLock: async (name) => {
      const child = await startChild(['redis-lock', url, name, String(LEASE.leaseMs), String(LEASE.heartbeatMs)], 'locked');
      await killHard(child);
    },
    leaseMs: LEASE.leaseMs,
    cleanup: async () => undefined,
  };
});

interface Logged {
  level: string;
  message: string;
}
function recordingLogger(): Logger & { lines: Logged[] } {
  const lines: Logged[] = [];
  const at = (level: string) => (message: string) => lines.push({ level, message });
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: () => undefined };
}


describe('RedisStorage (Redis-specific)', function () {
  this.timeout(20_000);
  const open: Storage[] = [];
  const make = (url: string, options: RedisStorageOptions = {}): RedisStorage => {
    const s = new RedisStorage(url, { ...LEASE, ...options });
    open.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  it('lists by its index: works where KEYS is disabled, and lists only its own prefix', async () => {
    expect(redis.cli('KEYS', '*')).to.match(/unknown command/i);
    const a = make(freshUrl());
    const b = make(freshUrl());
    await a.store('certificates/x/x.crt', 'a');
    await b.store('certificates/y/y.crt', 'b');
    expect(await a.list('')).to.deep.equal(['certificates/x/x.crt']);
    expect(await b.list('certificates')).to.deep.equal(['certificates/y/y.crt']);
  });

  it('keeps prefixes and database numbers apart: values, locks and notifications', async () => {
    const base = `redis://127.0.0.1:${redis.port}`;
    const a = make(`${base}/0?prefix=prod`);
    const b = make(`${base}/0?prefix=staging`);
    const c = make(`${base}/1?prefix=prod`);
    let woken = 0;
    b.watch('k', () => woken++);
    c.watch('k', () => woken++);
    await subscribed(redis, 'staging');
    await subscribed(redis, 'prod', 1, 1);
    await a.store('k', 'prod value');
    expect(await b.exists('k')).to.equal(false);
    expect(await c.exists('k')).to.equal(false);
    const unlock = await a.lock('issue/x');
    const other = await b.lock('issue/x'); // would wait if the prefixes shared locks
    const third = await c.lock('issue/x');
    await Promise.all([unlock(), other(), third()]);
    await sleep(100);
    expect(woken, 'notifications crossed a prefix or a database').to.equal(0);
    expect(redis.cli('-n', '0', 'GET', 'prod:data:k')).to.equal('prod value');
  });

  it('a lock is extended and released only by the holder that took it (token-checked Lua)', async () => {
    const url = freshUrl();
    const prefix = prefixOf(url);
    const a = make(url);
    const b = make(url);
    const unlockA = await a.lock('stolen');
    const key = `${prefix}:lock:stolen`;
    expect(Number(redis.cli('PTTL', key))).to.be.within(1, LEASE.leaseMs);
    // A stalls past its lease (simulated by removing its key); B takes the lock.
    redis.cli('DEL', key);
    const unlockB = await b.lock('stolen');
    const tokenB = redis.cli('GET', key);
    // A's heartbeats go on for a while: they must not extend B's lease...
    await sleep(LEASE.heartbeatMs * 3);
    expect(redis.cli('GET', key)).to.equal(tokenB);
    // ...and A's unlock must not delete B's lock.
    await unlockA();
    expect(redis.cli('GET', key)).to.equal(tokenB);
    await unlockB();
    expect(redis.cli('EXISTS', key)).to.equal('0');
  });

  it('watch: another instance hears of every store and delete of the key, and only of that key', async () => {
    const url = freshUrl();
    const a = make(url);
    const b = make(url);
    const heard: string[] = [];
    const stop = b.watch('acme/x/changed', () => heard.push('changed'));
    await subscribed(redis, prefixOf(url));
    await a.store('acme/x/changed', 'one');
    await a.store('acme/x/other', 'ignored');
    await a.delete('acme/x/changed');
    const deadline = Date.now() + 5000;
    while (heard.length < 2 && Date.now() < deadline) await sleep(10);
    expect(heard).to.deep.equal(['changed', 'changed']);
    stop();
    await a.store('acme/x/changed', 'two');
    await sleep(100);
    expect(heard).to.have.length(2);
  });

  it('a wrong password fails with Redis\'s own words, and the password is never shown', async () => {
    const secured = await startRedis({ args: ['--requirepass', 's3cr3t-pw'] });
    try {
      const ok = make(`redis://:s3cr3t-pw@127.0.0.1:${secured.port}/0`);
      await ok.store('k', 'v');
      expect(ok.description).to.equal(`redis://127.0.0.1:${secured.port}/0`).and.not.include('s3cr3t');
      const bad = make(`redis://:wrong@127.0.0.1:${secured.port}/0`, { connectTimeoutMs: 1000 });
      const err = await rejection(bad.load('k'));
      expect(err).to.be.instanceOf(StorageUnavailableError);
      expect(err.message).to.match(/WRONGPASS|invalid username-password/).and.not.include('wrong@');
    } finally {
      await Promise.all(open.splice(0).map((s) => s.close()));
      await secured.stop();
    }
  });

  it('no Redis at start: the first operation fails after the connect timeout, with the address and the cause', async () => {
    const port = await freePort();
    const s = make(`redis://127.0.0.1:${port}/0`, { connectTimeoutMs: 400 });
    const started = Date.now();
    const err = await rejection(s.load('k'));
    expect(Date.now() - started).to.be.below(1500);
    expect(err).to.be.instanceOf(StorageUnavailableError).and.not.instanceOf(StorageNotFoundError);
    expect(err.message).to.include(`redis://127.0.0.1:${port}/0`).and.match(/ECONNREFUSED/);
  });

  it('Redis away: operations fail fast, one log line per outage, reconnects by itself and notifies watchers', async () => {
    const own = await startRedis();
    try {
      const logger = recordingLogger();
      const s = make(own.url, { logger });
      const peer = make(own.url);
      await s.store('k', 'kept');
      let resyncs = 0;
      peer.watch('k', () => resyncs++);
      await subscribed(own, 'gatehouse');
      resyncs = 0;

      await own.stop({ keepData: true });
      await sleep(50);
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        const err = await rejection(s.load('k'));
        expect(Date.now() - started, 'an operation during the outage').to.be.below(1000);
        expect(err).to.be.instanceOf(StorageUnavailableError);
        expect(err.message).to.include(own.url);
      }
      await sleep(1500); // several reconnect attempts
      expect(logger.lines.filter((l) => l.level === 'warn')).to.have.length(1);
      expect(logger.lines[0]!.message).to.match(/lost the connection to the Redis storage .*certificates in memory keep serving/);

      await own.restart();
      const deadline = Date.now() + 5000;
      let value: string | undefined;
      while (value === undefined && Date.now() < deadline) {
        value = await s.load('k').then((b) => b.toString(), () => undefined);
        if (value === undefined) await sleep(50);
      }
      expect(value).to.equal('kept');
      while (resyncs === 0 && Date.now() < deadline) await sleep(20);
      expect(resyncs, 'watchers told to look again after the reconnect').to.be.at.least(1);
      expect(logger.lines.map((l) => l.level)).to.deep.equal(['warn', 'info']);
      expect(logger.lines[1]!.message).to.match(/reachable again after [\d.]+ s/);
    } finally {
      await Promise.all(open.splice(0).map((s) => s.close()));
      await own.stop();
    }
  });

  it('stores raw bytes under prefix:data:key, readable by any Redis client', async () => {
    const url = freshUrl();
    const prefix = prefixOf(url);
    const s = make(url);
    const bytes = Buffer.from([0, 0xff, 0x80, 0x0d, 0x0a, 0x7f]);
    await s.store('certificates/b/b.key', bytes);
    const client = new Redis(redis.port, '127.0.0.1');
    try {
      expect(Buffer.compare((await client.getBuffer(`${prefix}:data:certificates/b/b.key`))!, bytes)).to.equal(0);
    } finally {
      client.disconnect();
    }
  });
});
