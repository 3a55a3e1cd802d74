// Which certificate a handshake gets (README "Automatic HTTPS (ACME)"), and keeping that set current: internal certificates from
// the local CA, manual `{ cert, key }` files reloaded when they change, and — through replaceEntry — the
// certificates the ACME room obtains and renews at runtime.
//
// One slot per distinct certificate source in config order. Selection uses a name → entry map rebuilt
// whenever a slot changes, so a handshake costs at most two Map lookups.
import { readFile } from 'node:fs/promises';
import type { SecureContextOptions } from 'node:tls';
import type { Config, SiteTls, TlsPolicy } from '../config/types.js';
import type { Logger } from '../log/types.js';
import type { Storage } from '../storage/types.js';
import { createCertEntry, type LoadedCertEntry } from './cert-entry.js';
import { FileWatch, type FileWatchOptions } from './file-watch.js';
import { InternalCa, type InternalCaOptions } from './internal-ca.js';
import { isDefaultOn } from '../config/site-ports.js';
import { certNamesForSite, namesCover, normalizeName, wildcardFor } from './names.js';
import { renewalTime } from './renewal.js';
import { policyContextOptions } from './tls-options.js';
import type { CertEntry, CertificateSelector } from './types.js';

export interface CertManagerOptions {
  watch?: FileWatchOptions;
  /** How often internal certificates are checked for renewal; default 1 h. */
  maintenanceMs?: number;
  internalCa?: InternalCaOptions;
}

type SlotKind = 'internal' | 'files' | 'acme' | 'runtime';

interface Slot {
  /** Identity across reloads: an unchanged source keeps its slot, its certificate and its watcher. */
  readonly id: string;
  readonly kind: SlotKind;
  /** The names wanted (site hosts a certificate can hold), normalised. */
  readonly names: string[];
  entry: CertEntry | undefined;
  files?: { cert: string; key: string };
  watch?: FileWatch;
  /** Serialises reloads of this slot's files. */
  busy: Promise<void>;
  closed: boolean;
  /** issue 18: the https ports of the sites using it; unset: every port (set again at each reload). */
  ports?: Set<number>;
  /** issue 19: the TLS policy of the sites using it (part of the id: another policy is another slot). */
  policy?: TlsPolicy;
  /** The entry as handshakes get it: `entry` with the policy's context, made once per entry. */
  served?: { from: CertEntry; policy: TlsPolicy; view: CertEntry };
}

/** What a handshake on one port chooses from: certificates by name, and the fallback. */
interface PortIndex {
  exact: Map<string, CertEntry>;
  fallback: CertEntry | undefined;
}

export class CertManager implements CertificateSelector {
  private slots: Slot[] = [];
  private all: PortIndex = { exact: new Map(), fallback: undefined };
  private defaultId: string | undefined;
  /** issue 18: with sites bound to ports, each https port's own index, and its default site's slot. */
  private byPort: Map<number, PortIndex> | undefined;
  private portDefaults = new Map<number, string>();
  private httpsPorts: number[] = [];
  private ca: InternalCa | undefined;
  private reloading: Promise<void> = Promise.resolve();
  /** issue 19: top-level `tls:`, for certificates given at runtime (on-demand) that no site's slot holds. */
  private defaultPolicy: TlsPolicy | undefined;
  private readonly maintenance: NodeJS.Timeout;

  private constructor(
    private readonly storage: Storage,
    private readonly logger: Logger,
    private readonly options: CertManagerOptions,
  ) {
    this.maintenance = setInterval(() => void this.renewInternal(), options.maintenanceMs ?? 3600_000);
    this.maintenance.unref();
  }

  /** Loads every site's certificate; rejects (nothing keeps running) when one cannot be loaded. */
  static async create(config: Config, storage: Storage, logger: Logger, options: CertManagerOptions = {}): Promise<CertManager> {
    const manager = new CertManager(storage, logger, options);
    try {
      await manager.reload(config);
    } catch (err) {
      manager.close();
      throw err;
    }
    return manager;
  }

  /** README "Automatic HTTPS (ACME)" order: exact name, then a one-label wildcard, then the default site's certificate. */
  select(servername: string | undefined, port?: number): CertEntry | undefined {
    const index = (port !== undefined && this.byPort?.get(port)) || this.all;
    if (servername) {
      const host = normalizeName(servername);
      const hit = index.exact.get(host);
      if (hit) return hit;
      const wildcard = wildcardFor(host);
      const wild = wildcard === undefined ? undefined : index.exact.get(wildcard);
      if (wild) return wild;
    }
    return index.fallback;
  }

