// The certificate list the admin side shows: the same inventory as `gatehouse certs`, read from the
// storage at most every REFRESH_MS so a scrape never waits for the storage (Redis or disk) and /metrics
// stays fast with many sites — and at once when the storage announces a change (a renewal, or a failed
// attempt recorded by any process), so /status and /metrics say what `gatehouse certs` says.
import type { Config } from '../config/types.js';
import { acmeChangedKey, issuerKeyFromDirectory } from '../storage/keys.js';
import type { Storage } from '../storage/types.js';
import { inventory, toJsonRow, type CertRow } from '../tls/acme/inventory.js';
import { RenewalFailures } from './renewal-failures.js';

const REFRESH_MS = 15_000;

export class CertificateCache {
  private rows: CertRow[] = [];
  private loadedAt = 0;
  private loading: Promise<void> | undefined;
  private again = false;
  private lastFailure: string | undefined;
  private watched: { key: string; stop: () => void } | undefined;
  private closed = false;
  /** Renewal failures per certificate, counted across refreshes. */
  readonly failures = new RenewalFailures();

  constructor(
    private readonly config: () => Config,
    private readonly storage: Storage,
  ) {}

  /** The cached rows; starts a background refresh when they are older than REFRESH_MS. */
  current(now = Date.now()): CertRow[] {
    this.follow();
    if (now - this.loadedAt > REFRESH_MS) void this.refresh();
    return this.rows;
  }

  /** Waits for the first load (the first scrape after start shows the certificates). */
  async ready(): Promise<CertRow[]> {
    this.follow();
    if (this.loadedAt === 0) await this.refresh();
    return this.rows;
  }

  /** Why the last refresh failed, if it did (shown on /status). */
  get failure(): string | undefined {
    return this.lastFailure;
  }

  refresh(): Promise<void> {
    // Watching starts with the first read (the admin server's start), not with the first request: a change
    // announced before anyone asked must still be seen at once.
    this.follow();
    if (this.loading) {
      this.again = true; // a change announced while reading: read once more after
      return this.loading;
    }
    this.loading = inventory(this.config(), this.storage)
      .then(
        (rows) => {
          this.failures.update(rows);
          this.rows = rows.map(toJsonRow);
          this.lastFailure = undefined;
        },
        (err: unknown) => {
          this.lastFailure = `cannot list certificates: ${(err as Error).message}`;
        },
      )
      .finally(() => {
        this.loadedAt = Date.now();
        this.loading = undefined;
        if (this.again) {
          this.again = false;
          void this.refresh();
        }
      });
    return this.loading;
  }

  close(): void {
    this.closed = true;
    this.unfollow();
  }

  private unfollow(): void {
    this.watched?.stop();
    this.watched = undefined;
  }

  /** Watches the change marker of the configured CA (it moves with acme.directory on a reload). */
  private follow(): void {
    const acme = this.config().acme;
    const key = acme ? acmeChangedKey(issuerKeyFromDirectory(acme.directory)) : undefined;
    if (this.closed || key === this.watched?.key) return;
    this.unfollow();
    if (key && this.storage.watch) this.watched = { key, stop: this.storage.watch(key, () => void this.refresh()) };
  }
}
