// Obtaining a certificate, as CertMagic does it: single-flight in the process, then the storage lock, then
// look in the storage again (another process or instance may have just done the work, or just failed),
// and only then talk to the CA. Used by the proxy's renewal loop and by `gatehouse renew` alike, so both
// keep the same per-name state (last error, next attempt) in the storage.
import { X509Certificate } from 'node:crypto';
import type { Logger } from '../../log/types.js';
import { issueLockName } from '../../storage/keys.js';
import { namesCover, normalizeName } from '../names.js';
import { ariCertId } from './der.js';
import type { AcmeCertStore, CertMeta, LastError, NameState, StoredPair } from './cert-store.js';
import { report } from './errors.js';
import type { OrderIssuer } from './issuer-chain.js';
import { retryDelay } from './schedule.js';

export interface ObtainOptions {
  /**
   * Fingerprint of the certificate the caller wants replaced (it is due, or --force), or undefined when
   * the caller has none. A stored certificate with another fingerprint was stored by someone else
   * meanwhile and is taken instead of ordering.
   */
  replacing?: string;
  /** Order even when the stored certificate is not due (still takes one that appeared meanwhile). */
  force?: boolean;
  /** Proxy loop: do not order while another process's failure is backing off (state.nextAttempt). */
  respectBackoff?: boolean;
  /** Send `replaces` (RFC 9773) when the CA offers ARI. */
  useAri?: boolean;
  onDemand?: boolean;
  signal?: AbortSignal;
  /** Without `replacing`: is a stored certificate too close to its end to take? (Default: take any valid one.) */
  isDue?: (pair: StoredPair) => boolean;
}

export type ObtainResult =
  | { kind: 'issued'; pair: StoredPair & { meta: CertMeta }; ms: number }
  | { kind: 'stored'; pair: StoredPair }
  | { kind: 'backoff'; state: NameState };

/** Thrown when ordering failed; carries the state stored for the name. */
export class ObtainError extends Error {
  readonly code = 'EACME_OBTAIN';
  constructor(
    message: string,
    readonly lastError: LastError,
    readonly state: NameState,
  ) {
    super(message);
  }
}

export class Obtainer {
  private readonly inflight = new Map<string, Promise<ObtainResult>>();

