// One timer per managed certificate, set for an absolute time. Node's setTimeout takes at most 2^31-1 ms
// (24.8 days; a longer delay fires after 1 ms with a TimeoutOverflowWarning), and a 90-day certificate is
// due in 60: such a wait is chained through intermediate timeouts, each re-reading the clock, so a
// suspended machine or a clock step is caught up at the next link.
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export class AtTimer {
  private handle: NodeJS.Timeout | undefined;
  private at = Infinity;

  constructor(
    private readonly fire: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The time it is set for (Infinity when idle). */
  get when(): number {
    return this.at;
  }

  /** Sets the timer for `at` (ms since epoch), replacing any earlier setting; Infinity clears it. */
  set(at: number): void {
    if (at === this.at && this.handle) return;
    this.clear();
    this.at = at;
    if (at !== Infinity) this.arm();
  }

  clear(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
    this.at = Infinity;
  }

  private arm(): void {
    const wait = Math.max(0, this.at - this.now());
    this.handle = setTimeout(() => {
      this.handle = undefined;
      if (this.now() < this.at) {
        this.arm();
        return;
      }
      this.at = Infinity;
      this.fire();
    }, Math.min(wait, MAX_TIMEOUT_MS));
    this.handle.unref();
  }
}
