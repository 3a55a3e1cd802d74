// The ACME Issuer (docs/architecture.md: `Issuer { key; issue(names, signal) }`): an account on one directory,
// the challenge types this deployment can answer, and the order flow. When a challenge fails, the next
// type is tried in a new order (an authorization with a failed challenge is dead, RFC 8555 §7.1.6).
import type { AcmeConfig } from '../../config/types.js';
import type { Logger } from '../../log/types.js';
import { issuerKeyFromDirectory } from '../../storage/keys.js';
import type { Storage } from '../../storage/types.js';
import { accountClient, forgetAccountUrl, type AccountParams } from './account.js';
import type { ChallengeStore } from './challenges.js';
import { AcmeOrderError, report, type ChallengeType } from './errors.js';
import { acmeGet, withAcmeScope, type AcmeScope } from './http.js';
import { newCertificateKey } from './keys.js';
import { runOrder } from './order.js';
import { dnsSolverFor, type DnsSolver } from './dns/index.js';

export interface AcmeIssuerOptions {
  config: AcmeConfig;
  /** The directory to order from; differs from config.directory for dry runs against staging. */
  directory?: string;
  storage: Storage;
  challenges: ChallengeStore;
  logger: Logger;
  /** False for dry runs: no account is stored. */
  persist: boolean;
  /** Which challenges a listener here can answer (http-01 needs listen.http, tls-alpn-01 listen.https). */
  available: { http: boolean; tlsAlpn: boolean };
  pollMinMs: number;
  /** issue 19: the DNS-01 provider and propagation check; built from config.dns when not given. */
  dns?: DnsSolver;
}

export interface IssuedCert {
  /** Leaf first, then intermediates. */
  certPem: string;
  keyPem: string;
  challenge: ChallengeType;
  ms: number;
  /**
   * The CA that signed it (with acme.issuers, one of several), recorded in the certificate's metadata.
   * Always set by AcmeIssuer; optional for the stand-in issuers of unit tests.
   */
  issuerKey?: string;
  directory?: string;
  keyType?: string;
}

export interface IssueOptions {
  /** ARI CertID of the certificate being replaced. */
  replaces?: string;
  signal?: AbortSignal;
}

/** An issue() failure, with what the scheduler needs: the report and the CA's Retry-After. */
export class IssueError extends AcmeOrderError {}

const DIRECTORY_TTL_MS = 3600_000;

export class AcmeIssuer {
  readonly key: string;
  readonly directory: string;
  private readonly account: AccountParams;
  private dir: { at: number; value: Promise<Record<string, unknown>> } | undefined;
  private dns: DnsSolver | undefined;

  constructor(private readonly opts: AcmeIssuerOptions) {
    this.directory = opts.directory ?? opts.config.directory;
    this.key = issuerKeyFromDirectory(this.directory);
    this.account = {
      directory: this.directory,
      issuerKey: this.key,
      email: opts.config.email,
      eab: opts.config.eab,
      storage: opts.storage,
      logger: opts.logger,
      persist: opts.persist,
      pollMinMs: opts.pollMinMs,
    };
  }

  get storage(): Storage {
    return this.opts.storage;
  }

  get keyType(): string {
    return this.opts.config.key;
  }

  /** acme.challenges in the configured order, less those no listener here can answer (dns-01 needs none). */
  challengeTypes(): ChallengeType[] {
    return this.opts.config.challenges.filter((t) =>
      t === 'dns-01' ? this.opts.config.dns !== undefined : t === 'http-01' ? this.opts.available.http : this.opts.available.tlsAlpn,
    );
  }

  /**
   * Built at the first dns-01 order, not at start: a provider that cannot be built fails that order
   * (recorded and retried like any failure) instead of the whole process.
   */
  private dnsSolver(): DnsSolver {
    this.dns ??= this.opts.dns ?? dnsSolverFor(this.opts.config.dns!);
    return this.dns;
  }