  constructor(
    readonly issuer: OrderIssuer,
    readonly store: AcmeCertStore,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  obtain(names: readonly string[], options: ObtainOptions = {}): Promise<ObtainResult> {
    const wanted = [...new Set(names.map(normalizeName))];
    const key = wanted.join(',');
    let p = this.inflight.get(key);
    if (!p) {
      p = this.run(wanted, options).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** The stored certificate for these names, if it covers them all (no CA, no lock). */
  async stored(names: readonly string[]): Promise<StoredPair | undefined> {
    const pair = await this.store.load(names[0]!);
    return pair && covers(pair, names) ? pair : undefined;
  }

  private usable(pair: StoredPair | undefined, names: readonly string[], o: ObtainOptions): boolean {
    if (!pair || !covers(pair, names)) return false;
    const x = new X509Certificate(pair.certPem);
    if (Date.parse(x.validTo) <= this.now()) return false;
    // The caller wants exactly that certificate replaced: another one was stored meanwhile by someone else.
    if (o.replacing !== undefined) return x.fingerprint256 !== o.replacing;
    if (o.force) return false;
    return !(o.isDue?.(pair) ?? false);
  }

  /**
   * Records an attempt that failed before any order (the CA's directory unreachable: `gatehouse renew`
   * checks it once for all names), under the same lock as an order, so a failure counts once and a
   * running proxy sees it. Resolves to the error to report; rejects only when the lock cannot be had before
   * `signal` (then another process holds it and records its own attempt).
   */
  async fail(names: readonly string[], err: unknown, signal?: AbortSignal): Promise<ObtainError> {
    const wanted = [...new Set(names.map(normalizeName))];
    const primary = wanted[0]!;
    const unlock = await this.store.storage.lock(issueLockName(this.issuer.key, primary), signal);
    try {
      const [stored, state] = await Promise.all([this.store.load(primary), this.store.loadState(primary)]);
      return await this.recordFailure(wanted, state, stored && covers(stored, wanted) ? stored : undefined, err);
    } finally {
      await unlock();
    }
  }

  /**
   * The state after one more failure (README "Automatic HTTPS (ACME)"): the count goes up, the next
   * attempt is backed off (capped by the serving certificate's time left, schedule.ts), and never earlier
   * than a back-off already recorded, so a failed `renew --force` does not shorten a running proxy's wait.
   */
  private async recordFailure(names: string[], state: NameState | undefined, serving: StoredPair | undefined, err: unknown): Promise<ObtainError> {
    const r = report(err, names);
    const failures = (state?.failures ?? 0) + 1;
    const at = this.now();
    const x = serving ? new X509Certificate(serving.certPem) : undefined;
    const validity = x ? { notBefore: new Date(x.validFrom), notAfter: new Date(x.validTo) } : undefined;
    const earlier = state?.nextAttempt ? Date.parse(state.nextAttempt) : 0;
    const next = Math.max(at + retryDelay(failures, at, validity, r.retryAfterMs ?? 0), earlier);
    const lastError: LastError = { at: new Date(at).toISOString(), challenge: r.challenge, detail: r.detail, hint: r.hint };
    if (r.attempts) lastError.attempts = r.attempts;
    if (r.ca) lastError.ca = r.ca;
    const recorded: NameState = { names, failures, lastError, nextAttempt: new Date(next).toISOString() };
    if (state?.ari) recorded.ari = state.ari;
    await this.store.saveState(names[0]!, recorded).catch((e: unknown) => this.logger.error('cannot store the renewal state', { error: (e as Error).message }));
    return new ObtainError(r.challenge ? `${r.challenge}: ${r.detail}` : r.detail, lastError, recorded);
  }

  private async run(names: string[], o: ObtainOptions): Promise<ObtainResult> {
    const primary = names[0]!;
    if (!o.force) {
      const first = await this.store.load(primary);
      if (first && this.usable(first, names, o)) return { kind: 'stored', pair: first };
    }
    const unlock = await this.store.storage.lock(issueLockName(this.issuer.key, primary), o.signal);
    try {
      const again = await this.store.load(primary);
      if (again && this.usable(again, names, o)) return { kind: 'stored', pair: again };
      const state = await this.store.loadState(primary);
      if (o.respectBackoff && state?.nextAttempt && Date.parse(state.nextAttempt) > this.now()) return { kind: 'backoff', state };

      // Renewal asks the CA that signed the current certificate first (issuer-order.ts).
      const prefer = again?.meta?.issuerKey;
      let replaces: string | undefined;
      if (o.useAri && again) {
        try {
          if (await this.issuer.renewalInfoUrl(o.signal, prefer)) replaces = ariCertId(Buffer.from(new X509Certificate(again.certPem).raw));
        } catch {
          replaces = undefined; // no directory: the order below reports it
        }
      }
      try {
        const issued = await this.issuer.issue(names, { ...(replaces ? { replaces } : {}), ...(o.signal ? { signal: o.signal } : {}), ...(prefer ? { prefer } : {}) });
        const x = new X509Certificate(issued.certPem);
        const meta: CertMeta = {
          names,
          issuerKey: issued.issuerKey ?? this.issuer.key,
          directory: issued.directory ?? this.issuer.directory,
          serial: x.serialNumber,
          fingerprint256: x.fingerprint256,
          notBefore: new Date(x.validFrom).toISOString(),
          notAfter: new Date(x.validTo).toISOString(),
          issuedAt: new Date(this.now()).toISOString(),
          keyType: issued.keyType ?? this.issuer.keyType,
          challenge: issued.challenge,
        };
        if (o.onDemand || again?.meta?.onDemand) meta.onDemand = true;
        if (again) meta.replaced = new X509Certificate(again.certPem).serialNumber;
        const pair = { certPem: issued.certPem, keyPem: issued.keyPem, meta };
        // A success clears the last error; the ARI window belonged to the old certificate. Cleared first and
        // announced with the certificate, so a proxy never reads the new certificate with the old failure.
        await this.store.saveState(primary, { names, failures: 0, lastError: null, nextAttempt: null }, { announce: false });
        await this.store.save(primary, pair, meta);
        return { kind: 'issued', pair, ms: issued.ms };
      } catch (err) {
        throw await this.recordFailure(names, state, again, err);
      }
    } finally {
      await unlock();
    }
  }
}

function covers(pair: StoredPair, names: readonly string[]): boolean {
  const x = new X509Certificate(pair.certPem);
  const have = (x.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('DNS:') || s.startsWith('IP Address:'))
    .map((s) => normalizeName(s.slice(s.indexOf(':') + 1)));
  return names.every((n) => have.includes(n) || namesCover(have, n));
}
