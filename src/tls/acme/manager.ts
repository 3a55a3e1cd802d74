// ACME certificates of a running proxy (README "Automatic HTTPS (ACME)"): loaded from the storage at start (no CA involved),
// obtained in the background for names that have none, renewed by one loop, and swapped into the
// CertManager without a restart. Another process (cron `gatehouse renew`, another instance) storing a
// certificate is noticed through the storage's change marker and picked up the same way.
//
// The loop is cheap by design: each record keeps its due time and next attempt as numbers, so a check of
// 1,000 certificates is 1,000 comparisons; the CA, the storage and X.509 parsing are touched only for
// records that are due.
import { X509Certificate } from 'node:crypto';
import type { AcmeConfig } from '../../config/types.js';
import type { Logger } from '../../log/types.js';
import { createCertEntry, type LoadedCertEntry } from '../cert-entry.js';
import { normalizeName } from '../names.js';
import type { CertEntry } from '../types.js';
import { refreshAri } from './ari.js';
import { AcmeCertStore, type NameState, type StoredPair } from './cert-store.js';
import { ariCertId } from './der.js';
import type { AcmeIssuer } from './issuer.js';
import type { AcmeKnobs } from './knobs.js';
import { ObtainError, Obtainer } from './obtain.js';
import { OnDemandGate } from './on-demand.js';
import { limiter } from './limiter.js';
import { acmeChangedKey } from '../../storage/keys.js';
import { dueTime } from './schedule.js';

/** Where certificates go to be served (the CertManager). */
export interface CertSink {
  replaceEntry(names: readonly string[], entry: CertEntry): void;
}

interface Managed {
  names: string[];
  onDemand: boolean;
  entry?: LoadedCertEntry;
  /** The served chain as stored, to notice a change in the storage by comparing text. */
  pem?: string;
  /** ARI CertID of `entry`, computed when first needed. */
  certId?: string;
  /** ms since epoch; Infinity while there is no certificate. */
  due: number;
  /** Not before this time (back-off after a failure). */
  nextAttempt: number;
  state?: NameState;
  ariNextFetch: number;
  busy?: Promise<void>;
  /** The last attempt failed because the storage was unreachable: retried as soon as it is back. */
  storageWait?: boolean;
}

const ORDER_DEADLINE_MS = 5 * 60_000;
const MAX_CONCURRENT_ORDERS = 4;
const MAX_CONCURRENT_ARI = 8;

export interface AcmeManagerOptions {
  config: AcmeConfig;
  issuer: AcmeIssuer;
  sink: CertSink;
  logger: Logger;
  knobs: AcmeKnobs;
  now?: () => number;
}

export class AcmeManager {
  private readonly records = new Map<string, Managed>();
  private readonly obtainer: Obtainer;
  private readonly store: AcmeCertStore;
  private readonly gate: OnDemandGate | undefined;
  private readonly now: () => number;
  private readonly closing = new AbortController();
  private timers: NodeJS.Timeout[] = [];
  private marker: string | undefined;
  private unwatch: (() => void) | undefined;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private ariBase: string | undefined | null = null;
  /** Orders in flight are bounded; so are renewalInfo fetches (1,000 certificates poll every few hours). */
  private readonly orders = limiter(MAX_CONCURRENT_ORDERS);
  private readonly ariFetches = limiter(MAX_CONCURRENT_ARI);

  constructor(private readonly o: AcmeManagerOptions) {
    this.now = o.now ?? Date.now;
    this.store = new AcmeCertStore(o.issuer.storage, o.issuer.key);
    this.obtainer = new Obtainer(o.issuer, this.store, o.logger, this.now);
    this.gate = o.config.onDemand ? new OnDemandGate(o.config.onDemand.ask, o.logger) : undefined;
  }

  get onDemandEnabled(): boolean {
    return this.gate !== undefined;
  }

