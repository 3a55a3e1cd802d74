// Each managed certificate's own timer, and what runs when it goes off. A record's timer is set for its
// next moment (record.ts wakeAt: the due time or the back-off's next attempt, the next ARI poll, notAfter),
// so a renewal never waits for a periodic check: with the 10-minute safety net alone, a 90-second
// certificate would expire before anyone looked at it. Orders run in the background, a few at a time.
import type { Logger } from '../../log/types.js';
import type { AriPoller } from './ari-poller.js';
import { attempt, type AttemptContext } from './attempt.js';
import { noteHealth, type Origin } from './health.js';
import { limiter } from './limiter.js';
import type { ManagedRecords } from './managed-records.js';
import { attemptAt, wakeAt, type Managed } from './record.js';

/** Orders in flight are bounded (1,000 certificates due at once after a long outage). */
const MAX_CONCURRENT_ORDERS = 4;

export interface RenewalTimersOptions {
  records: ManagedRecords;
  ari: AriPoller;
  logger: Logger;
  now: () => number;
  /** Aborts when the manager closes. */
  closing: AbortSignal;
  attemptContext: AttemptContext;
  /** The storage changed while the record was busy: read it again (storage-sync.ts reread). */
  reread(m: Managed): Promise<void>;
}

export class RenewalTimers {
  private running = false;
  private readonly orders = limiter(MAX_CONCURRENT_ORDERS);

  constructor(private readonly o: RenewalTimersOptions) {}

  /** Sets every record's timer; names without a certificate are ordered at once. */
  start(): void {
    this.running = true;
    this.armAll();
  }

  stop(): void {
    this.running = false;
    for (const m of this.o.records.values()) m.timer.clear();
  }

  /** Logs a change of state, and sets the record's timer for its next moment. */
  settle(m: Managed, origin: Origin): void {
    if (!this.running || m.busy) return;
    noteHealth(m, this.o.now(), this.o.logger, origin);
    m.timer.set(wakeAt(m, this.o.now(), this.o.ari.enabled));
  }

  armAll(): void {
    for (const m of this.o.records.values()) this.settle(m, 'here');
  }

  /** A record's timer went off (or the safety net looks): starts what is due; true when an order started. */
  fire(m: Managed): boolean {
    if (!this.running || m.busy || this.o.closing.aborted) return false;
    const now = this.o.now();
    if (now >= attemptAt(m)) {
      m.timer.clear();
      this.launch(m, m.entry === undefined ? 'obtain' : 'renew');
      return true;
    }
    if (m.entry && this.o.ari.enabled && now >= m.ariNextFetch) this.o.ari.poll(m);
    else this.settle(m, 'here');
    return false;
  }

  /** Runs one attempt for the record in the background (m.busy until it is settled again). */
  launch(m: Managed, why: 'obtain' | 'renew', done?: () => void): void {
    m.busy = this.orders(() => attempt(this.o.attemptContext, m, why)).finally(() => {
      m.busy = undefined;
      done?.();
      this.settle(m, 'here');
      if (m.stale) {
        m.stale = false;
        void this.o.reread(m).catch(() => undefined);
      }
    });
  }

  /**
   * The storage announced a change: records whose last attempt found it unavailable (Redis away) are
   * tried at once instead of after their retry delay, since the announcement means it is back.
   */
  retryStorageWaits(): void {
    for (const m of this.o.records.values()) {
      if (m.storageFailed !== 'unavailable' || m.busy) continue;
      m.nextAttempt = 0;
      this.fire(m);
    }
  }
}