  /** Every certificate being served, in config order. */
  entries(): CertEntry[] {
    return this.slots.flatMap((s) => (s.entry ? [s.entry] : []));
  }

  /** The name sets of `tls: acme` sites, for the ACME room to obtain (and then hand to replaceEntry). */
  acmeNames(): string[][] {
    return this.slots.filter((s) => s.kind === 'acme').map((s) => [...s.names]);
  }

  /**
   * Serves `entry` for exactly these names from the next handshake on: fills the `tls: acme` site whose
   * names these are (any order), replaces the certificate previously given for them, or adds it (e.g.
   * on-demand TLS). Not called for internal or manual sites: those are managed here.
   */
  replaceEntry(names: readonly string[], entry: CertEntry): void {
    const key = namesKey(names);
    // issue 19: sites with the same names on different ports may hold them under different policies.
    const slots = this.slots.filter((s) => (s.kind === 'acme' || s.kind === 'runtime') && namesKey(s.names) === key);
    for (const slot of slots) slot.entry = entry;
    if (slots.length === 0) {
      const slot = newSlot(`runtime:${key}`, 'runtime', names.map(normalizeName), entry);
      if (this.defaultPolicy) slot.policy = this.defaultPolicy;
      this.slots.push(slot);
    }
    this.rebuildIndex();
  }

  addEntry(entry: CertEntry): void {
    this.replaceEntry(entry.names, entry);
  }

  /** Stops serving what replaceEntry gave for these names. */
  removeEntry(names: readonly string[]): void {
    const key = namesKey(names);
    this.slots = this.slots.filter((s) => !(s.kind === 'runtime' && namesKey(s.names) === key));
    for (const s of this.slots) if (s.kind === 'acme' && namesKey(s.names) === key) s.entry = undefined;
    this.rebuildIndex();
  }

  /**
   * Applies a new config (SIGHUP): unchanged sources keep their certificates, manual files are re-read.
   * Rejects, leaving the current set serving, when a new source cannot be loaded.
   */
  reload(config: Config): Promise<void> {
    const run = this.reloading.then(() => this.apply(config));
    this.reloading = run.catch(() => undefined);
    return run;
  }

  close(): void {
    clearInterval(this.maintenance);
    for (const s of this.slots) closeSlot(s);
  }

  private async apply(config: Config): Promise<void> {
    const old = new Map(this.slots.map((s) => [s.id, s]));
    const next: Slot[] = [];
    const created: Slot[] = [];
    let defaultId: string | undefined;
    let firstId: string | undefined;
    const bound = config.sites.some((s) => s.listen !== undefined);
    const httpsPorts = bound ? [...new Set(config.listen.https.map((l) => l.port))] : [];
    const portsOf = new Map<string, Set<number> | 'all'>();
    const portDefaults = new Map<number, string>();
    const internal = config.sites.filter((s) => s.tls.kind === 'internal').flatMap(certNamesForSite);
    if (internal.length > 0) this.internalCa().want(internal);
    try {
      for (const site of config.sites) {
        if (site.tls.kind === 'off') continue;
        const names = certNamesForSite(site);
        if (names.length === 0) {
          this.logger.warn('site has no host name a certificate can hold; it gets the default certificate', { hosts: site.hosts });
          continue;
        }
        const source = slotId(site.tls, names);
        const id = source + (site.tls.policy ? `\0${JSON.stringify(site.tls.policy)}` : '');
        if (site.default) defaultId ??= id;
        firstId ??= id;
        const had = portsOf.get(id);
        if (site.listen === undefined || had === 'all') portsOf.set(id, 'all');
        else portsOf.set(id, new Set([...(had ?? []), ...site.listen]));
        for (const port of httpsPorts) if (isDefaultOn(site, port) && !portDefaults.has(port)) portDefaults.set(port, id);
        if (next.some((s) => s.id === id)) continue;
        const reused = old.get(id);
        if (reused) {
          if (reused.kind === 'files') await this.reloadFiles(reused);
          next.push(reused);
          continue;
        }
        const slot = await this.buildSlot(id, site.tls, names);
        if (site.tls.policy) slot.policy = site.tls.policy;
        // issue 19: a changed policy is a new slot; an ACME certificate already served keeps serving in it
        // until the ACME room hands it over again (acme.apply after this reload).
        if (slot.kind === 'acme') slot.entry = [...old.values()].find((s) => s.kind === 'acme' && s.id.split('\0')[0] === source)?.entry;
        created.push(slot);
        next.push(slot);
      }
    } catch (err) {
      for (const s of created) closeSlot(s);
      throw err;
    }
    for (const s of this.slots) if (s.kind === 'runtime') next.push(s);
    for (const s of this.slots) if (!next.includes(s)) closeSlot(s);
    for (const slot of next) {
      const ports = portsOf.get(slot.id);
      if (ports instanceof Set) slot.ports = ports;
      else delete slot.ports;
    }
    this.slots = next;
    this.defaultPolicy = config.tls;
    for (const s of next) {
      if (s.kind !== 'runtime') continue;
      if (config.tls) s.policy = config.tls;
      else delete s.policy;
    }
    this.defaultId = defaultId ?? firstId;
    this.httpsPorts = httpsPorts;
    this.portDefaults = portDefaults;
    this.rebuildIndex();
  }

