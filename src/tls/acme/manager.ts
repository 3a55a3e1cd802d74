// ACME certificates of a running proxy (README "Automatic HTTPS (ACME)"): loaded from the storage at start
// (no CA involved), obtained in the background for names that have none, renewed at each certificate's
// own time (record.ts), and swapped into the CertManager without a restart. What other processes store —
// a certificate, or the outcome of an attempt (cron `gatehouse renew`, another instance) — is announced
// through the storage's change marker and followed the same way (storage-sync.ts).
//
// Timers are per record, so nothing waits for a poll; the periodic check is a safety net (a lost timer, a
// clock step) and stays cheap: each record keeps its times as numbers, so a check of 1,000 certificates is
// 1,000 comparisons, and the CA, the storage and X.509 parsing are touched only for records that are due.
import type { AcmeConfig } from '../../config/types.js';
import type { Logger } from '../../log/types.js';
import { acmeChangedKey } from '../../storage/keys.js';
import { createCertEntry, type LoadedCertEntry } from '../cert-entry.js';
import { normalizeName } from '../names.js';
import type { CertEntry } from '../types.js';
import { AriPoller } from './ari-poller.js';
import { attempt, type AttemptContext } from './attempt.js';
import { AcmeCertStore, type NameState, type StoredPair } from './cert-store.js';
import { noteHealth, type Origin } from './health.js';
import type { AcmeIssuer } from './issuer.js';
import type { AcmeKnobs } from './knobs.js';
import { limiter } from './limiter.js';
import { Obtainer } from './obtain.js';
import { OnDemandGate } from './on-demand.js';
import { attemptAt, wakeAt, type Managed } from './record.js';
import { dueTime, maxJitter } from './schedule.js';
import { StorageSync } from './storage-sync.js';
import { AtTimer } from './timer.js';

/** Where certificates go to be served (the CertManager). */
export interface CertSink {
  replaceEntry(names: readonly string[], entry: CertEntry): void;
}

const MAX_CONCURRENT_ORDERS = 4;

export interface AcmeManagerOptions {
  config: AcmeConfig;
  issuer: AcmeIssuer;
  sink: CertSink;
  logger: Logger;
  knobs: AcmeKnobs;
  now?: () => number;
  /** For tests: the draw of each certificate's jitter (default Math.random). */
  random?: () => number;
}

export class AcmeManager {
  private readonly records = new Map<string, Managed>();
  private readonly obtainer: Obtainer;
  private readonly store: AcmeCertStore;
  private readonly gate: OnDemandGate | undefined;
  private readonly now: () => number;
  private readonly closing = new AbortController();
  private readonly ari: AriPoller;
  private readonly follower: StorageSync;
  private readonly attemptContext: AttemptContext;
  private timers: NodeJS.Timeout[] = [];
  private running = false;
  private unwatch: (() => void) | undefined;
  /** Orders in flight are bounded (1,000 certificates due at once after a long outage). */
  private readonly orders = limiter(MAX_CONCURRENT_ORDERS);

  constructor(private readonly o: AcmeManagerOptions) {
    this.now = o.now ?? Date.now;
    this.store = new AcmeCertStore(o.issuer.storage, o.issuer.key);
    this.obtainer = new Obtainer(o.issuer, this.store, o.logger, this.now);
    this.gate = o.config.onDemand ? new OnDemandGate(o.config.onDemand.ask, o.logger) : undefined;
    const { logger } = o;
    const [store, now, closing] = [this.store, this.now, this.closing.signal];
    this.ari = new AriPoller({ issuer: o.issuer, store, logger, signal: closing, now, dueOf: (m) => this.dueOf(m), settle: (m) => this.settle(m, 'here'), onEnabled: () => this.armAll() });
    const install = (m: Managed, pair: StoredPair, state: NameState | undefined): boolean => this.install(m, pair, state);
    this.attemptContext = { obtainer: this.obtainer, store, gate: this.gate, logger, now, closing, install, drop: (m) => this.drop(m.names[0]!, m) };
    this.follower = new StorageSync(store, logger, { records: () => this.records.values(), install, adopt: (m, state) => this.adopt(m, state) });
  }

  get onDemandEnabled(): boolean {
    return this.gate !== undefined;
  }

  /**
   * Sets the managed name sets (config order, primary first) and serves what the storage has for them.
   * Never talks to the CA.
   */
  async setNames(nameSets: readonly string[][]): Promise<void> {
    await this.follower.init();
    const wanted = new Map(nameSets.map((n) => [keyOf(n), n.map(normalizeName)]));
    for (const [key, m] of this.records) if (!m.onDemand && !wanted.has(key)) this.drop(key, m);
    await Promise.all(
      [...wanted].map(async ([key, names]) => {
        const known = this.records.get(key);
        if (known) {
          if (known.entry) this.o.sink.replaceEntry(known.names, known.entry);
          return;
        }
        const m = this.newRecord(names, false);
        this.records.set(key, m);
        await this.loadStored(m);
      }),
    );
  }

