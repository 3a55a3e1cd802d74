// A certificate obtained elsewhere (certbot's, for `gatehouse adapt --acme`) stored exactly as one ordered
// from `directory` is stored (cert-store.ts, under that directory's issuer key), so the next `run` or
// `renew` serves it, schedules its renewal by the normal rule (schedule.ts dueTime) and places no order.
// Checked first as a handshake would need it: the key matches, the chain is one chain, the names are
// covered (RFC 6125 wildcards, names.ts), it has not expired. Written under the same storage lock as an
// order, and never over a newer certificate: what serves keeps serving.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { issueLockName, issuerKeyFromDirectory } from '../../storage/keys.js';
import type { Storage } from '../../storage/types.js';
import { CertLoadError, createCertEntry } from '../cert-entry.js';
import { normalizeName, parseSubjectAltName } from '../names.js';
import { AcmeCertStore, type CertMeta } from './cert-store.js';
import { dueTime } from './schedule.js';

export interface ImportOptions {
  /** Leaf first, then the intermediates (certbot's fullchain.pem). */
  certPem: string;
  keyPem: string;
  /** The names the certificate must cover, primary first (the site's certNamesForSite); default: its SANs. */
  names?: string[];
  /** The ACME directory whose certificates this one joins (acme.directory). */
  directory: string;
  /** acme.renewBefore, for the due time reported back. */
  renewBeforeMs?: number;
  /** Where it came from, kept in the metadata (e.g. certbot's live/NAME). */
  source?: string;
  /** Bounds the wait for the storage lock (a running proxy may be ordering the same names). */
  signal?: AbortSignal;
  now?: number;
}

interface Described {
  names: string[];
  serial: string;
  notAfter: Date;
}

export type ImportResult =
  /** Stored; `due` is when gatehouse will renew it (without an ARI window). */
  | (Described & { kind: 'imported'; due: Date; replaced?: string })
  /** This very certificate was already stored. */
  | (Described & { kind: 'unchanged' })
  /** The storage holds a certificate for these names that lasts as long or longer: kept, nothing written. */
  | (Described & { kind: 'kept'; stored: { serial: string; notAfter: Date } });

/** The certificate cannot be imported; the message says why, for the user. */
export class ImportError extends Error {
  readonly code = 'ECERT_IMPORT';
}

export async function importCertificate(storage: Storage, o: ImportOptions): Promise<ImportResult> {
  const now = o.now ?? Date.now();
  const chain = parseChain(o.certPem);
  const leaf = chain[0]!;
  let entry;
  try {
    entry = createCertEntry({ certPem: o.certPem, keyPem: o.keyPem, source: 'acme' });
  } catch (err) {
    if (err instanceof CertLoadError) throw new ImportError(err.message);
    throw err;
  }
  const notAfter = new Date(leaf.validTo);
  if (notAfter.getTime() <= now) throw new ImportError(`the certificate expired on ${notAfter.toISOString()}`);
  const names = [...new Set((o.names ?? parseSubjectAltName(leaf.subjectAltName)).map(normalizeName))];
  if (names.length === 0) throw new ImportError('no name to store the certificate under');
  const missing = names.filter((n) => !entry.covers(n));
  if (missing.length > 0) throw new ImportError(`the certificate does not cover ${missing.join(', ')} (it holds ${entry.names.join(', ') || 'no names'})`);

  const issuerKey = issuerKeyFromDirectory(o.directory);
  const store = new AcmeCertStore(storage, issuerKey);
  const primary = names[0]!;
  const described: Described = { names, serial: leaf.serialNumber, notAfter };
  // The lock an order takes (obtain.ts): a proxy renewing these names now finishes first, and is seen below.
  const unlock = await storage.lock(issueLockName(issuerKey, primary), o.signal);
  try {
    const stored = await store.load(primary);
    let replaced: string | undefined;
    if (stored) {
      const x = new X509Certificate(stored.certPem);
      if (x.fingerprint256 === leaf.fingerprint256) return { kind: 'unchanged', ...described };
      const storedEntry = safeEntry(stored.certPem, stored.keyPem);
      // A stored certificate that cannot serve these names is not serving them (managed-records.ts install).
      if (storedEntry && names.every((n) => storedEntry.covers(n)) && Date.parse(x.validTo) >= notAfter.getTime()) {
        return { kind: 'kept', ...described, stored: { serial: x.serialNumber, notAfter: new Date(x.validTo) } };
      }
      replaced = x.serialNumber;
    }
    const notBefore = new Date(leaf.validFrom);
    const meta: CertMeta = {
      names,
      issuerKey,
      directory: o.directory,
      serial: leaf.serialNumber,
      fingerprint256: leaf.fingerprint256,
      notBefore: notBefore.toISOString(),
      notAfter: notAfter.toISOString(),
      issuedAt: new Date(now).toISOString(),
      keyType: keyTypeOf(leaf.publicKey),
      ...(o.source !== undefined ? { importedFrom: o.source } : {}),
      ...(replaced !== undefined ? { replaced } : {}),
    };
    // As after an order: a new certificate starts with no failure and no ARI window of the old one.
    await store.saveState(primary, { names, failures: 0, lastError: null, nextAttempt: null }, { announce: false });
    await store.save(primary, { certPem: o.certPem, keyPem: o.keyPem }, meta);
    const due = new Date(dueTime({ notBefore, notAfter }, o.renewBeforeMs));
    return { kind: 'imported', ...described, due, ...(replaced !== undefined ? { replaced } : {}) };
  } finally {
    await unlock();
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate of the file, each issued and signed by the next: a chain a client can build on. */
function parseChain(pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new ImportError('no certificate in the chain file');
  const chain = blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new ImportError(`certificate ${i + 1} of the chain cannot be parsed: ${(err as Error).message}`);
    }
  });
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i]!.checkIssued(chain[i + 1]!) || !chain[i]!.verify(chain[i + 1]!.publicKey)) {
      throw new ImportError(`the chain is broken: certificate ${i + 2} did not issue certificate ${i + 1}`);
    }
  }
  return chain;
}

function safeEntry(certPem: string, keyPem: string): ReturnType<typeof createCertEntry> | undefined {
  try {
    return createCertEntry({ certPem, keyPem, source: 'acme' });
  } catch {
    return undefined;
  }
}

/** acme.key's spelling of the key (CertMeta.keyType). */
function keyTypeOf(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') return d?.namedCurve === 'secp384r1' ? 'ecdsa-p384' : d?.namedCurve === 'prime256v1' ? 'ecdsa-p256' : `ec-${d?.namedCurve ?? 'unknown'}`;
  if (key.asymmetricKeyType === 'rsa') return `rsa-${d?.modulusLength ?? 0}`;
  return key.asymmetricKeyType ?? 'unknown';
}