  /** The directory object (cached for an hour); throws an AcmeTransportError when the CA is unreachable. */
  async directoryObject(signal?: AbortSignal): Promise<Record<string, unknown>> {
    if (!this.dir || Date.now() - this.dir.at > DIRECTORY_TTL_MS) {
      const value = withAcmeScope({ signal }, async () => {
        const r = await acmeGet(this.directory);
        if (r.status !== 200 || typeof r.data !== 'object' || r.data === null) {
          throw new Error(`the ACME directory ${this.directory} answered ${r.status}, not a directory`);
        }
        return r.data as Record<string, unknown>;
      });
      this.dir = { at: Date.now(), value };
      value.catch(() => (this.dir = undefined));
    }
    return this.dir.value;
  }

  /** The directory's ARI base URL (RFC 9773 §3), or undefined when the CA does not offer ARI. */
  async renewalInfoUrl(signal?: AbortSignal): Promise<string | undefined> {
    const dir = await this.directoryObject(signal);
    return typeof dir.renewalInfo === 'string' ? dir.renewalInfo : undefined;
  }

  async issue(names: readonly string[], options: IssueOptions = {}): Promise<IssuedCert> {
    const types = this.challengeTypes();
    if (types.length === 0) {
      throw new IssueError(
        null,
        `no listener can answer the configured challenges (${this.opts.config.challenges.join(', ')})`,
        'http-01 needs listen.http (port 80), tls-alpn-01 listen.https (port 443), dns-01 acme.dns',
      );
    }
    const started = Date.now();
    const scope: AcmeScope = { signal: options.signal };
    return withAcmeScope(scope, async () => {
      try {
        const keyPem = await newCertificateKey(this.opts.config.key);
        const failures: AcmeOrderError[] = [];
        for (const type of types) {
          try {
            const certPem = await this.orderWithAccount(names, type, keyPem, options.replaces, options.signal);
            return { certPem, keyPem, challenge: type, ms: Date.now() - started, issuerKey: this.key, directory: this.directory, keyType: this.keyType };
          } catch (err) {
            if (!(err instanceof AcmeOrderError) || err.challenge === null) throw err;
            failures.push(err);
            const next = types[types.indexOf(type) + 1];
            this.opts.logger.warn(`ACME ${type} challenge failed for ${names.join(', ')}${next ? `; trying ${next}` : ''}`, {
              detail: err.detail,
              hint: err.hint,
            });
          }
        }
        const last = failures[failures.length - 1]!;
        const attempts = failures.length > 1 ? failures.map((f) => ({ challenge: f.challenge!, detail: f.detail })) : undefined;
        throw new AcmeOrderError(last.challenge, last.detail, last.hint, last.problemType, last.retryAfterMs, attempts);
      } catch (err) {
        const r = report(err, names, scope.retryAfterMs);
        throw new IssueError(r.challenge, r.detail, r.hint, r.problemType, r.retryAfterMs ?? scope.retryAfterMs, r.attempts);
      }
    });
  }

  private async orderWithAccount(names: readonly string[], type: ChallengeType, keyPem: string, replaces?: string, signal?: AbortSignal): Promise<string> {
    let dns: DnsSolver | undefined;
    if (type === 'dns-01') {
      try {
        dns = this.dnsSolver();
      } catch (err) {
        throw new AcmeOrderError('dns-01', (err as Error).message, 'check acme.dns');
      }
    }
    const order = async (): Promise<string> =>
      runOrder({
        ...(dns ? { dns } : {}),
        ...(signal ? { signal } : {}),
        warn: (message, meta) => this.opts.logger.warn(message, meta),
        client: await accountClient(this.account),
        names,
        type,
        keyPem,
        challenges: this.opts.challenges,
        ...(replaces ? { replaces } : {}),
        ...(this.opts.config.profile ? { profile: this.opts.config.profile } : {}),
      });
    try {
      return await order();
    } catch (err) {
      // The CA forgot the stored account (a restarted test CA, a deactivated account): register again.
      if (!/account.*(does ?n[o']t exist|not found|unknown)|accountDoesNotExist/i.test((err as Error).message)) throw err;
      this.opts.logger.warn('the ACME account is unknown to the CA; registering again', { directory: this.directory });
      await forgetAccountUrl(this.account);
      return order();
    }
  }
}
