// The certificate list the admin side shows: the same inventory as `gatehouse certs` (README "Commands"),
// read from the storage at most every REFRESH_MS so a scrape never waits for the storage (Redis or
// disk) and /metrics stays fast with many sites.
import type { Config } from '../config/types.js';
import type { Storage } from '../storage/types.js';
import { inventory, toJsonRow, type CertRow } from '../tls/acme/inventory.js';

const REFRESH_MS = 15_000;

export class CertificateCache {
  private rows: CertRow[] = [];
  private loadedAt = 0;
  private loading: Promise<void> | undefined;
  private lastFailure: string | undefined;

  constructor(
    private readonly config: () => Config,
    private readonly storage: Storage,
  ) {}

  /** The cached rows; starts a background refresh when they are older than REFRESH_MS. */
  current(now = Date.now()): CertRow[] {
    if (now - this.loadedAt > REFRESH_MS) void this.refresh();
    return this.rows;
  }

  /** Waits for the first load (the first scrape after start shows the certificates). */
  async ready(): Promise<CertRow[]> {
    if (this.loadedAt === 0) await this.refresh();
    return this.rows;
  }

  /** Why the last refresh failed, if it did (shown on /status). */
  get failure(): string | undefined {
    return this.lastFailure;
  }

  refresh(): Promise<void> {
    this.loading ??= inventory(this.config(), this.storage)
      .then(
        (rows) => {
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
      });
    return this.loading;
  }
}
