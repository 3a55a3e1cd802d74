// Which storage a `storage:` value opens, how a redis:// URL is read, and what a bad one says (with its
// position, through the config loader), plus the lease knob.
import { expect } from 'chai';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage, openStorage, RedisStorage } from '../../../src/storage/index.js';
import { parseRedisUrl } from '../../../src/config/redis-url.js';
import { expectError, lines } from '../config/helpers.js';

describe('parseRedisUrl', () => {
  it('reads host, port, database, credentials, TLS and prefix, with defaults', () => {
    expect(parseRedisUrl('redis://127.0.0.1')).to.deep.equal({
      host: '127.0.0.1',
      port: 6379,
      db: 0,
      tls: false,
      prefix: 'gatehouse',
      display: 'redis://127.0.0.1/0',
    });
    expect(parseRedisUrl('rediss://gh%40ops:p%3Ass@redis.example.com:6380/3?prefix=staging')).to.deep.equal({
      host: 'redis.example.com',
      port: 6380,
      db: 3,
      tls: true,
      prefix: 'staging',
      username: 'gh@ops',
      password: 'p:ss',
      display: 'rediss://redis.example.com:6380/3?prefix=staging',
    });
    expect(parseRedisUrl('redis://:only-password@[::1]:7000/')).to.include({ host: '::1', port: 7000, password: 'only-password', display: 'redis://[::1]:7000/0' });
    expect(parseRedisUrl('redis://:only-password@[::1]:7000/')).to.not.have.property('username');
  });

  it('rejects what it cannot use, saying why, and never echoes a password', () => {
    const bad: Array<[string, RegExp]> = [
      ['redis://h:6379/zero', /the path must be a database number, e\.g\. \/0/],
      ['redis://h:6379/0?prefx=a', /unknown parameter "prefx" \(known: prefix\)/],
      ['redis://h:6379/0?prefix=a b', /prefix "a b" must be 1-64 characters/],
      ['redis://h:6379/0?prefix=', /prefix "" must be/],
      ['redis://user:hunter2@h:99999/0', /not a valid URL/],
      ['http://h/0', /scheme must be redis:\/\/ or rediss:\/\//],
    ];
    for (const [url, message] of bad) {
      expect(() => parseRedisUrl(url), url).to.throw(message);
      try {
        parseRedisUrl(url);
      } catch (err) {
        expect((err as Error).message).to.not.include('hunter2');
      }
    }
  });

  it('config: a bad redis URL is an error at the storage value\'s position', () => {
    expectError(
      lines('listen: { https: 8443 }', 'storage: "redis://127.0.0.1:6379/0?prefix=bad/prefix"', 'sites: [{ hosts: a.test, routes: [{ location: /, return: 204 }] }]'),
      2,
      10,
      'storage "redis://127.0.0.1:6379/0": prefix "bad/prefix" must be 1-64 characters',
    );
  });
});

describe('openStorage', () => {
  it('opens a folder path as FileStorage and a redis:// URL as RedisStorage', async () => {
    expect(openStorage(join(tmpdir(), 'gatehouse-never-created'))).to.be.instanceOf(FileStorage);
    // Nothing listens on port 1; the connection is attempted in the background and closed at once.
    const redis = openStorage('REDIS://:pw@127.0.0.1:1/2?prefix=p');
    expect(redis).to.be.instanceOf(RedisStorage);
    expect(redis.description).to.equal('redis://127.0.0.1:1/2?prefix=p');
    await redis.close();
  });

  it('GATEHOUSE_STORAGE_LEASE sets the lock lease (heartbeat a sixth of it), within 300ms..2m', async () => {
    const lease = (s: unknown) => (s as { locks: { options: { leaseMs: number; heartbeatMs: number } } }).locks.options;
    const folder = join(tmpdir(), 'gatehouse-never-created');
    expect(lease(openStorage(folder, {}, { GATEHOUSE_STORAGE_LEASE: '3s' }))).to.include({ leaseMs: 3000, heartbeatMs: 500 });
    expect(lease(openStorage(folder, {}, {}))).to.include({ leaseMs: 60_000, heartbeatMs: 10_000 });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      expect(lease(openStorage(folder, {}, { GATEHOUSE_STORAGE_LEASE: '5m' }))).to.include({ leaseMs: 60_000 });
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.join('\n')).to.include('GATEHOUSE_STORAGE_LEASE=5m must be a duration from 300ms to 2m');
  });
});