  private async buildSlot(id: string, tls: SiteTls, names: string[]): Promise<Slot> {
    if (tls.kind === 'internal') {
      const issued = await this.internalCa().issue(names);
      return newSlot(id, 'internal', names, createCertEntry({ ...issued, source: 'internal' }));
    }
    if (tls.kind === 'files') {
      const files = { cert: tls.cert, key: tls.key };
      let entry;
      try {
        entry = await loadFiles(files);
      } catch (err) {
        throw new Error(`cannot load certificate ${files.cert} with key ${files.key}: ${(err as Error).message}`, { cause: err });
      }
      this.checkManual(entry, names, files.cert);
      const slot = newSlot(id, 'files', names, entry);
      slot.files = files;
      slot.watch = await FileWatch.start([files.cert, files.key], () => void this.reloadFiles(slot), this.options.watch);
      return slot;
    }
    return newSlot(id, 'acme', names, undefined);
  }

  /** Re-reads a manual pair; a pair that fails to load never replaces the one serving. */
  private reloadFiles(slot: Slot): Promise<void> {
    const files = slot.files!;
    slot.busy = slot.busy.then(async () => {
      if (slot.closed) return;
      try {
        const entry = await loadFiles(files);
        if (slot.closed || fingerprint(slot.entry) === entry.fingerprint256) return;
        this.checkManual(entry, slot.names, files.cert);
        slot.entry = entry;
        this.rebuildIndex();
        this.logger.info('reloaded certificate files', { cert: files.cert, serial: entry.serial, notAfter: entry.notAfter.toISOString() });
      } catch (err) {
        this.logger.error('certificate files changed but cannot be used; keeping the previous certificate', {
          cert: files.cert,
          key: files.key,
          error: (err as Error).message,
        });
      }
    });
    return slot.busy;
  }

  private checkManual(entry: LoadedCertEntry, names: string[], cert: string): void {
    const uncovered = names.filter((n) => !namesCover(entry.names, n));
    if (uncovered.length > 0) this.logger.warn('certificate does not cover some of its site\'s hosts', { cert, uncovered });
    if (entry.notAfter.getTime() < Date.now()) this.logger.warn('certificate has expired', { cert, notAfter: entry.notAfter.toISOString() });
  }

  private internalCa(): InternalCa {
    this.ca ??= new InternalCa(this.storage, this.logger, this.options.internalCa);
    return this.ca;
  }

  /** Hourly: the internal CA's root schedule, then every internal certificate due or signed by a root no longer in use. */
  private async renewInternal(): Promise<void> {
    if (!this.ca) return;
    try {
      await this.ca.maintain();
    } catch (err) {
      this.logger.error('internal CA: checking the root failed; retried within the hour', { error: (err as Error).message });
    }
    for (const slot of this.slots) {
      const entry = slot.entry as LoadedCertEntry | undefined;
      if (slot.kind !== 'internal' || !entry) continue;
      try {
        const due = Date.now() >= renewalTime(entry.notBefore, entry.notAfter).getTime();
        if (!due && (await this.ca.signedByCurrentRoot(slot.names, entry.certPem))) continue;
        const fresh = createCertEntry({ ...(await this.ca.issue(slot.names)), source: 'internal' });
        if (fresh.fingerprint256 === entry.fingerprint256 || slot.closed) continue;
        slot.entry = fresh;
        this.rebuildIndex();
      } catch (err) {
        this.logger.error('renewing an internal certificate failed; the current one keeps serving', {
          names: slot.names,
          error: (err as Error).message,
        });
      }
    }
  }

