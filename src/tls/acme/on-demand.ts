// On-demand TLS (acme.onDemand): a certificate for a name nobody configured, ordered at its first
// handshake — only if the operator's `ask` endpoint answers 2xx for `?domain=NAME` (deny by default: an
// error or a timeout is a no), and never faster than the bounds below, so a scanner sending random SNI
// names cannot make us hammer the CA or burn its rate limits.
import type { Logger } from '../../log/types.js';
import { isIpName } from '../names.js';

export interface OnDemandLimits {
  /** Orders in flight at once. */
  maxConcurrent: number;
  /** Orders started per rolling minute. */
  perMinute: number;
  askTimeoutMs: number;
  /** A "no" from ask is remembered this long. */
  denyTtlMs: number;
}

export const DEFAULT_ON_DEMAND_LIMITS: OnDemandLimits = { maxConcurrent: 4, perMinute: 10, askTimeoutMs: 5000, denyTtlMs: 60_000 };

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export class OnDemandGate {
  private readonly denied = new Map<string, number>();
  private readonly asking = new Map<string, Promise<boolean>>();
  private readonly started: number[] = [];
  private active = 0;

  constructor(
    private readonly ask: string,
    private readonly logger: Logger,
    private readonly limits: OnDemandLimits = DEFAULT_ON_DEMAND_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** May a certificate be ordered for `name`? Asks the endpoint (one question per name at a time). */
  allowed(name: string): Promise<boolean> {
    if (!DNS_NAME.test(name) || isIpName(name)) return Promise.resolve(false);
    const until = this.denied.get(name);
    if (until !== undefined && until > this.now()) return Promise.resolve(false);
    let p = this.asking.get(name);
    if (!p) {
      p = this.query(name).finally(() => this.asking.delete(name));
      this.asking.set(name, p);
    }
    return p;
  }

  /** Takes a slot for one order; false when over the concurrency or per-minute bound. */
  take(): boolean {
    const now = this.now();
    while (this.started.length > 0 && this.started[0]! <= now - 60_000) this.started.shift();
    if (this.active >= this.limits.maxConcurrent || this.started.length >= this.limits.perMinute) return false;
    this.active++;
    this.started.push(now);
    return true;
  }

  release(): void {
    this.active = Math.max(0, this.active - 1);
  }

  private async query(name: string): Promise<boolean> {
    const url = new URL(this.ask);
    url.searchParams.set('domain', name);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.limits.askTimeoutMs), redirect: 'manual' });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) return true;
      this.deny(name);
      this.logger.info('on-demand TLS: ask denied a name', { name, status: res.status });
      return false;
    } catch (err) {
      this.deny(name);
      this.logger.warn('on-demand TLS: the ask endpoint failed; denying', { name, ask: this.ask, error: (err as Error).message });
      return false;
    }
  }

  private deny(name: string): void {
    if (this.denied.size > 10_000) this.denied.clear();
    this.denied.set(name, this.now() + this.limits.denyTtlMs);
  }
}
