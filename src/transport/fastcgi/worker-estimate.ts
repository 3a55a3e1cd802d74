// How many connections one FastCGI server can serve at once, learned from what it does.
//
// A php-fpm worker serves one connection at a time, and with FCGI_KEEP_CONN it stays on that
// connection waiting for the next request. A connection opened when every worker is taken waits
// in php-fpm's listen backlog, and if every worker is pinned by a kept connection it waits for
// ever. php-fpm does not tell its worker count (FCGI_GET_VALUES answers only FCGI_MPXS_CONNS), so
// the transport keeps at most `value` connections and queues the other requests itself, which
// lets every connection be reused: a new connection costs more CPU in Node than nginx spends on a
// whole request (docs/performance.md).
//
// The estimate goes down when a new connection is seen waiting in the backlog (stuck(): it waited
// far longer than a whole request took on a kept connection that started after it), and up by one
// when a probe — one connection over the estimate, at most once a second while requests queue —
// is answered without having been seen stuck: pm = dynamic and ondemand pools grow under load.

/** A new connection waiting for its first byte. */
export interface FreshConnection {
  readonly sentAt: number;
  readonly probe: boolean;
  /** Counted as stuck by a release: its answer then proves nothing about the pool's size. */
  seenStuck: boolean;
}

/** A new connection is taken for stuck only after waiting this many times the request it is compared with. */
const STUCK_FACTOR = 4;
/** ...and at least this long, so that event-loop jitter under a burst is not mistaken for a backlog. */
const STUCK_MIN_MS = 5;
/** At most one probe per interval: a probe on a pool that cannot grow costs one closed connection. */
export const PROBE_INTERVAL_MS = 1000;

export class WorkerEstimate {
  private estimate: number;
  private lastProbe = -Infinity;
  private probing = false;

  constructor(initial: number) {
    this.estimate = Math.max(1, initial);
  }

  get value(): number {
    return this.estimate;
  }

  /** Whether a request that found every connection busy may open one more, as a probe. */
  probeDue(now: number): boolean {
    return !this.probing && now - this.lastProbe >= PROBE_INTERVAL_MS;
  }

  probeStarted(now: number): void {
    this.probing = true;
    this.lastProbe = now;
  }

  /** The probe never sent its request (the connect failed, or its request was given up first). */
  probeAbandoned(): void {
    this.probing = false;
  }

  /** A new connection got its first byte (`answered`), or failed or was given up before that. */
  ended(fresh: FreshConnection, answered: boolean): void {
    if (!fresh.probe) return;
    this.probing = false;
    if (answered && !fresh.seenStuck) this.estimate += 1;
  }

  /**
   * A kept connection finished a request that started at `startedAt`: the new connections that
   * were sent before it and are still unanswered long after are waiting for a worker. Marks them,
   * lowers the estimate to the connections that were being served, and returns how many were seen
   * for the first time (`newly`) and how many seen ones are still unanswered (`pending`).
   */
  stuck(fresh: Iterable<FreshConnection>, startedAt: number, now: number, open: number): { newly: number; pending: number } {
    const took = now - startedAt;
    let pending = 0;
    let newly = 0;
    for (const f of fresh) {
      const waited = now - f.sentAt;
      if (!f.seenStuck && f.sentAt < startedAt && waited >= STUCK_MIN_MS && waited > STUCK_FACTOR * took) {
        f.seenStuck = true;
        newly += 1;
      }
      if (f.seenStuck) pending += 1;
    }
    // Only a fresh sighting lowers the estimate, and only when no earlier one is pending: one seen
    // before may have been accepted since (a worker was freed for it) and merely not answered yet,
    // so counting it would undercount. A later stuck connection corrects an overcount.
    if (newly > 0 && newly === pending) this.estimate = Math.max(1, Math.min(this.estimate, open - pending));
    return { newly, pending };
  }
}
