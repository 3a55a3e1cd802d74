// The certificates one proxy manages (one record per name set, record.ts) and the one way a certificate
// becomes the served one: install(), whether it comes from the storage at start, from this process's order
// or from what another process stored. Every install, and every outcome adopted from the storage,
// recomputes the record's due time here, so a timer (renewal-timers.ts) never runs on the times of a
// certificate that is no longer served.
import type { Logger } from '../../log/types.js';
import { createCertEntry, type LoadedCertEntry } from '../cert-entry.js';
import { normalizeName } from '../names.js';
import type { CertEntry } from '../types.js';
import type { AcmeCertStore, NameState, StoredPair } from './cert-store.js';
import type { Origin } from './health.js';
import type { Managed } from './record.js';
import { dueTime, maxJitter } from './schedule.js';
import { AtTimer } from './timer.js';

/** Where certificates go to be served (the CertManager). */
export interface CertSink {
  replaceEntry(names: readonly string[], entry: CertEntry): void;
}

export interface ManagedRecordsOptions {
  store: AcmeCertStore;
  sink: CertSink;
  logger: Logger;
  now: () => number;
  /** `acme.renewBefore` from the config (schedule.ts ruleTime). */
  renewBeforeMs: number | undefined;
  /** The draw of each certificate's jitter (Math.random; fixed in tests). */
  random: () => number;
  /** The ARI CertID of a record's certificate (ari-poller.ts): a stored window counts only for it. */
  certIdOf(m: Managed): string | undefined;
  /** A record's own timer went off. */
  fire(m: Managed): void;
  /** A record's times changed: log a change of state and set its timer again. */
  settle(m: Managed, origin: Origin): void;
}

/** The key of a name set: the same names in any order and case are one record. */
export function keyOf(names: readonly string[]): string {
  return [...new Set(names.map(normalizeName))].sort().join(',');
}

export class ManagedRecords {
  private readonly byKey = new Map<string, Managed>();

  constructor(private readonly o: ManagedRecordsOptions) {}

  get size(): number {
    return this.byKey.size;
  }

  values(): IterableIterator<Managed> {
    return this.byKey.values();
  }

  entries(): IterableIterator<[string, Managed]> {
    return this.byKey.entries();
  }

  get(key: string): Managed | undefined {
    return this.byKey.get(key);
  }

  /** The record serving `name` among its names. */
  find(name: string): Managed | undefined {
    const n = normalizeName(name);
    for (const m of this.byKey.values()) if (m.names.includes(n)) return m;
    return undefined;
  }

  /** A new record, not yet serving; `names` are normalized, primary first. */
  add(names: string[], onDemand: boolean): Managed {
    const m: Managed = { names, onDemand, due: Infinity, nextAttempt: 0, ariNextFetch: 0, jitter: 0, timer: new AtTimer(() => this.o.fire(m), this.o.now) };
    this.byKey.set(keyOf(names), m);
    return m;
  }

  /** No longer managed (left the config, or on-demand `ask` refused its renewal); what is served stays. */
  drop(m: Managed): void {
    m.timer.clear();
    this.byKey.delete(keyOf(m.names));
  }

  /** Serves what the storage has for the record, without the CA. */
  async loadStored(m: Managed): Promise<void> {
    const [pair, state] = await Promise.all([this.o.store.load(m.names[0]!), this.o.store.loadState(m.names[0]!)]);
    if (pair !== undefined && this.install(m, pair, state)) return;
    // No certificate yet: ordered at once at start, whatever back-off an earlier run recorded.
    m.state = state;
  }

  /** Serves `pair` for the record if it covers the record's names (even expired: it is then due at once). */
  install(m: Managed, pair: StoredPair, state: NameState | undefined): boolean {
    let entry: LoadedCertEntry;
    try {
      entry = createCertEntry({ certPem: pair.certPem, keyPem: pair.keyPem, source: 'acme' });
    } catch (err) {
      this.o.logger.error('a stored ACME certificate cannot be used', { names: m.names, error: (err as Error).message });
      return false;
    }
    // Never remove what is serving: an expired certificate still beats none.
    if (!m.names.every((n) => entry.covers(n))) return false;
    m.entry = entry;
    m.pem = pair.certPem;
    m.certId = undefined;
    m.state = state;
    m.nextAttempt = state?.nextAttempt ? Date.parse(state.nextAttempt) : 0;
    m.ariNextFetch = 0;
    this.updateDue(m);
    // Drawn again per certificate: the spread follows the lifetime (schedule.ts maxJitter).
    m.jitter = this.o.random() * maxJitter(entry);
    this.o.sink.replaceEntry(m.names, entry);
    this.o.settle(m, 'elsewhere');
    return true;
  }

  /** Follows an outcome recorded in the storage (another process's failure or success, or its back-off). */
  adopt(m: Managed, state: NameState | undefined): void {
    m.state = state;
    m.nextAttempt = state?.nextAttempt ? Date.parse(state.nextAttempt) : 0;
    this.updateDue(m);
    this.o.settle(m, 'elsewhere');
  }

  /** The due time from the served certificate and, if it is this certificate's, the ARI window. */
  updateDue(m: Managed): void {
    if (!m.entry) {
      m.due = Infinity;
      return;
    }
    const certId = this.o.certIdOf(m);
    const ari = m.state?.ari && m.state.ari.certId === certId ? Date.parse(m.state.ari.chosen) : undefined;
    m.due = dueTime(m.entry, this.o.renewBeforeMs, ari);
    // record.ts moves a rule's due time earlier by the jitter, an ARI moment later.
    m.dueByRule = ari === undefined || m.due < ari;
  }
}
