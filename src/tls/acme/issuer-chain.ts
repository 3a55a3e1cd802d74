// The CAs one order attempt can go to (README "Several CAs: acme.issuers"): each an AcmeIssuer with its
// own account (accounts are keyed by directory, storage/keys.ts), tried in issuerOrder's order; a CA that
// fails (unreachable, 5xx, rate limited, an order or challenge failure) hands the names to the next one in
// the same attempt, and only when all have failed does the attempt fail (and the back-off begin). Without
// `acme.issuers` the chain has one member, the top-level `acme.*` CA, and behaves as that issuer alone.
//
// Certificates stay under the first CA's storage key whichever CA signed them (the metadata says which),
// so adding a fallback CA to an existing `acme.directory` keeps every stored certificate and its state.
import { readFile } from 'node:fs/promises';
import { DIRECTORIES, directoryLabel } from '../../config/acme.js';
import type { AcmeConfig, AcmeIssuerConfig } from '../../config/types.js';
import type { Logger } from '../../log/types.js';
import type { Storage } from '../../storage/types.js';
import { report, type ChallengeType, type FailedAttempt, type FailureReport } from './errors.js';
import { AcmeIssuer, IssueError, type AcmeIssuerOptions, type IssuedCert } from './issuer.js';
import { issuerOrder } from './issuer-order.js';

export interface ChainIssueOptions {
  /** ARI CertID of the certificate being replaced; sent only to the CA that signed it. */
  replaces?: string;
  signal?: AbortSignal;
  /** Storage key of the CA that signed the current certificate (it is asked first). */
  prefer?: string;
}

/** What ordering needs of a CA: an IssuerChain, or (in unit tests) one AcmeIssuer. */
export interface OrderIssuer {
  readonly key: string;
  readonly directory: string;
  readonly storage: Storage;
  readonly keyType: string;
  challengeTypes(): ChallengeType[];
  directoryObject(signal?: AbortSignal): Promise<Record<string, unknown>>;
  renewalInfoUrl(signal?: AbortSignal, issuerKey?: string): Promise<string | undefined>;
  issue(names: readonly string[], options?: ChainIssueOptions): Promise<IssuedCert>;
}

/** What every CA's AcmeIssuer shares; each gets its own config, directory and DNS solver. */
export interface IssuerChainOptions extends Omit<AcmeIssuerOptions, 'config' | 'directory' | 'dns'> {
  acme: AcmeConfig;
  /** `renew --dry-run`: Let's Encrypt is replaced by its staging directory. */
  dryRun?: boolean;
}

/** `acme.issuers`, or the one CA of the top-level keys. */
export function issuerConfigs(acme: AcmeConfig): AcmeIssuerConfig[] {
  if (acme.issuers) return acme.issuers;
  const { directory, trust, challenges, key, email, eab, profile } = acme;
  return [{ directory, challenges, key, ...(trust ? { trust } : {}), ...(email ? { email } : {}), ...(eab ? { eab } : {}), ...(profile ? { profile } : {}) }];
}

/**
 * The extra CAs for the directories' own HTTPS: every issuer's `trust`, joined. acme-client has one HTTP
 * agent per process (http.ts), so a CA file trusted for one directory is trusted for all of them.
 */
