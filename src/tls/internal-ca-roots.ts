// The internal CA's roots (README "Automatic HTTPS (ACME)", security review F13): the one users trust (`internal-ca/root.crt`)
// and, for 30 days before it takes over, its announced successor (`internal-ca/next.crt`).
//
// A root lives a year and permits only local names (name-constraints.ts) plus the `tls: internal`
// names configured when it is made. Nothing about a trust anchor changes silently or at once:
// - A successor is made 30 days before the root could no longer outlive a new leaf, and takes over
//   30 days after it was made. Both moments are logged as warnings naming the file to trust.
// - A name the root does not permit (a `tls: internal` site added later) is signed by a successor
//   made to permit it, so the sites already served keep their root; the successor takes over 30 days
//   later, as above.
// - A root made by an older gatehouse (10 years, no constraints) keeps working, and a constrained
//   successor is announced at once and takes over 30 days later: retired deliberately, with notice.
// Every change happens under the storage lock and is re-read there, so processes sharing the
// storage (pm2, several machines) make one successor and promote it once.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { Logger } from '../log/types.js';
import { internalCaKeys, internalCaLockName, internalCaNextKeys } from '../storage/keys.js';
import { StorageNotFoundError, type Storage } from '../storage/types.js';
import { createRootCa, type PemPair } from './ca-certs.js';
import { permits, readSubtrees, subtreesFor, type Subtrees } from './name-constraints.js';
import { normalizeName } from './names.js';

const DAY = 24 * 3600_000;
/** Certificates start an hour in the past so clients with a slightly slow clock accept them at once. */
export const BACKDATE_MS = 3600_000;
/** A successor is announced this long before it takes over. */
export const ROOT_NOTICE_MS = 30 * DAY;
/** Longer-lived roots (older versions made 10-year ones) are retired; a day of slack for leap years. */
const MAX_ROOT_LIFETIME_MS = 366 * DAY;

export interface Root extends PemPair {
  x509: X509Certificate;
  /** Undefined: no name constraints (an older gatehouse's root). */
  permitted: Subtrees | undefined;
}

export interface RootPolicy {
  rootLifetimeMs: number;
  leafLifetimeMs: number;
  now: () => number;
}

interface Stored {
  current: Root | undefined;
  /** Why the stored current root cannot be used, when there is one. */
  broken?: string;
  next: Root | undefined;
}

type Step =
  | { kind: 'keep' }
  | { kind: 'create-current' }
  | { kind: 'promote'; why: string }
  | { kind: 'create-next'; why: 'names' | 'legacy' | 'ageing'; names: readonly string[] };

export class InternalRoots {
  private state: Promise<Stored> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private wanted: string[] = [];
  private readonly announced = new Set<string>();

  constructor(
    private readonly storage: Storage,
    private readonly logger: Logger,
    private readonly policy: RootPolicy,
  ) {}

  /** Every `tls: internal` name of the config: a root made from now on permits them all. */
  want(names: readonly string[]): void {
    this.wanted = [...new Set(names.map(normalizeName))];
  }

  async current(): Promise<Root> {
    return (await this.get()).current!;
  }

  /** The root that signs a leaf for `names`: the current one if it permits them all, else the successor (made if need be). */
  async signerFor(names: readonly string[]): Promise<Root> {
    const signer = pick(await this.get(), names) ?? pick(await this.refresh(names), names);
    if (!signer) throw new Error(`internal CA: no root permits ${names.join(', ')}`);
    return signer;
  }

  /** Re-reads the storage and keeps the schedule (successor due, takeover due); hourly, from CertManager. */
  async maintain(): Promise<void> {
    await this.refresh([]);
  }

  private get(): Promise<Stored> {
    return this.state ?? this.refresh([]);
  }

  private refresh(names: readonly string[]): Promise<Stored> {
    const run = this.queue.then(() => this.settle(names));
    this.queue = run.catch(() => undefined);
    this.state = run;
    run.catch(() => {
      if (this.state === run) this.state = undefined;
    });
    return run;
  }

  private async settle(names: readonly string[]): Promise<Stored> {
    let stored = await this.read();
    if (this.plan(stored, names).kind !== 'keep') {
      const unlock = await this.storage.lock(internalCaLockName());
      try {
        // At most: promote, then a successor for names the promoted root does not permit.
        for (let steps = 0; ; steps++) {
          stored = await this.read();
          const step = this.plan(stored, names);
          if (step.kind === 'keep') break;
          if (steps === 3) throw new Error('internal CA: the roots in the storage do not settle');
          await this.apply(step, stored);
        }
      } finally {
        await unlock();
      }
    }
    if (stored.next && !this.announced.has(stored.next.x509.serialNumber)) {
      this.announced.add(stored.next.x509.serialNumber);
      this.logger.warn(`internal CA: a new root takes over on ${day(takeoverAt(stored.next))}: add it to the trust stores that have the current root now`, {
        key: internalCaNextKeys().cert,
        storage: this.storage.description,
        subject: stored.next.x509.subject,
        current: stored.current?.x509.subject,
      });
    }
    return stored;
  }

