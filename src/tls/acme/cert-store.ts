// ACME certificates and their renewal state in the storage, under one issuer's keys (storage/keys.ts).
//
// A certificate is two values (chain and key) that must change together. Storage writes are atomic one
// value at a time, so the pair is first written whole into `pending`, then `key`, `cert` and the metadata,
// and `pending` is removed last. A reader that finds a cert and key that do not match (a crash between the
// two writes) takes the pair from `pending`. Metadata is advisory: everything that matters is read from
// the certificate itself.
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { acmeChangedKey, acmeStateKey, certificateKeys, certificatesPrefix } from '../../storage/keys.js';
import { loadText, type Storage } from '../../storage/types.js';

export interface CertMeta {
  names: string[];
  issuerKey: string;
  directory: string;
  serial: string;
  fingerprint256: string;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
  keyType: string;
  challenge?: string;
  /** Issued at a handshake through acme.onDemand: renewed while it is stored, not listed in the config. */
  onDemand?: boolean;
  /** Serial of the certificate this one replaced. */
  replaced?: string;
  /** Not ordered by gatehouse: imported from there (import.ts, e.g. certbot's live/NAME). */
  importedFrom?: string;
}

export interface StoredPair {
  certPem: string;
  keyPem: string;
  /** Present when it describes this very certificate. */
  meta?: CertMeta;
}

export interface LastError {
  at: string;
  challenge: string | null;
  detail: string;
  /** The likely fix (shown by `gatehouse certs`, not part of its JSON). */
  hint: string;
  /** Each challenge (and CA) tried, when more than one failed (shown by `gatehouse certs`). */
  attempts?: Array<{ challenge: string | null; detail: string; ca?: string }>;
  /** The CA the (last) failure came from, as `directoryLabel` names it; absent in states stored before acme.issuers. */
  ca?: string;
}

export interface AriState {
  certId: string;
  start: string;
  end: string;
  /** The time picked inside the window (RFC 9773 §4.2), kept while the window stays the same. */
  chosen: string;
  /** Not before this time may renewalInfo be fetched again (its Retry-After). */
  nextFetch: string;
  explanationURL?: string;
}

/** Per-name renewal state, shared by every process through the storage. */
export interface NameState {
  names: string[];
  failures: number;
  lastError: LastError | null;
  nextAttempt: string | null;
  ari?: AriState;
}

export class AcmeCertStore {
  constructor(
    readonly storage: Storage,
    readonly issuerKey: string,
  ) {}

  async load(primary: string): Promise<StoredPair | undefined> {
    const keys = certificateKeys(this.issuerKey, primary);
    const [cert, key, metaText, pending] = await Promise.all([
      loadText(this.storage, keys.cert),
      loadText(this.storage, keys.key),
      loadText(this.storage, keys.meta),
      loadText(this.storage, keys.pending),
    ]);
    // Without `pending`, the last save() finished: cert and key belong together (checked again by
    // createCertEntry before serving). Only after a crash is the pair compared.
    let pair = cert && key ? { certPem: cert, keyPem: key } : undefined;
    if (pending) {
      if (pair && !matches(pair.certPem, pair.keyPem)) pair = undefined;
      try {
        const p = JSON.parse(pending) as { certPem: string; keyPem: string };
        // The pending pair is newer unless the writer got as far as the cert (then they are the same).
        if (matches(p.certPem, p.keyPem) && (!pair || notAfter(p.certPem) > notAfter(pair.certPem))) pair = p;
      } catch {
        // a pending value is written atomically; unreadable means written by something else: ignore
      }
    }
    if (!pair) return undefined;
    let meta: CertMeta | undefined;
    try {
      const m = metaText ? (JSON.parse(metaText) as CertMeta) : undefined;
      if (m && !pending && m.fingerprint256 && m.names) meta = m;
      else if (m && m.fingerprint256 === new X509Certificate(pair.certPem).fingerprint256) meta = m;
    } catch {
      meta = undefined;
    }
    return meta ? { ...pair, meta } : pair;
  }

  /** The stored chain alone (one read), to notice a change cheaply. */
  async loadCertPem(primary: string): Promise<string | undefined> {
    return loadText(this.storage, certificateKeys(this.issuerKey, primary).cert);
  }

  async save(primary: string, pair: { certPem: string; keyPem: string }, meta: CertMeta): Promise<void> {
    const keys = certificateKeys(this.issuerKey, primary);
    await this.storage.store(keys.pending, JSON.stringify({ certPem: pair.certPem, keyPem: pair.keyPem }), { secret: true });
    await this.storage.store(keys.key, pair.keyPem, { secret: true });
    await this.storage.store(keys.cert, pair.certPem);
    await this.storage.store(keys.meta, JSON.stringify(meta, null, 2));
    await this.storage.delete(keys.pending);
    await this.announce(primary);
  }

  async loadState(primary: string): Promise<NameState | undefined> {
    const text = await loadText(this.storage, acmeStateKey(this.issuerKey, primary));
    if (!text) return undefined;
    try {
      return JSON.parse(text) as NameState;
    } catch {
      return undefined;
    }
  }

  /**
   * Stores the outcome of an attempt and announces it, so running proxies follow a failure recorded
   * elsewhere (its back-off, `gatehouse certs`' lastError) as they follow a stored certificate.
   * `announce: false` for what only this process needs to keep (an ARI window it fetched).
   */
  async saveState(primary: string, state: NameState, options: { announce?: boolean } = {}): Promise<void> {
    await this.storage.store(acmeStateKey(this.issuerKey, primary), JSON.stringify(state, null, 2));
    if (options.announce ?? true) await this.announce(primary);
  }

  /** Changes whenever a certificate or the renewal state of this issuer was stored (by any process). */
  async changedMarker(): Promise<string | undefined> {
    return loadText(this.storage, acmeChangedKey(this.issuerKey));
  }

  private async announce(primary: string): Promise<void> {
    await this.storage.store(acmeChangedKey(this.issuerKey), `${new Date().toISOString()} ${primary} ${randomBytes(6).toString('hex')}\n`);
  }

  /** Primary names of the certificates stored for this issuer. */
  async primaries(): Promise<string[]> {
    const prefix = certificatesPrefix(this.issuerKey);
    const keys = await this.storage.list(prefix);
    const out: string[] = [];
    for (const k of keys) {
      const m = /^([^/]+)\/\1\.crt$/.exec(k.slice(prefix.length));
      if (m) out.push(m[1]!);
    }
    return out;
  }
}

function matches(certPem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

function notAfter(certPem: string): number {
  return Date.parse(new X509Certificate(certPem).validTo);
}
