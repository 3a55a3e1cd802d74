// Per-client request rate limits with nginx limit_req semantics (leaky bucket, `burst`, `nodelay`).
import { LRUCache } from 'lru-cache';
import type { RateLimitConfig } from '../config/types.js';

export type Verdict = { ok: true } | { ok: false; retryAfterSec: number };

interface Bucket {
  /** Requests above the rate still "in the bucket" at `at` (nginx's `excess`, in requests). */
  excess: number;
  at: number;
}

const SWEEP_EVERY_MS = 10_000;

export interface Clock {
  now(): number;
}

/**
 * One client state per key, as nginx's limit_req zone keeps one per `$binary_remote_addr`:
 * a request is accepted when the bucket, leaked at `rate` since the last accepted request, holds
 * at most `burst` others; accepted requests are served at once (nginx's `nodelay`). Delaying them
 * instead would hold a connection and its buffers per queued request, which is what a limit on
 * an edge proxy is there to prevent; Caddy's and Traefik's limiters reject too.
 *
 * Memory is bounded twice: an entry lives only until its bucket has leaked empty (an empty bucket
 * and no entry mean the same), and at most `maxClients` entries are kept, the least recently seen
 * going first. nginx answers 503 when its zone is full; forgetting the oldest idle client instead
 * keeps new clients served during a flood of distinct addresses.
 */
export class RateLimiter {
  private readonly buckets: LRUCache<string, Bucket>;
  private readonly perMs: number;
  private sweptAt = 0;
  /** Set by SharedLimits: told of every accepted request, to tell the other processes. */
  onAccept: ((key: string) => void) | undefined;

  constructor(
    readonly config: RateLimitConfig,
    maxClients = 65_536,
    private readonly clock: Clock = performance,
  ) {
    this.perMs = config.ratePerSec / 1000;
    this.buckets = new LRUCache<string, Bucket>({ max: maxClients, ttlResolution: 0, perf: clock });
  }

  get size(): number {
    return this.buckets.size;
  }

  take(key: string): Verdict {
    const now = this.clock.now();
    const prev = this.buckets.get(key);
    // nginx stores 0 for a client's first request: it alone never counts against the burst.
    const excess = prev === undefined ? 0 : Math.max(0, prev.excess - (now - prev.at) * this.perMs + 1);
    if (excess > this.config.burst) {
      // Accepted again once the bucket has leaked down to `burst - 1` waiting requests.
      const waitMs = (excess - this.config.burst) / this.perMs;
      return { ok: false, retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)) };
    }
    // Once (excess + 1) / rate has passed, the next request finds what a new client finds: the
    // entry may then be forgotten (ttl), rounded up so it never lapses early.
    this.buckets.set(key, { excess, at: now }, { ttl: Math.ceil((excess + 1) / this.perMs) });
    if (now - this.sweptAt > SWEEP_EVERY_MS) {
      this.sweptAt = now;
      // lru-cache drops an expired entry only when it is looked up or evicted.
      this.buckets.purgeStale();
    }
    this.onAccept?.(key);
    return { ok: true };
  }

  /**
   * Requests another process of the cluster accepted for this client: they fill this bucket as if
   * they had come here (nginx's workers share one zone), leaked from now on.
   */
  addRemote(key: string, count: number): void {
    const now = this.clock.now();
    const prev = this.buckets.get(key);
    const excess = prev === undefined ? count - 1 : Math.max(0, prev.excess - (now - prev.at) * this.perMs) + count;
    this.buckets.set(key, { excess, at: now }, { ttl: Math.ceil((excess + 1) / this.perMs) });
  }
}