  /** Starts the timers; names without a certificate are ordered now, in the background. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const every = (ms: number, fn: () => void): void => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.o.knobs.checkIntervalMs, () => this.check());
    every(this.o.knobs.syncIntervalMs, () => this.follower.request());
    // Both storages announce changes (Redis by pub/sub, the folder by fs.watch plus a stat poll); the
    // interval above is the fallback for a missed one.
    this.unwatch = this.o.issuer.storage.watch?.(acmeChangedKey(this.o.issuer.key), () => {
      this.follower.request();
      this.retryStorageWaits();
    });
    void this.ari.start();
    this.armAll();
  }

  close(): void {
    this.running = false;
    this.unwatch?.();
    this.unwatch = undefined;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const m of this.records.values()) m.timer.clear();
    this.closing.abort(new Error('gatehouse is stopping'));
  }

  /** The safety net behind the timers: starts whatever is due; returns how many records it started. */
  check(): number {
    let started = 0;
    for (const m of this.records.values()) if (this.fire(m)) started++;
    return started;
  }

  /** Picks up certificates and renewal outcomes other processes stored (cheap when nothing changed). */
  sync(): Promise<void> {
    return this.follower.run();
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
    m = this.records.get(name) ?? this.newRecord([name], true);
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
        const m = this.newRecord([name], true);
        this.records.set(name, m);
        await this.loadStored(m);
      }),
    );
  }

  /** Managed records, for tests and the benchmark. */
  get size(): number {
    return this.records.size;
  }

  /** When the record holding `name` wakes next (ms since epoch), for tests. */
  wakeTime(name: string): number | undefined {
    for (const m of this.records.values()) if (m.names.includes(normalizeName(name))) return m.timer.when;
    return undefined;
  }

  private newRecord(names: string[], onDemand: boolean): Managed {
    const m: Managed = { names, onDemand, due: Infinity, nextAttempt: 0, ariNextFetch: 0, jitter: 0, timer: new AtTimer(() => this.fire(m), this.now) };
    return m;
  }

  private drop(key: string, m: Managed): void {
    m.timer.clear();
    this.records.delete(key);
  }

  private async loadStored(m: Managed): Promise<void> {
    const [pair, state] = await Promise.all([this.store.load(m.names[0]!), this.store.loadState(m.names[0]!)]);
    if (pair !== undefined && this.install(m, pair, state)) return;
    // No certificate yet: ordered at once at start, whatever back-off an earlier run recorded.
    m.state = state;
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
    // Never remove what is serving: an expired certificate still beats none.
    if (!m.names.every((n) => entry.covers(n))) return false;
    m.entry = entry;
    m.pem = pair.certPem;
    m.certId = undefined;
    m.state = state;
    m.nextAttempt = state?.nextAttempt ? Date.parse(state.nextAttempt) : 0;
    m.ariNextFetch = 0;
    m.due = this.dueOf(m);
    m.jitter = (this.o.random ?? Math.random)() * maxJitter(entry);
    this.o.sink.replaceEntry(m.names, entry);
    this.settle(m, 'elsewhere');
    return true;
  }

  /** Follows an outcome recorded in the storage (another process's failure, or its back-off). */
  private adopt(m: Managed, state: NameState | undefined): void {
    m.state = state;
    m.nextAttempt = state?.nextAttempt ? Date.parse(state.nextAttempt) : 0;
    m.due = this.dueOf(m);
    this.settle(m, 'elsewhere');
  }

  private dueOf(m: Managed): number {
    if (!m.entry) return Infinity;
    const certId = this.ari.certIdOf(m);
    const ari = m.state?.ari && m.state.ari.certId === certId ? Date.parse(m.state.ari.chosen) : undefined;
    return dueTime(m.entry, this.o.config.renewBeforeMs, ari);
  }

  /** Logs a change of state, and sets the record's timer for its next moment. */
  private settle(m: Managed, origin: Origin): void {
    if (!this.running || m.busy) return;
    noteHealth(m, this.now(), this.o.logger, origin);
    m.timer.set(wakeAt(m, this.now(), this.ari.enabled));
  }

  private armAll(): void {
    for (const m of this.records.values()) this.settle(m, 'here');
  }

  /** A record's timer went off (or the safety net looks): starts what is due; true when an order started. */
  private fire(m: Managed): boolean {
    if (!this.running || m.busy || this.closing.signal.aborted) return false;
    const now = this.now();
    if (now >= attemptAt(m)) {
      m.timer.clear();
      this.launch(m, m.entry === undefined ? 'obtain' : 'renew');
      return true;
    }
    if (m.entry && this.ari.enabled && now >= m.ariNextFetch) this.ari.poll(m);
    else this.settle(m, 'here');
    return false;
  }

  private launch(m: Managed, why: 'obtain' | 'renew', done?: () => void): void {
    m.busy = this.orders(() => attempt(this.attemptContext, m, why)).finally(() => {
      m.busy = undefined;
      done?.();
      this.settle(m, 'here');
      if (m.stale) {
        m.stale = false;
        void this.follower.reread(m).catch(() => undefined);
      }
    });
  }

  private retryStorageWaits(): void {
    for (const m of this.records.values()) {
      if (m.storageFailed !== 'unavailable' || m.busy) continue;
      m.nextAttempt = 0;
      this.fire(m);
    }
  }
}

function keyOf(names: readonly string[]): string {
  return [...new Set(names.map(normalizeName))].sort().join(',');
}