  private plan(s: Stored, names: readonly string[]): Step {
    const now = this.policy.now();
    const cur = s.current;
    if (!cur) return s.next ? { kind: 'promote', why: `the current root is ${s.broken ?? 'missing'}` } : { kind: 'create-current' };
    if (s.next && now >= takeoverAt(s.next)) return { kind: 'promote', why: 'its 30 days of notice are over' };
    const all = (root: Root | undefined): boolean => root !== undefined && names.every((n) => permits(root.permitted, n));
    if (!all(cur) && !all(s.next)) return { kind: 'create-next', why: 'names', names };
    if (s.next) return { kind: 'keep' };
    if (isLegacy(cur)) return { kind: 'create-next', why: 'legacy', names: [] };
    if (now >= Date.parse(cur.x509.validTo) - this.policy.leafLifetimeMs - ROOT_NOTICE_MS) return { kind: 'create-next', why: 'ageing', names: [] };
    return { kind: 'keep' };
  }

  private async apply(step: Exclude<Step, { kind: 'keep' }>, s: Stored): Promise<void> {
    const keys = internalCaKeys();
    const nextKeys = internalCaNextKeys();
    if (step.kind === 'promote') {
      const next = s.next!;
      // Key first: a reader between the two writes sees a mismatched pair and waits on the lock.
      await this.storage.store(keys.key, next.keyPem, { secret: true });
      await this.storage.store(keys.cert, next.certPem);
      await this.storage.delete(nextKeys.cert);
      await this.storage.delete(nextKeys.key);
      this.logger.warn(`internal CA: a new root took over (${step.why}); clients must trust it, internal certificates are re-issued from it`, {
        key: keys.cert,
        storage: this.storage.description,
        subject: next.x509.subject,
        notAfter: new Date(next.x509.validTo).toISOString(),
        retired: s.current?.x509.subject,
      });
      return;
    }
    const made = this.make(step.kind === 'create-next' ? step.names : []);
    if (step.kind === 'create-current') {
      await this.storage.store(keys.key, made.keyPem, { secret: true });
      await this.storage.store(keys.cert, made.certPem);
      // An unusable successor (a torn write, say) would only be looked at again.
      await this.storage.delete(nextKeys.cert);
      await this.storage.delete(nextKeys.key);
      const meta = { storage: this.storage.description, key: keys.cert, subject: made.x509.subject, notAfter: new Date(made.x509.validTo).toISOString() };
      if (s.broken) this.logger.warn(`internal CA: the stored root is ${s.broken} and was replaced; clients must trust the new root`, meta);
      else this.logger.info('internal CA created a root certificate; add it to trust stores to trust internal sites', meta);
      return;
    }
    await this.storage.store(nextKeys.key, made.keyPem, { secret: true });
    await this.storage.store(nextKeys.cert, made.certPem);
    const cur = s.current!;
    const why = {
      names: `the current root does not permit ${step.names.join(', ')}; the new root permits them and signs them from now on`,
      legacy: `the current root was made by an older gatehouse (valid until ${day(Date.parse(cur.x509.validTo))}${cur.permitted ? '' : ', no name constraints'}); the new one is limited to local names and lives a year`,
      ageing: `the current root expires on ${day(Date.parse(cur.x509.validTo))}`,
    }[step.why];
    this.announced.add(made.x509.serialNumber);
    this.logger.warn(`internal CA: made a new root that takes over on ${day(takeoverAt(made))}: add it to the trust stores that have the current root now. ${why}`, {
      key: nextKeys.cert,
      storage: this.storage.description,
      subject: made.x509.subject,
      current: cur.x509.subject,
    });
  }

  private make(extra: readonly string[]): Root {
    const now = this.policy.now();
    const permitted = subtreesFor([...this.wanted, ...extra]);
    const pair = createRootCa(new Date(now - BACKDATE_MS), new Date(now + this.policy.rootLifetimeMs), permitted);
    return { ...pair, x509: new X509Certificate(pair.certPem), permitted };
  }

  private async read(): Promise<Stored> {
    const current = await this.load(internalCaKeys());
    const next = await this.load(internalCaNextKeys());
    return {
      current: typeof current === 'object' ? current : undefined,
      ...(typeof current === 'string' ? { broken: current } : {}),
      next: typeof next === 'object' ? next : undefined,
    };
  }

  /** The root under `keys`; a string says why it cannot be used; undefined when there is none. */
  private async load(keys: { cert: string; key: string }): Promise<Root | string | undefined> {
    let pair: PemPair;
    try {
      const [cert, key] = await Promise.all([this.storage.load(keys.cert), this.storage.load(keys.key)]);
      pair = { certPem: cert.toString(), keyPem: key.toString() };
    } catch (err) {
      if (err instanceof StorageNotFoundError) return undefined;
      throw err;
    }
    try {
      const x509 = new X509Certificate(pair.certPem);
      if (!x509.checkPrivateKey(createPrivateKey(pair.keyPem))) return 'not matching its key';
      // A root must outlive every leaf it signs.
      if (Date.parse(x509.validTo) < this.policy.now() + this.policy.leafLifetimeMs) return `expiring (${x509.validTo})`;
      return { ...pair, x509, permitted: readSubtrees(pair.certPem) };
    } catch (err) {
      return `unreadable (${(err as Error).message})`;
    }
  }
}

function pick(s: Stored, names: readonly string[]): Root | undefined {
  return [s.current, s.next].find((r) => r !== undefined && names.every((n) => permits(r.permitted, n)));
}

export function takeoverAt(next: Pick<Root, 'x509'>): number {
  return Date.parse(next.x509.validFrom) + BACKDATE_MS + ROOT_NOTICE_MS;
}

/** Made by a gatehouse before name constraints: none, or a life over a year. */
export function isLegacy(root: Pick<Root, 'x509' | 'permitted'>): boolean {
  return root.permitted === undefined || Date.parse(root.x509.validTo) - Date.parse(root.x509.validFrom) > MAX_ROOT_LIFETIME_MS;
}

export function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