export async function readAcmeTrust(acme: AcmeConfig): Promise<string | undefined> {
  const files = [...new Set(issuerConfigs(acme).flatMap((i) => (i.trust ? [i.trust] : [])))];
  if (files.length === 0) return undefined;
  return (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n');
}

export class IssuerChain implements OrderIssuer {
  readonly members: readonly AcmeIssuer[];
  private readonly logger: Logger;

  constructor(o: IssuerChainOptions) {
    this.logger = o.logger;
    this.members = issuerConfigs(o.acme).map((c) => {
      const staging = o.dryRun && c.directory === DIRECTORIES.letsencrypt ? DIRECTORIES['letsencrypt-staging'] : undefined;
      return new AcmeIssuer({
        config: { ...o.acme, ...c },
        ...(staging ? { directory: staging } : {}),
        storage: o.storage,
        challenges: o.challenges,
        logger: o.logger,
        persist: o.persist,
        available: o.available,
        pollMinMs: o.pollMinMs,
      });
    });
  }

  private get first(): AcmeIssuer {
    return this.members[0]!;
  }

  /** The storage key certificates, their state and their locks live under (the first CA's). */
  get key(): string {
    return this.first.key;
  }

  get directory(): string {
    return this.first.directory;
  }

  get storage(): Storage {
    return this.first.storage;
  }

  get keyType(): string {
    return this.first.keyType;
  }

  /** What `certs` and logs call the chain's CAs. */
  get labels(): string[] {
    return this.members.map((m) => directoryLabel(m.directory));
  }

  /** Every challenge type some CA may use here (what `gatehouse renew` must listen for). */
  challengeTypes(): ChallengeType[] {
    return [...new Set(this.members.flatMap((m) => m.challengeTypes()))];
  }

  /** The first CA whose directory answers; throws when none does (one failure report naming each). */
  async directoryObject(signal?: AbortSignal): Promise<Record<string, unknown>> {
    const failures: Array<{ member: AcmeIssuer; err: unknown }> = [];
    for (const member of this.members) {
      try {
        return await member.directoryObject(signal);
      } catch (err) {
        if (this.members.length === 1 || signal?.aborted) throw err;
        failures.push({ member, err });
      }
    }
    throw this.combined(failures.map(({ member, err }) => ({ member, r: report(err, []) })));
  }

  /** The ARI base URL of the CA keyed `issuerKey` (default: the first). */
  async renewalInfoUrl(signal?: AbortSignal, issuerKey?: string): Promise<string | undefined> {
    return this.memberKeyed(issuerKey).renewalInfoUrl(signal);
  }

  private memberKeyed(issuerKey: string | undefined): AcmeIssuer {
    return this.members.find((m) => m.key === issuerKey) ?? this.first;
  }

  async issue(names: readonly string[], options: ChainIssueOptions = {}): Promise<IssuedCert> {
    // The same CA renewalInfoUrl(…, prefer) asked: the signer when configured, else the first.
    const replacesAt = this.memberKeyed(options.prefer).key;
    const order = issuerOrder(this.members, options.prefer);
    const failures: Array<{ member: AcmeIssuer; r: FailureReport }> = [];
    for (const [i, member] of order.entries()) {
      try {
        return await member.issue(names, {
          ...(options.replaces && member.key === replacesAt ? { replaces: options.replaces } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (err) {
        const r = report(err, names);
        if (options.signal?.aborted) throw this.combined([...failures, { member, r }]);
        failures.push({ member, r });
        const next = order[i + 1];
        if (next) {
          this.logger.warn(`ACME: ${directoryLabel(member.directory)} could not issue for ${names.join(', ')}; trying ${directoryLabel(next.directory)}`, {
            ca: member.directory,
            ...(r.challenge ? { challenge: r.challenge } : {}),
            detail: r.detail,
          });
        }
      }
    }
    throw this.combined(failures);
  }

  /**
   * One report for an attempt every CA failed: the last CA's words and hint, each CA's failure in
   * `attempts`, and a Retry-After only when every CA asked for one (the soonest: any CA may work then).
   */
  private combined(failures: Array<{ member: AcmeIssuer; r: FailureReport }>): IssueError {
    const { member, r } = failures[failures.length - 1]!;
    // One CA configured: its failure as before acme.issuers (the CA goes without saying).
    if (this.members.length === 1) return r instanceof IssueError ? r : new IssueError(r.challenge, r.detail, r.hint, r.problemType, r.retryAfterMs, r.attempts);
    const ca = directoryLabel(member.directory);
    if (failures.length === 1) return new IssueError(r.challenge, r.detail, r.hint, r.problemType, r.retryAfterMs, r.attempts?.map((a) => ({ ...a, ca })), ca);
    const attempts: FailedAttempt[] = failures.flatMap(({ member: m, r: f }) => {
      const label = directoryLabel(m.directory);
      return f.attempts ? f.attempts.map((a) => ({ ...a, ca: label })) : [{ challenge: f.challenge, detail: f.detail, ca: label }];
    });
    const waits = failures.map((f) => f.r.retryAfterMs);
    const retryAfterMs = waits.every((w) => w !== undefined) ? Math.min(...(waits as number[])) : undefined;
    return new IssueError(r.challenge, r.detail, r.hint, r.problemType, retryAfterMs, attempts, ca);
  }
}
