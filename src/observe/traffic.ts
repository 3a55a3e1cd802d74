// Recent traffic for /status: per-minute counts over the last RING_MINUTES minutes and the last few
// server errors. Fixed-size, O(1) per request, no timers.

export const RING_MINUTES = 15;
const RECENT_ERRORS = 20;

export interface MinuteCounts {
  /** Start of the minute, ms since the epoch. */
  minute: number;
  requests: number;
  clientErrors: number;
  serverErrors: number;
}

export interface RecentError {
  at: string;
  site: string;
  route: string;
  status: number;
  method: string;
  /** The path only: query strings may carry secrets. */
  path: string;
}

export class TrafficRing {
  private readonly slots: MinuteCounts[] = [];
  private current: MinuteCounts | undefined;
  private readonly errors: RecentError[] = [];

  count(status: number, now = Date.now()): void {
    const minute = now - (now % 60_000);
    let slot = this.current;
    if (!slot || slot.minute !== minute) {
      slot = { minute, requests: 0, clientErrors: 0, serverErrors: 0 };
      this.slots.push(slot);
      if (this.slots.length > RING_MINUTES) this.slots.shift();
      this.current = slot;
    }
    slot.requests++;
    if (status >= 500) slot.serverErrors++;
    else if (status >= 400) slot.clientErrors++;
  }

  error(e: RecentError): void {
    this.errors.push(e);
    if (this.errors.length > RECENT_ERRORS) this.errors.shift();
  }

  /** The last RING_MINUTES minutes up to `now`, oldest first, with empty minutes filled in. */
  minutes(now = Date.now()): MinuteCounts[] {
    return fillMinutes(this.slots, now);
  }

  recentErrors(): RecentError[] {
    return [...this.errors];
  }
}

/** Sums minute lists (one per process) into one, the last RING_MINUTES minutes up to `now`. */
export function fillMinutes(lists: readonly MinuteCounts[] | ReadonlyArray<readonly MinuteCounts[]>, now = Date.now()): MinuteCounts[] {
  const flat = (lists as ReadonlyArray<MinuteCounts | readonly MinuteCounts[]>).flat() as MinuteCounts[];
  const last = now - (now % 60_000);
  const out: MinuteCounts[] = [];
  for (let i = RING_MINUTES - 1; i >= 0; i--) out.push({ minute: last - i * 60_000, requests: 0, clientErrors: 0, serverErrors: 0 });
  const first = out[0]!.minute;
  for (const m of flat) {
    if (m.minute < first || m.minute > last) continue;
    const slot = out[(m.minute - first) / 60_000]!;
    slot.requests += m.requests;
    slot.clientErrors += m.clientErrors;
    slot.serverErrors += m.serverErrors;
  }
  return out;
}

export function mergeErrors(lists: ReadonlyArray<readonly RecentError[]>): RecentError[] {
  return lists
    .flat()
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
    .slice(0, RECENT_ERRORS);
}
