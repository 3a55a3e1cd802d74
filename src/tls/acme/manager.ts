// ACME certificates of a running proxy (README "Automatic HTTPS (ACME)"): loaded from the storage at start
// (no CA involved), obtained in the background for names that have none, renewed at each certificate's
// own time, and swapped into the CertManager without a restart. What other processes store — a
// certificate, or the outcome of an attempt (cron `gatehouse renew`, another instance) — is announced
// through the storage's change marker and followed the same way (storage-sync.ts).
//
// This file wires the parts together and is the proxy's one entry point; the parts are:
//  - managed-records.ts: the records, and how a certificate becomes the served one;
//  - renewal-timers.ts: each record's own timer, and the attempts it starts (attempt.ts);
//  - ari-poller.ts: the CA's renewal windows; storage-sync.ts: what other processes stored.
// The periodic check is a safety net (a lost timer, a clock step) and stays cheap: each record keeps its
// times as numbers, so a check of 1,000 certificates is 1,000 comparisons, and the CA, the storage and X.509
// parsing are touched only for records that are due.
import type { AcmeConfig } from '../../config/types.js';
import type { Logger } from '../../log/types.js';
import { acmeChangedKey } from '../../storage/keys.js';
import { normalizeName } from '../names.js';
import type { CertEntry } from '../types.js';
import { AriPoller } from './ari-poller.js';
import { AcmeCertStore } from './cert-store.js';
import type { OrderIssuer } from './issuer-chain.js';
import type { AcmeKnobs } from './knobs.js';
import { keyOf, ManagedRecords, type CertSink } from './managed-records.js';
import { Obtainer } from './obtain.js';
import { OnDemandGate } from './on-demand.js';
import { RenewalTimers } from './renewal-timers.js';
import { StorageSync } from './storage-sync.js';

export type { CertSink } from './managed-records.js';

export interface AcmeManagerOptions {
  config: AcmeConfig;
  issuer: OrderIssuer;
  sink: CertSink;
  logger: Logger;
  knobs: AcmeKnobs;
  now?: () => number;
  /** For tests: the draw of each certificate's jitter (default Math.random). */
  random?: () => number;
}

export class AcmeManager {
  private readonly records: ManagedRecords;
  private readonly timers: RenewalTimers;
  private readonly gate: OnDemandGate | undefined;
  private readonly now: () => number;
  private readonly closing = new AbortController();
  private readonly ari: AriPoller;
  private readonly follower: StorageSync;
  private intervals: NodeJS.Timeout[] = [];
  private running = false;
  private unwatch: (() => void) | undefined;

  constructor(private readonly o: AcmeManagerOptions) {
    const now = (this.now = o.now ?? Date.now);
    const { logger } = o;
    const closing = this.closing.signal;
    const store = new AcmeCertStore(o.issuer.storage, o.issuer.key);
    const obtainer = new Obtainer(o.issuer, store, logger, now);
    this.gate = o.config.onDemand ? new OnDemandGate(o.config.onDemand.ask, logger) : undefined;
    // The parts call each other only through these arrows, each reached after the constructor is done.
    this.records = new ManagedRecords({
      store,
      sink: o.sink,
      logger,
      now,
      renewBeforeMs: o.config.renewBeforeMs,
      random: o.random ?? Math.random,
      certIdOf: (m) => this.ari.certIdOf(m),
      fire: (m) => void this.timers.fire(m),
      settle: (m, origin) => this.timers.settle(m, origin),
    });
    const records = this.records;
    this.ari = new AriPoller({ issuer: o.issuer, store, logger, signal: closing, now, updateDue: (m) => records.updateDue(m), settle: (m) => this.timers.settle(m, 'here'), onEnabled: () => this.timers.armAll() });
    const install = records.install.bind(records);
    this.follower = new StorageSync(store, logger, { records: () => records.values(), install, adopt: (m, state) => records.adopt(m, state) });
    this.timers = new RenewalTimers({
      records,
      ari: this.ari,
      logger,
      now,
      closing,
      attemptContext: { obtainer, store, gate: this.gate, logger, now, closing, install, drop: (m) => records.drop(m) },
      reread: (m) => this.follower.reread(m),
    });
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
    for (const [key, m] of [...this.records.entries()]) if (!m.onDemand && !wanted.has(key)) this.records.drop(m);
    await Promise.all(
      [...wanted].map(async ([key, names]) => {
        const known = this.records.get(key);
        if (known) {
          if (known.entry) this.o.sink.replaceEntry(known.names, known.entry);
          return;
        }
        await this.records.loadStored(this.records.add(names, false));
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
      this.intervals.push(t);
    };
    every(this.o.knobs.checkIntervalMs, () => this.check());
    every(this.o.knobs.syncIntervalMs, () => this.follower.request());
    // Both storages announce changes (Redis by pub/sub, the folder by fs.watch plus a stat poll); the
    // interval above is the fallback for a missed one.
    this.unwatch = this.o.issuer.storage.watch?.(acmeChangedKey(this.o.issuer.key), () => {
      this.follower.request();
      this.timers.retryStorageWaits();
    });
    void this.ari.start();
    this.timers.start();
  }

  close(): void {
    this.running = false;
    this.unwatch?.();
    this.unwatch = undefined;
    for (const t of this.intervals) clearInterval(t);
    this.intervals = [];
    this.timers.stop();
    this.closing.abort(new Error('gatehouse is stopping'));
  }

  /** The safety net behind the timers: starts whatever is due; returns how many records it started. */
  check(): number {
    let started = 0;
    for (const m of this.records.values()) if (this.timers.fire(m)) started++;
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
    // A failed order is tried again by a later handshake once its back-off has run out, not by a timer.
    if (m && this.now() < m.nextAttempt) return undefined;
    if (!(await this.gate.allowed(name))) return undefined;
    m = this.records.get(name) ?? this.records.add([name], true);
    if (m.busy) {
      await m.busy;
      return m.entry;
    }
    if (!this.gate.take()) {
      this.o.logger.warn('on-demand TLS: too many orders; serving the default certificate for now', { name });
      return undefined;
    }
    this.timers.launch(m, 'obtain', () => this.gate?.release());
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
        if (this.records.get(name)) return;
        await this.records.loadStored(this.records.add([name], true));
      }),
    );
  }

  /** Managed records, for tests and the benchmark. */
  get size(): number {
    return this.records.size;
  }

  /** When the record holding `name` wakes next (ms since epoch), for tests. */
  wakeTime(name: string): number | undefined {
    return this.records.find(name)?.timer.when;
  }
}
