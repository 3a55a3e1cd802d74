// The proxy's side of ARI (RFC 9773): whether the CA offers renewalInfo, and polling each certificate's
// window at the time the last answer's Retry-After allows (§4.3). A window that moves changes the
// record's due time; the chosen moment is kept in the storage so every process and `gatehouse certs`
// agree on it.
import { X509Certificate } from 'node:crypto';
import type { Logger } from '../../log/types.js';
import { refreshAri } from './ari.js';
import type { AcmeCertStore } from './cert-store.js';
import { ariCertId } from './der.js';
import type { OrderIssuer } from './issuer-chain.js';
import { limiter } from './limiter.js';
import type { Managed } from './record.js';

const HOUR = 3600_000;
/** 1,000 certificates poll every few hours; a handful of requests at a time is plenty. */
const MAX_CONCURRENT_ARI = 8;
const DIRECTORY_RETRY_MS = 10 * 60_000;

export interface AriPollerOptions {
  issuer: OrderIssuer;
  store: AcmeCertStore;
  logger: Logger;
  signal: AbortSignal;
  now: () => number;
  /** Sets the record's due time from its current state (the manager's rule). */
  updateDue(m: Managed): void;
  /** A poll finished: the record's timer is set again. */
  settle(m: Managed): void;
  /** renewalInfo turned out to exist: every record's timer now includes its poll. */
  onEnabled(): void;
}

export class AriPoller {
  /** renewalInfo's base URL; undefined when the CA has none, null while unknown. */
  private base: string | undefined | null = null;
  private readonly fetches = limiter(MAX_CONCURRENT_ARI);

  constructor(private readonly o: AriPollerOptions) {}

  get enabled(): boolean {
    return Boolean(this.base);
  }

  async start(): Promise<void> {
    try {
      this.base = (await this.o.issuer.renewalInfoUrl(this.o.signal)) ?? undefined;
      if (this.base) this.o.onEnabled();
    } catch {
      this.base = null; // unknown: looked up again later, or at the next order
      if (this.o.signal.aborted) return;
      const t = setTimeout(() => void this.start(), DIRECTORY_RETRY_MS);
      t.unref();
    }
  }

  certIdOf(m: Managed): string | undefined {
    if (m.certId === undefined && m.pem !== undefined) m.certId = ariCertId(Buffer.from(new X509Certificate(m.pem).raw)) ?? '';
    return m.certId || undefined;
  }

  /** One fetch at a time per record; its timer is set again when it is done. */
  poll(m: Managed): void {
    m.ariNextFetch = Infinity;
    void this.fetches(() => this.refresh(m))
      .catch(() => (m.ariNextFetch = this.o.now() + HOUR))
      .finally(() => this.o.settle(m));
  }

  private async refresh(m: Managed): Promise<void> {
    const certId = this.certIdOf(m);
    if (!this.base || !certId) {
      m.ariNextFetch = this.o.now() + HOUR;
      return;
    }
    const next = await refreshAri({ baseUrl: this.base, certId, previous: m.state?.ari, now: this.o.now(), signal: this.o.signal });
    if (this.certIdOf(m) !== certId) return; // renewed meanwhile: the new certificate gets its own window
    if (!next) {
      m.ariNextFetch = this.o.now() + HOUR;
      return;
    }
    m.ariNextFetch = Date.parse(next.nextFetch);
    const changed = next.chosen !== m.state?.ari?.chosen || next.certId !== m.state?.ari?.certId;
    m.state = { ...(m.state ?? { names: m.names, failures: 0, lastError: null, nextAttempt: null }), ari: next };
    this.o.updateDue(m);
    if (changed) {
      this.o.logger.info('ACME renewal window (ARI)', { names: m.names, start: next.start, end: next.end, renewAt: new Date(m.due).toISOString() });
      const stored = (await this.o.store.loadState(m.names[0]!)) ?? m.state;
      await this.o.store.saveState(m.names[0]!, { ...stored, ari: next }, { announce: false }).catch(() => undefined);
    }
  }
}
