// The local CA for `tls: internal` sites (SPEC §4): a root created in the storage on first use, and leaf
// certificates reused from the storage while they are valid and cover the names. Obtaining follows
// CertMagic: single-flight in the process, look in storage, take the storage lock, look again, and only
// then create — so a pm2 cluster or several instances sharing the storage make one certificate, not many.
//
// The served chain is the leaf alone: clients trust the root directly, so sending it would only add bytes.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { Logger } from '../log/types.js';
import { certificateKeys, INTERNAL_ISSUER, internalCaKeys, internalCaLockName, issueLockName } from '../storage/keys.js';
import { StorageNotFoundError, type Storage } from '../storage/types.js';
import { createLeaf, createRootCa, type PemPair } from './ca-certs.js';
import { normalizeName, parseSubjectAltName } from './names.js';
import { renewalTime } from './renewal.js';

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  notAfter: Date;
}

export interface InternalCaOptions {
  /** Leaf lifetime; default 30 days (renewed with a third left, SPEC §4). */
  leafLifetimeMs?: number;
  /** Root lifetime; default 10 years. */
  rootLifetimeMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

const DAY = 24 * 3600_000;
/** Leaves start an hour in the past so clients with a slightly slow clock accept them at once. */
const BACKDATE_MS = 3600_000;

interface Root extends PemPair {
  x509: X509Certificate;
}

export class InternalCa {
  private readonly leafLifetimeMs: number;
  private readonly rootLifetimeMs: number;
  private readonly now: () => number;
  private root: Promise<Root> | undefined;
  private readonly inflight = new Map<string, Promise<IssuedCertificate>>();

  constructor(
    private readonly storage: Storage,
    private readonly logger: Logger,
    options: InternalCaOptions = {},
  ) {
    this.leafLifetimeMs = options.leafLifetimeMs ?? 30 * DAY;
    this.rootLifetimeMs = options.rootLifetimeMs ?? 3650 * DAY;
    this.now = options.now ?? Date.now;
  }

  /** The root certificate users add to their trust store. */
  async rootPem(): Promise<string> {
    return (await this.getRoot()).certPem;
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
    const root = await this.getRoot();
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

  private getRoot(): Promise<Root> {
    this.root ??= this.loadOrCreateRoot().catch((err: unknown) => {
      this.root = undefined;
      throw err;
    });
    return this.root;
  }

  private async loadOrCreateRoot(): Promise<Root> {
    const keys = internalCaKeys();
    const existing = await this.usableRoot(keys, false);
    if (existing) return existing;
    const unlock = await this.storage.lock(internalCaLockName());
    try {
      const again = await this.usableRoot(keys, true);
      if (again) return again;
      const now = this.now();
      const pair = createRootCa(new Date(now - BACKDATE_MS), new Date(now + this.rootLifetimeMs));
      await this.storage.store(keys.key, pair.keyPem, { secret: true });
      await this.storage.store(keys.cert, pair.certPem);
      const x509 = new X509Certificate(pair.certPem);
      this.logger.info('internal CA created a root certificate; add it to trust stores to trust internal sites', {
        storage: this.storage.description,
        key: keys.cert,
        subject: x509.subject,
      });
      return { ...pair, x509 };
    } finally {
      await unlock();
    }
  }

  /** The stored root, if it parses, matches its key and outlives a leaf issued now. */
  private async usableRoot(keys: { cert: string; key: string }, warn: boolean): Promise<Root | undefined> {
    const pair = await this.loadPair(keys);
    if (!pair) return undefined;
    try {
      const x509 = new X509Certificate(pair.certPem);
      if (!x509.checkPrivateKey(createPrivateKey(pair.keyPem))) throw new Error('key does not match');
      if (new Date(x509.validTo).getTime() < this.now() + this.leafLifetimeMs) throw new Error('expires too soon');
      return { ...pair, x509 };
    } catch (err) {
      // Replacing the root means clients must trust a new one: say so loudly.
      if (warn) this.logger.warn('internal CA: the stored root is unusable and will be replaced', { error: (err as Error).message });
      return undefined;
    }
  }
}
