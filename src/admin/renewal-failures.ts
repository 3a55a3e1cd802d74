// gatehouse_certificate_renewal_failures_total: failed attempts to obtain or renew each ACME certificate,
// whichever process made them (the proxy, another instance, `gatehouse renew`). The storage keeps only
// the failures in a row since the last success (NameState.failures), so the total is built from what
// each certificate-list refresh sees: growth of that count, or a new run of failures after a success.
// Every pm2 worker sees the same storage, so workers are merged with max, not sum.

export interface FailureSample {
  names: string[];
  source: string;
  failures?: number;
  lastError: { at: string } | null;
}

export class RenewalFailures {
  private readonly seen = new Map<string, { at: string; failures: number; total: number }>();

  /** Folds in one refresh of the certificate list. */
  update(rows: readonly FailureSample[]): void {
    for (const r of rows) {
      if (r.source !== 'acme' || !r.lastError) continue;
      const key = r.names[0]!;
      const failures = r.failures ?? 1;
      const prev = this.seen.get(key);
      if (!prev) {
        // First sight (this process just started): the failures in a row the storage has.
        this.seen.set(key, { at: r.lastError.at, failures, total: failures });
      } else if (prev.at !== r.lastError.at) {
        // More failures in the same run, or a success in between and a new run from 1.
        const added = failures > prev.failures ? failures - prev.failures : failures;
        this.seen.set(key, { at: r.lastError.at, failures, total: prev.total + added });
      }
    }
  }

  /** The total for the certificate whose first name is `primary` (0 when none was seen). */
  total(primary: string): number {
    return this.seen.get(primary)?.total ?? 0;
  }
}
