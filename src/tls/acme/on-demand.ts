// On-demand TLS (acme.onDemand): a certificate for a name nobody configured, ordered at its first
// handshake — only if the operator's `ask` endpoint answers 2xx for `?domain=NAME` (deny by default: an
// error or a timeout is a no), and never faster than the bounds below, so a scanner sending random SNI
// names cannot make us hammer the CA or burn its rate limits.
import type { Logger } from '../../log/types.js';
import { isIpName } from '../names.js';

export interface OnDemandLimits {
  /** Orders in flight at once. */
  maxConcurrent: number;
  /** `ask` requests in flight at once; a handshake for another new name is refused, not queued. */
  maxAsks: number;
  /** Orders started per rolling minute. */
  perMinute: number;
  askTimeoutMs: number;
  /** A "no" from ask is remembered this long. */
  denyTtlMs: number;
}

export const DEFAULT_ON_DEMAND_LIMITS: OnDemandLimits = { maxConcurrent: 4, maxAsks: 8, perMinute: 10, askTimeoutMs: 5000, denyTtlMs: 60_000 };

/** Why a name is checked: a handshake may be refused under load; the renewal of an issued name may not. */
export type AskPurpose = 'handshake' | 'renewal';

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export class OnDemandGate {
  private readonly denied = new Map<string, number>();
  private readonly asking = new Map<string, Promise<boolean>>();
  private readonly started: number[] = [];
  private active = 0;
  /** Names refused because `maxAsks` questions were open, since the first such refusal. */
  private refused = 0;
  private readonly limits: OnDemandLimits;

  constructor(
    private readonly ask: string,
    private readonly logger: Logger,
    limits: Partial<OnDemandLimits> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.limits = { ...DEFAULT_ON_DEMAND_LIMITS, ...limits };
  }

  /**
   * May a certificate be ordered for `name`? Asks the endpoint (one question per name at a time). With
   * `maxAsks` questions open, a handshake's new name gets no at once (not remembered): a scanner's
   * random SNI names must not pile up sockets and promises behind a slow endpoint. Renewals are
   * already bounded by the order limiter, and an issued name must not lose its renewal to a scan.
   */
  allowed(name: string, purpose: AskPurpose = 'handshake'): Promise<boolean> {
    if (!DNS_NAME.test(name) || isIpName(name)) return Promise.resolve(false);
    const until = this.denied.get(name);
    if (until !== undefined && until > this.now()) return Promise.resolve(false);
    let p = this.asking.get(name);
    if (!p) {
      if (purpose === 'handshake' && this.asking.size >= this.limits.maxAsks) return Promise.resolve(this.refuseForLoad(name));
      p = this.query(name).finally(() => this.asked(name));
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

  /** One line when a burst starts and one when it is over (every question answered), never one per name. */
  private refuseForLoad(name: string): false {
    if (this.refused++ === 0) {
      this.logger.warn(`on-demand TLS: ${this.limits.maxAsks} ask requests are open; new names get the default certificate until they are answered`, {
        ask: this.ask,
        first: name,
      });
    }
    return false;
  }

  private asked(name: string): void {
    this.asking.delete(name);
    if (this.asking.size > 0 || this.refused === 0) return;
    this.logger.info('on-demand TLS: ask caught up; names refused while it was busy', { refused: this.refused });
    this.refused = 0;
  }

  private deny(name: string): void {
    if (this.denied.size > 10_000) this.denied.clear();
    this.denied.set(name, this.now() + this.limits.denyTtlMs);
  }
}
