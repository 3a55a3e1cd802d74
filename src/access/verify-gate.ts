// What stands between a request and a password hash: a cache of passwords already found right, so
// that bcrypt or SHA-crypt runs once per user and password rather than once per request, and a
// bound on the hashes running at once, so that a flood of distinct wrong passwords (which no cache
// can absorb) costs a bounded share of the CPU and is shed with 503 past a bounded queue.
import { hash, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/**
 * Keys are SHA-256 digests of a secret made at start and the parts, so the cache never holds a
 * credential, and a memory dump or a timing probe of the map tells nothing about one (an equality
 * key needs no HMAC construction: nothing is authenticated by it, and the one-shot crypto.hash
 * costs a fraction of createHmac per request). Only successes are stored: a wrong password is
 * hashed again every time, never remembered as right.
 */
const SECRET = randomBytes(32).toString('latin1');

/** Hashes that may run at once in this process (bcryptjs yields between rounds; SHA-crypt does not). */
export const MAX_ACTIVE = 4;
/** Checks waiting for a slot; past this the request gets 503 instead of queueing without end. */
export const MAX_WAITING = 256;

export class VerifyGate {
  private readonly ok = new LRUCache<string, true>({ max: 10_000, ttl: 15 * 60_000 });
  private readonly inflight = new Map<string, Promise<boolean | 'busy'>>();
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  /** The cache key: everything the answer depends on (which file, user, stored hash, what the client sent). */
  key(parts: readonly string[]): string {
    // Lengths first, so that parts holding "\0" cannot make two different lists one key.
    const lengths = parts.map((p) => p.length).join(',');
    return hash('sha256', Buffer.from(`${SECRET}${lengths}\0${parts.join('\0')}`, 'latin1'), 'base64');
  }

  cached(key: string): boolean {
    return this.ok.get(key) === true;
  }

  /** Runs `verify` once per key at a time, within the bound; 'busy' when the queue is full. */
  check(key: string, verify: () => Promise<boolean>): Promise<boolean | 'busy'> {
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.run(verify).then((good) => {
      if (good === true) this.ok.set(key, true);
      return good;
    });
    const done = p.finally(() => this.inflight.delete(key));
    this.inflight.set(key, done);
    return done;
  }

  /** A hash whose answer is thrown away (an unknown user), under the same bound as the others. */
  spend(verify: () => Promise<boolean>): Promise<boolean | 'busy'> {
    return this.run(verify);
  }

  get size(): number {
    return this.ok.size;
  }

  private async run(verify: () => Promise<boolean>): Promise<boolean | 'busy'> {
    if (this.active >= MAX_ACTIVE) {
      if (this.waiting.length >= MAX_WAITING) return 'busy';
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await verify();
    } catch {
      return false;
    } finally {
      // The slot passes straight to the next waiter, so `active` counts it without a gap.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** One gate for the process: the bound is on the CPU, which all sites and reloads share. */
export const verifyGate = new VerifyGate();
