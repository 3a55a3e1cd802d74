// What `gatehouse certs` shows (README "Commands"): every certificate in the storage (ACME ones under each issuer,
// internal ones), every `tls: acme` name that has none yet, and manual certificate files from the config,
// each with its status and the renewal state the proxy or `gatehouse renew` left in the storage.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { directoryLabel } from '../../config/acme.js';
import type { Config } from '../../config/types.js';
import { certificateKeys, certificatesPrefix, INTERNAL_ISSUER, issuerKeyFromDirectory, safeName } from '../../storage/keys.js';
import { loadText, type Storage } from '../../storage/types.js';
import { certNamesForSite, normalizeName, parseSubjectAltName } from '../names.js';
import { renewalTime } from '../renewal.js';
import { AcmeCertStore, type NameState } from './cert-store.js';
import { ariCertId } from './der.js';
import { dueTime } from './schedule.js';

export type CertStatus = 'pending' | 'valid' | 'renewing' | 'failing' | 'expired';

/** One line of `gatehouse certs --json`: exactly README "Commands"'s fields. */
export interface CertRow {
  names: string[];
  source: 'acme' | 'internal' | 'manual';
  issuer: string | null;
  /** The ACME CA that signed it: a known directory's short name (`letsencrypt`, `zerossl`…) or its URL. */
  ca: string | null;
  serial: string | null;
  notBefore: string | null;
  notAfter: string | null;
  daysLeft: number | null;
  status: CertStatus;
  /** `ca`: the CA the (last) failure came from (absent in states stored before acme.issuers). */
  lastError: { at: string; challenge: string | null; detail: string; ca?: string } | null;
  nextAttempt: string | null;
}

/** A row plus what only the human listing (and the admin's failure counter) uses. */
export interface InventoryRow extends CertRow {
  hint?: string;
  attempts?: Array<{ challenge: string | null; detail: string; ca?: string }>;
  /** Failed attempts in a row, as recorded in the storage (0 or absent after a success). */
  failures?: number;
}

const DAY = 86_400_000;

export async function inventory(config: Config, storage: Storage, now = Date.now()): Promise<InventoryRow[]> {
  const rows: InventoryRow[] = [];
  const acmeIssuer = config.acme ? issuerKeyFromDirectory(config.acme.directory) : undefined;
  const storedAcme = new Set<string>();

  const keys = await storage.list(certificatesPrefix());
  for (const key of keys) {
    const m = /^certificates\/([^/]+)\/([^/]+)\/\2\.crt$/.exec(key);
    if (!m) continue;
    const [, issuerKey, name] = m as unknown as [string, string, string];
    if (issuerKey === INTERNAL_ISSUER) {
      const pem = await loadText(storage, certificateKeys(INTERNAL_ISSUER, name).cert);
      if (pem) rows.push(fromCert(pem, 'internal', now, (x) => renewalTime(validity(x).notBefore, validity(x).notAfter).getTime()));
      continue;
    }
    const store = new AcmeCertStore(storage, issuerKey);
    const [pair, state] = await Promise.all([store.load(name), store.loadState(name)]);
    if (!pair) continue;
    if (issuerKey === acmeIssuer) storedAcme.add(name);
    const certId = ariCertId(Buffer.from(new X509Certificate(pair.certPem).raw));
    const ari = state?.ari && state.ari.certId === certId ? Date.parse(state.ari.chosen) : undefined;
    const row = fromCert(pair.certPem, 'acme', now, (x) => dueTime(validity(x), config.acme?.renewBeforeMs, ari));
    if (pair.meta?.directory) row.ca = directoryLabel(pair.meta.directory);
    rows.push(withState(row, state, now));
  }

  if (acmeIssuer) {
    const store = new AcmeCertStore(storage, acmeIssuer);
    for (const site of config.sites) {
      if (site.tls.kind !== 'acme') continue;
      const names = certNamesForSite(site);
      if (names.length === 0 || storedAcme.has(safeName(names[0]!))) continue;
      storedAcme.add(safeName(names[0]!));
      const state = await store.loadState(names[0]!);
      rows.push(
        withState(
          { names, source: 'acme', issuer: null, ca: null, serial: null, notBefore: null, notAfter: null, daysLeft: null, status: 'pending', lastError: null, nextAttempt: null },
          state,
          now,
        ),
      );
    }
  }

  const seenFiles = new Set<string>();
  for (const site of config.sites) {
    if (site.tls.kind !== 'files' || seenFiles.has(site.tls.cert)) continue;
    seenFiles.add(site.tls.cert);
    try {
      rows.push(fromCert(await readFile(site.tls.cert, 'utf8'), 'manual', now, () => undefined));
    } catch (err) {
      rows.push({
        names: certNamesForSite(site),
        source: 'manual',
        issuer: null,
        ca: null,
        serial: null,
        notBefore: null,
        notAfter: null,
        daysLeft: null,
        status: 'failing',
        lastError: { at: new Date(now).toISOString(), challenge: null, detail: `cannot read ${site.tls.cert}: ${(err as Error).message}` },
        nextAttempt: null,
      });
    }
  }
  return rows;
}

/** The JSON form: README "Commands"'s fields only. */
export function toJsonRow(row: InventoryRow): CertRow {
  const { names, source, issuer, ca, serial, notBefore, notAfter, daysLeft, status, lastError, nextAttempt } = row;
  return { names, source, issuer, ca, serial, notBefore, notAfter, daysLeft, status, lastError, nextAttempt };
}

function validity(x: X509Certificate): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(x.validFrom), notAfter: new Date(x.validTo) };
}

function fromCert(pem: string, source: CertRow['source'], now: number, due: (x: X509Certificate) => number | undefined): InventoryRow {
  const x = new X509Certificate(pem);
  const { notBefore, notAfter } = validity(x);
  const dueAt = due(x);
  let names = parseSubjectAltName(x.subjectAltName);
  if (names.length === 0) names = [normalizeName(/CN=([^\n]+)/.exec(x.subject)?.[1] ?? '')];
  const status: CertStatus = notAfter.getTime() <= now ? 'expired' : dueAt !== undefined && now >= dueAt ? 'renewing' : 'valid';
  return {
    names,
    source,
    issuer: /CN=([^\n]+)/.exec(x.issuer)?.[1] ?? /O=([^\n]+)/.exec(x.issuer)?.[1] ?? x.issuer.replace(/\n/g, ', '),
    ca: null,
    serial: x.serialNumber,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now) / DAY),
    status,
    lastError: null,
    nextAttempt: dueAt !== undefined ? new Date(dueAt).toISOString() : null,
  };
}

function withState(row: InventoryRow, state: NameState | undefined, now: number): InventoryRow {
  if (!state?.lastError) return row;
  const { at, challenge, detail, hint, attempts, ca } = state.lastError;
  return {
    ...row,
    ...(attempts ? { attempts } : {}),
    failures: state.failures,
    status: row.status === 'expired' ? 'expired' : 'failing',
    lastError: { at, challenge, detail, ...(ca ? { ca } : {}) },
    nextAttempt: state.nextAttempt ?? row.nextAttempt ?? new Date(now).toISOString(),
    hint,
  };
}
