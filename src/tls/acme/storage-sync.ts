// Following what other processes store (a certificate, or the outcome of an attempt: cert-store.ts
// announces both through the change marker). One read while the marker is unchanged; after a change,
// two reads per record (its chain and its state), and a full load only of a chain that changed.
import type { Logger } from '../../log/types.js';
import type { AcmeCertStore, NameState, StoredPair } from './cert-store.js';
import { sameOutcome, type Managed } from './record.js';

export interface SyncTarget {
  records(): Iterable<Managed>;
  /** Serves a pair another process stored; false when it cannot be used for the record. */
  install(m: Managed, pair: StoredPair, state: NameState | undefined): boolean;
  /** Follows a renewal outcome another process recorded. */
  adopt(m: Managed, state: NameState | undefined): void;
}

export class StorageSync {
  private marker: string | undefined;
  private initialized = false;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly store: AcmeCertStore,
    private readonly logger: Logger,
    private readonly target: SyncTarget,
  ) {}

  /** The marker as it is now: what is loaded from here on is current. */
  async init(): Promise<void> {
    if (this.initialized) return;
    this.marker = await this.store.changedMarker();
    this.initialized = true;
  }

  /** run(), one at a time; a request during a run runs it once more after. */
  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run()
      .catch((err: unknown) => {
        // An unreachable storage has logged its outage once already.
        if ((err as { code?: string }).code !== 'ESTORAGE_UNAVAILABLE') this.logger.warn('ACME: reading the storage failed', { error: (err as Error).message });
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.request();
        }
      });
  }

  async run(): Promise<void> {
    const marker = await this.store.changedMarker();
    if (marker === this.marker) return;
    this.marker = marker;
    for (const m of [...this.target.records()]) await this.reread(m);
  }

  /** Reads one record again; a record at work is marked and read again when its work is done. */
  async reread(m: Managed): Promise<void> {
    if (m.busy) {
      m.stale = true;
      return;
    }
    const primary = m.names[0]!;
    const [pem, state] = await Promise.all([this.store.loadCertPem(primary), this.store.loadState(primary)]);
    if (m.busy) {
      m.stale = true;
      return;
    }
    if (pem !== undefined && pem !== m.pem) {
      const pair = await this.store.load(primary);
      if (pair && !m.busy && this.target.install(m, pair, state)) {
        this.logger.info('serving a certificate another process stored', { names: m.names, serial: m.entry?.serial });
        return;
      }
    }
    if (!sameOutcome(state, m.state)) this.target.adopt(m, state);
  }
}
