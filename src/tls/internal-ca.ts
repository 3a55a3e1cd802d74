// The local CA for `tls: internal` sites (README "Automatic HTTPS (ACME)"): roots kept by internal-ca-roots.ts, and leaf
// certificates reused from the storage while they are valid and cover the names. Obtaining follows
// CertMagic: single-flight in the process, look in storage, take the storage lock, look again, and only
// then create — so a pm2 cluster or several instances sharing the storage make one certificate, not many.
//
// The served chain is the leaf alone: clients trust the root directly, so sending it would only add bytes.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { Logger } from '../log/types.js';
import { certificateKeys, INTERNAL_ISSUER, issueLockName } from '../storage/keys.js';
import { StorageNotFoundError, type Storage } from '../storage/types.js';
import { createLeaf, type PemPair } from './ca-certs.js';
import { BACKDATE_MS, InternalRoots, type Root } from './internal-ca-roots.js';
import { normalizeName, parseSubjectAltName } from './names.js';
import { renewalTime } from './renewal.js';

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  notAfter: Date;
}

export interface InternalCaOptions {
  /** Leaf lifetime; default 30 days (renewed with a third left, README "Automatic HTTPS (ACME)"). */
  leafLifetimeMs?: number;
  /** Root lifetime; default 365 days (security review F13: a year at most). */
  rootLifetimeMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

const DAY = 24 * 3600_000;

export class InternalCa {
  private readonly leafLifetimeMs: number;
  private readonly now: () => number;
  private readonly roots: InternalRoots;
  private readonly inflight = new Map<string, Promise<IssuedCertificate>>();

  constructor(
    private readonly storage: Storage,
    private readonly logger: Logger,
    options: InternalCaOptions = {},
  ) {
    this.leafLifetimeMs = options.leafLifetimeMs ?? 30 * DAY;
    this.now = options.now ?? Date.now;
    this.roots = new InternalRoots(storage, logger, { rootLifetimeMs: options.rootLifetimeMs ?? 365 * DAY, leafLifetimeMs: this.leafLifetimeMs, now: this.now });
  }

  /** Every `tls: internal` name of the config: a root made from now on permits them (name constraints). */
  want(names: readonly string[]): void {
    this.roots.want(names);
  }

  /** The root certificate users add to their trust store. */
  async rootPem(): Promise<string> {
    return (await this.roots.current()).certPem;
  }

  /** Keeps the roots' schedule: a successor announced when due, and its takeover (hourly, from CertManager). */
  maintain(): Promise<void> {
    return this.roots.maintain();
  }

  /** Is `certPem` signed by the root that signs `names` now? False once a new root took over. */
  async signedByCurrentRoot(names: readonly string[], certPem: string): Promise<boolean> {
    const root = await this.roots.signerFor([...new Set(names.map(normalizeName))]);
    return new X509Certificate(certPem).verify(root.x509.publicKey);
  }

  /**
   * A certificate for `names` (DNS names, wildcards, IPs; the first is its primary name): the stored one
   * while it is signed by the current root, covers every name and is not yet due for renewal; else a new one.
   */
  issue(names: string[]): Promise<IssuedCertificate> {
    const wanted = [...new Set(names.map(normalizeName))];
    if (wanted.length === 0) return Promise.reject(new Error('internal CA: no names to issue for'));
    const flightKey = wanted.join(',');
    let p = this.inflight.get(flightKey);
    if (!p) {
      p = this.obtain(wanted).finally(() => this.inflight.delete(flightKey));
      this.inflight.set(flightKey, p);
    }
    return p;
  }

  private async obtain(names: string[]): Promise<IssuedCertificate> {
    const root = await this.roots.signerFor(names);
    const primary = names[0]!;
    const keys = certificateKeys(INTERNAL_ISSUER, primary);
    const stored = await this.loadReusable(keys, names, root);
    if (stored) return stored;

    const unlock = await this.storage.lock(issueLockName(INTERNAL_ISSUER, primary));
    try {
      const again = await this.loadReusable(keys, names, root);
      if (again) return again;
      const now = this.now();
      const leaf = createLeaf(root, names, new Date(now - BACKDATE_MS), new Date(now + this.leafLifetimeMs));
      const x509 = new X509Certificate(leaf.certPem);
      // Key first: a reader between the two writes sees a mismatched pair, rejects it and waits on the lock.
      await this.storage.store(keys.key, leaf.keyPem, { secret: true });
      await this.storage.store(keys.cert, leaf.certPem);
      const notAfter = new Date(x509.validTo);
      await this.storage.store(
        keys.meta,
        JSON.stringify({ names, issuer: INTERNAL_ISSUER, serial: x509.serialNumber, issuedAt: new Date(now), notAfter }, null, 2),
      );
      this.logger.info('internal CA issued a certificate', { names, serial: x509.serialNumber, notAfter: notAfter.toISOString() });
      return { certPem: leaf.certPem, keyPem: leaf.keyPem, notAfter };
    } finally {
      await unlock();
    }
  }

  private async loadReusable(
    keys: { cert: string; key: string },
    names: string[],
    root: Root,
  ): Promise<IssuedCertificate | undefined> {
    const pair = await this.loadPair(keys);
    if (!pair) return undefined;
    try {
      const x509 = new X509Certificate(pair.certPem);
      if (!x509.verify(root.x509.publicKey)) return undefined;
      if (!x509.checkPrivateKey(createPrivateKey(pair.keyPem))) return undefined;
      const have = new Set(parseSubjectAltName(x509.subjectAltName));
      if (!names.every((n) => have.has(n))) return undefined;
      const notAfter = new Date(x509.validTo);
      if (this.now() >= renewalTime(new Date(x509.validFrom), notAfter).getTime()) return undefined;
      return { ...pair, notAfter };
    } catch (err) {
      this.logger.warn('internal CA: ignoring an unreadable stored certificate', { key: keys.cert, error: (err as Error).message });
      return undefined;
    }
  }

  private async loadPair(keys: { cert: string; key: string }): Promise<PemPair | undefined> {
    try {
      const [cert, key] = await Promise.all([this.storage.load(keys.cert), this.storage.load(keys.key)]);
      return { certPem: cert.toString(), keyPem: key.toString() };
    } catch (err) {
      if (err instanceof StorageNotFoundError) return undefined;
      throw err;
    }
  }
}