  /**
   * Sets the managed name sets (config order, primary first) and serves what the storage has for them.
   * Never talks to the CA.
   */
  async setNames(nameSets: readonly string[][]): Promise<void> {
    this.marker ??= await this.store.changedMarker();
    const wanted = new Map(nameSets.map((n) => [keyOf(n), n.map(normalizeName)]));
    for (const [key, m] of this.records) if (!m.onDemand && !wanted.has(key)) this.records.delete(key);
    await Promise.all(
      [...wanted].map(async ([key, names]) => {
        if (this.records.has(key)) {
          const m = this.records.get(key)!;
          if (m.entry) this.o.sink.replaceEntry(m.names, m.entry);
          return;
        }
        const m: Managed = { names, onDemand: false, due: Infinity, nextAttempt: 0, ariNextFetch: 0 };
        this.records.set(key, m);
        await this.loadStored(m);
      }),
    );
  }

  /** Starts the loop; names without a certificate are ordered now, in the background. */
  start(): void {
    if (this.timers.length > 0) return;
    const every = (ms: number, fn: () => void): void => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.o.knobs.checkIntervalMs, () => this.check());
    every(this.o.knobs.syncIntervalMs, () => this.requestSync());
    // A shared storage announces stores (another instance, `gatehouse renew`): look at once; the interval
    // above stays as the fallback for storages without notifications and for missed ones.
    this.unwatch = this.o.issuer.storage.watch?.(acmeChangedKey(this.o.issuer.key), () => {
      this.requestSync();
      this.retryStorageWaits();
    });
    void this.refreshAriBase();
    this.check();
  }

  close(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.closing.abort(new Error('gatehouse is stopping'));
  }

  /** One pass of the renewal loop: starts the work that is due; returns how many records it started. */
  check(): number {
    const now = this.now();
    let started = 0;
    for (const m of this.records.values()) {
      if (m.busy || now < m.nextAttempt) continue;
      if (m.entry === undefined ? !m.onDemand : now >= m.due) {
        this.launch(m, m.entry === undefined ? 'obtain' : 'renew');
        started++;
      } else if (this.ariBase && now >= m.ariNextFetch) {
        m.ariNextFetch = Infinity; // one fetch at a time per record; set again when it is done
        void this.ariFetches(() => this.refreshAri(m)).catch(() => (m.ariNextFetch = this.now() + 3600_000));
      }
    }
    return started;
  }

  /** sync(), one at a time; a request during a run runs it once more after. */
  requestSync(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = this.sync()
      .catch((err: unknown) => {
        // An unreachable storage has logged its outage once already.
        if ((err as { code?: string }).code !== 'ESTORAGE_UNAVAILABLE') this.o.logger.warn('ACME: reading the storage failed', { error: (err as Error).message });
      })
      .finally(() => {
        this.syncing = undefined;
        if (this.syncAgain) {
          this.syncAgain = false;
          this.requestSync();
        }
      });
  }

  /** Picks up certificates other processes stored (cheap when the change marker is unchanged). */
  async sync(): Promise<void> {
    const marker = await this.store.changedMarker();
    if (marker === this.marker) return;
    this.marker = marker;
    for (const m of this.records.values()) {
      if (m.busy) continue;
      const pem = await this.store.loadCertPem(m.names[0]!);
      if (pem === undefined || pem === m.pem) continue;
      const pair = await this.store.load(m.names[0]!);
      if (!pair) continue;
      const state = await this.store.loadState(m.names[0]!);
      if (this.install(m, pair, state)) this.o.logger.info('serving a certificate another process stored', { names: m.names, serial: m.entry?.serial });
    }
  }

  /** On-demand TLS at a handshake for a name no certificate covers; undefined → the default certificate. */
  async onDemand(servername: string): Promise<CertEntry | undefined> {
    if (!this.gate) return undefined;
    const name = normalizeName(servername);
    let m = this.records.get(name);
    if (m?.entry) return m.entry;
    if (m?.busy) {
      await m.busy;
      return m.entry;
    }
    if (m && this.now() < m.nextAttempt) return undefined;
    if (!(await this.gate.allowed(name))) return undefined;
    m = this.records.get(name) ?? { names: [name], onDemand: true, due: Infinity, nextAttempt: 0, ariNextFetch: 0 };
    this.records.set(name, m);
    if (m.busy) {
      await m.busy;
      return m.entry;
    }
    if (!this.gate.take()) {
      this.o.logger.warn('on-demand TLS: too many orders; serving the default certificate for now', { name });
      return undefined;
    }
    this.launch(m, 'obtain', () => this.gate?.release());
    await m.busy;
    return m.entry;
  }

  /** Names issued on demand that this manager serves (carried over when a reload replaces it). */
  onDemandNames(): string[] {
    return [...this.records.values()].filter((m) => m.onDemand && m.entry).map((m) => m.names[0]!);
  }

  /** Takes over on-demand certificates from a previous manager (they are renewed from now on). */
  async adoptOnDemand(names: readonly string[]): Promise<void> {
    await Promise.all(
      names.map(async (name) => {
        if (this.records.has(name)) return;
        const m: Managed = { names: [name], onDemand: true, due: Infinity, nextAttempt: 0, ariNextFetch: 0 };
        this.records.set(name, m);
        await this.loadStored(m);
      }),
    );
  }

  /** Managed records, for tests and the benchmark. */
  get size(): number {
    return this.records.size;
  }

  private async loadStored(m: Managed): Promise<void> {
    const [pair, state] = await Promise.all([this.store.load(m.names[0]!), this.store.loadState(m.names[0]!)]);
    const installed = pair !== undefined && this.install(m, pair, state);
    if (!installed) m.state = state;
    // A failing renewal keeps its back-off across restarts; a name without a certificate is tried at once.
    if (installed && state?.nextAttempt) m.nextAttempt = Date.parse(state.nextAttempt);
  }

  /** Serves `pair` for the record if it covers the record's names (even expired: it is then due at once). */
  private install(m: Managed, pair: StoredPair, state: NameState | undefined): boolean {
    let entry: LoadedCertEntry;
    try {
      entry = createCertEntry({ certPem: pair.certPem, keyPem: pair.keyPem, source: 'acme' });
    } catch (err) {
      this.o.logger.error('a stored ACME certificate cannot be used', { names: m.names, error: (err as Error).message });
      return false;
    }
    // Never remove what is serving (README "Automatic HTTPS (ACME)"): an expired certificate still beats none.
    if (!m.names.every((n) => entry.covers(n))) return false;
    m.entry = entry;
    m.pem = pair.certPem;
    m.certId = undefined;
    m.state = state;
    if (!state?.nextAttempt) m.nextAttempt = 0;
    m.ariNextFetch = 0;
    m.due = this.dueOf(m);
    this.o.sink.replaceEntry(m.names, entry);
    return true;
  }

  private dueOf(m: Managed): number {
    if (!m.entry) return Infinity;
    const ari = m.state?.ari && m.state.ari.certId === this.certIdOf(m) ? Date.parse(m.state.ari.chosen) : undefined;
    return dueTime(m.entry, this.o.config.renewBeforeMs, ari);
  }

  private launch(m: Managed, why: 'obtain' | 'renew', done?: () => void): void {
    m.busy = this.orders(() => this.work(m, why)).finally(() => {
      m.busy = undefined;
      done?.();
    });
  }

  private async work(m: Managed, why: 'obtain' | 'renew'): Promise<void> {
    if (this.closing.signal.aborted) return;
    const signal = AbortSignal.any([this.closing.signal, AbortSignal.timeout(ORDER_DEADLINE_MS)]);
    const current = m.entry;
    // An on-demand certificate is renewed only while `ask` still allows its name (or on-demand is off).
    if (m.onDemand && current && !(await this.gate?.allowed(m.names[0]!, 'renewal'))) {
      this.records.delete(m.names[0]!);
      this.o.logger.info('on-demand TLS: not renewing a certificate whose name ask no longer allows', { name: m.names[0], expires: current.notAfter.toISOString() });
      return;
    }
    try {
      const r = await this.obtainer.obtain(m.names, {
        ...(current ? { replacing: current.fingerprint256 } : {}),
        respectBackoff: why === 'renew',
        useAri: true,
        onDemand: m.onDemand,
        signal,
      });
      if (r.kind === 'backoff') {
        m.state = r.state;
        m.nextAttempt = Date.parse(r.state.nextAttempt ?? '') || this.now() + 60_000;
        return;
      }
      this.install(m, r.pair, r.kind === 'issued' ? { names: m.names, failures: 0, lastError: null, nextAttempt: null } : await this.store.loadState(m.names[0]!));
      if (r.kind === 'issued') {
        this.o.logger.info(current ? 'certificate renewed' : 'certificate obtained', {
          names: m.names,
          serial: m.entry?.serial,
          notAfter: m.entry?.notAfter.toISOString(),
          challenge: r.pair.meta.challenge,
          ms: r.ms,
        });
      }
    } catch (err) {
      if (this.closing.signal.aborted) return;
      if (err instanceof ObtainError) {
        m.state = err.state;
        m.nextAttempt = Date.parse(err.state.nextAttempt ?? '') || this.now() + 60_000;
        this.o.logger.error(`could not ${current ? 'renew' : 'obtain'} a certificate for ${m.names.join(', ')}: ${err.message}`, {
          challenge: err.lastError.challenge,
          fix: err.lastError.hint,
          nextAttempt: err.state.nextAttempt,
          ...(current ? { serving: `the current certificate (expires ${current.notAfter.toISOString()})` } : {}),
        });
      } else {
        m.nextAttempt = this.now() + 60_000;
        m.storageWait = (err as { code?: string }).code === 'ESTORAGE_UNAVAILABLE';
        this.o.logger.error(`ACME: ${why} for ${m.names.join(', ')} failed: ${(err as Error).message}`);
      }
    }
  }

  private retryStorageWaits(): void {
    let any = false;
    for (const m of this.records.values()) {
      if (!m.storageWait) continue;
      m.storageWait = false;
      m.nextAttempt = 0;
      any = true;
    }
    if (any) this.check();
  }

  private async refreshAriBase(): Promise<void> {
    try {
      this.ariBase = (await this.o.issuer.renewalInfoUrl(this.closing.signal)) ?? undefined;
    } catch {
      this.ariBase = null; // unknown: looked up again at the next order
      const t = setTimeout(() => void this.refreshAriBase(), 10 * 60_000);
      t.unref();
    }
  }

  private certIdOf(m: Managed): string | undefined {
    if (m.certId === undefined && m.pem !== undefined) m.certId = ariCertId(Buffer.from(new X509Certificate(m.pem).raw)) ?? '';
    return m.certId || undefined;
  }

  private async refreshAri(m: Managed): Promise<void> {
    const certId = this.certIdOf(m);
    if (!this.ariBase || !certId) {
      m.ariNextFetch = this.now() + 3600_000;
      return;
    }
    const next = await refreshAri({ baseUrl: this.ariBase, certId, previous: m.state?.ari, now: this.now(), signal: this.closing.signal });
    if (this.certIdOf(m) !== certId) return; // renewed meanwhile: the new certificate gets its own window
    if (!next) {
      m.ariNextFetch = this.now() + 3600_000;
      return;
    }
    m.ariNextFetch = Date.parse(next.nextFetch);
    const changed = next.chosen !== m.state?.ari?.chosen || next.certId !== m.state?.ari?.certId;
    m.state = { ...(m.state ?? { names: m.names, failures: 0, lastError: null, nextAttempt: null }), ari: next };
    m.due = this.dueOf(m);
    if (changed) {
      this.o.logger.info('ACME renewal window (ARI)', { names: m.names, start: next.start, end: next.end, renewAt: new Date(m.due).toISOString() });
      const stored = (await this.store.loadState(m.names[0]!)) ?? m.state;
      await this.store.saveState(m.names[0]!, { ...stored, ari: next }).catch(() => undefined);
    }
  }
}

function keyOf(names: readonly string[]): string {
  return [...new Set(names.map(normalizeName))].sort().join(',');
}