  private rebuildIndex(): void {
    this.all = portIndex(this.slots, this.defaultId);
    if (this.httpsPorts.length === 0) {
      this.byPort = undefined;
      return;
    }
    // A port no site is bound to (a listener on port 0) gets the certificates of the sites on every port.
    const everyPort = this.slots.filter((s) => s.ports === undefined);
    if (everyPort.length > 0) this.all = portIndex(everyPort, this.defaultId);
    this.byPort = new Map(
      this.httpsPorts.map((port) => [port, portIndex(this.slots.filter((s) => s.ports === undefined || s.ports.has(port)), this.portDefaults.get(port))]),
    );
  }
}

/** Names to certificates, the first slot's winning; the fallback is the default's certificate, else the first one there is. */
function portIndex(slots: readonly Slot[], defaultId: string | undefined): PortIndex {
  const owner = new Map<string, Slot>();
  for (const s of slots) {
    if (!s.entry) continue;
    for (const name of s.entry.names) if (!owner.has(name)) owner.set(name, s);
  }
  // issue 19: a site's own host gets its own policy even when an earlier certificate (a wildcard, shared
  // files) lists it too: the policy belongs to the site, not to the file. Without policies nothing moves.
  const policyOf = (s: Slot): string => (s.policy ? JSON.stringify(s.policy) : '');
  const claimed = new Set<string>();
  for (const s of slots) {
    if (!s.entry) continue;
    for (const name of s.names) {
      if (claimed.has(name) || !s.entry.covers(name)) continue;
      claimed.add(name);
      const current = owner.get(name);
      if (!current || policyOf(current) !== policyOf(s)) owner.set(name, s);
    }
  }
  const exact = new Map<string, CertEntry>();
  for (const [name, s] of owner) exact.set(name, servedEntry(s)!);
  const fallback = servedEntry(slots.find((s) => s.id === defaultId)) ?? servedEntry(slots.find((s) => s.entry));
  return { exact, fallback };
}

/** issue 19: the slot's entry with the context of its policy (tls-options.ts policyContextOptions). */
function servedEntry(slot: Slot | undefined): CertEntry | undefined {
  const entry = slot?.entry;
  if (!slot || !entry || !slot.policy || !entry.contextFor) return entry;
  if (slot.served?.from !== entry || slot.served.policy !== slot.policy) {
    const policy = slot.policy;
    // A site with both a policy and clientAuth (tls/client-auth.ts) builds its context from this view.
    const contextWith = entry.contextWith ? (extra: SecureContextOptions) => entry.contextWith!({ ...policyContextOptions(policy), ...extra }) : undefined;
    slot.served = { from: entry, policy, view: { ...entry, context: entry.contextFor(policy), ...(contextWith ? { contextWith } : {}) } };
  }
  return slot.served.view;
}

function newSlot(id: string, kind: SlotKind, names: string[], entry: CertEntry | undefined): Slot {
  return { id, kind, names, entry, busy: Promise.resolve(), closed: false };
}

function closeSlot(slot: Slot): void {
  slot.closed = true;
  slot.watch?.close();
}

function slotId(tls: SiteTls, names: string[]): string {
  if (tls.kind === 'files') return `files:${tls.cert}\0${tls.key}`;
  return tls.kind === 'internal' ? `internal:${names.join(',')}` : `acme:${namesKey(names)}`;
}

function namesKey(names: readonly string[]): string {
  return [...new Set(names.map(normalizeName))].sort().join(',');
}

function fingerprint(entry: CertEntry | undefined): string | undefined {
  return (entry as LoadedCertEntry | undefined)?.fingerprint256;
}

async function loadFiles(files: { cert: string; key: string }): Promise<LoadedCertEntry> {
  const [certPem, keyPem] = await Promise.all([readFile(files.cert), readFile(files.key)]);
  return createCertEntry({ certPem, keyPem, source: 'manual' });
}
