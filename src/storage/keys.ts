// The one place storage keys and lock names are built. Layout (CertMagic-style, namespaced by issuer so
// a staging certificate never overwrites a production one):
//
//   certificates/<issuerKey>/<name>/<name>.crt | .key | .json | .pending (cert+key while being replaced)
//   internal-ca/root.crt | root.key
//   acme/<issuerKey>/accounts/<email>.json | .key
//   acme/<issuerKey>/state/<name>.json       (last error, next attempt, ARI window: for `gatehouse certs`)
//   acme/<issuerKey>/changed                 (rewritten after every stored certificate: others re-read)
//   challenges/http-01/<token>
//   challenges/tls-alpn-01/<name>.json
//   tls/ticket-keys.json                     (session ticket keys of this and the next slot, secret)
//
// Lock names are keys too; each Storage decides where a lock lives (FileStorage: `locks/<name>.lock`).

/** Issuer key of certificates made by the internal CA. */
export const INTERNAL_ISSUER = 'internal';

/**
 * A name made safe as one key segment: lower-case, trailing dot dropped, `*` → `wildcard_`, IPv6 colons
 * → `-`, anything else outside `[a-z0-9._@+-]` → `_`, and never starting with a dot (FileStorage keeps
 * dot-names for its temporary files).
 */
export function safeName(name: string): string {
  const out = name
    .trim()
    .toLowerCase()
    .replace(/\.+$/, '')
    .replace(/\*/g, 'wildcard_')
    .replace(/:/g, '-')
    .replace(/[^a-z0-9._@+-]/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^\.+/, '');
  if (out === '') throw new Error(`cannot build a storage key from the name ${JSON.stringify(name)}`);
  return out;
}

/**
 * The issuer key of an ACME directory: its host and path, e.g.
 * `acme-v02.api.letsencrypt.org-directory` — so two CAs (or staging and production) never share keys.
 */
export function issuerKeyFromDirectory(directoryUrl: string): string {
  const url = new URL(directoryUrl);
  const host = url.port ? `${url.hostname}-${url.port}` : url.hostname;
  const path = url.pathname.replace(/^\/+|\/+$/g, '').replace(/\//g, '-');
  return safeName(path ? `${host}-${path}` : host);
}

export interface CertificateKeys {
  cert: string;
  key: string;
  /** JSON metadata (names, issued at, issuer details). */
  meta: string;
  /**
   * The new cert and key together, written before `cert` and `key` are replaced one after the other and
   * removed after: a crash between the two writes leaves this to finish from (no torn pair).
   */
  pending: string;
}

export function certificatesPrefix(issuerKey?: string): string {
  return issuerKey === undefined ? 'certificates/' : `certificates/${safeName(issuerKey)}/`;
}

/** Keys of the certificate stored under `name` (its first or primary name). */
export function certificateKeys(issuerKey: string, name: string): CertificateKeys {
  const n = safeName(name);
  const base = `${certificatesPrefix(issuerKey)}${n}/${n}`;
  return { cert: `${base}.crt`, key: `${base}.key`, meta: `${base}.json`, pending: `${base}.pending` };
}

export function internalCaKeys(): { cert: string; key: string } {
  return { cert: 'internal-ca/root.crt', key: 'internal-ca/root.key' };
}

/** The internal CA's announced successor root, until it takes over (src/tls/internal-ca-roots.ts). */
export function internalCaNextKeys(): { cert: string; key: string } {
  return { cert: 'internal-ca/next.crt', key: 'internal-ca/next.key' };
}

export function acmeAccountKeys(issuerKey: string, email: string): { json: string; key: string } {
  const base = `acme/${safeName(issuerKey)}/accounts/${safeName(email || 'default')}`;
  return { json: `${base}.json`, key: `${base}.key` };
}

/** Per-name renewal state of ACME certificates (shared by every process, shown by `gatehouse certs`). */
export function acmeStateKey(issuerKey: string, name: string): string {
  return `acme/${safeName(issuerKey)}/state/${safeName(name)}.json`;
}

/** Rewritten whenever a certificate from `issuerKey` is stored, so other processes know to look again. */
export function acmeChangedKey(issuerKey: string): string {
  return `acme/${safeName(issuerKey)}/changed`;
}

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** HTTP-01 key authorisation for `token` (RFC 8555 §8.3: tokens are base64url). */
export function httpChallengeKey(token: string): string {
  if (!TOKEN.test(token)) throw new Error('invalid ACME challenge token');
  return `challenges/http-01/${token}`;
}

/** TLS-ALPN-01 challenge certificate for `name`: looked up by SNI, not by token (RFC 8737). */
export function tlsAlpnChallengeKey(name: string): string {
  return `challenges/tls-alpn-01/${safeName(name)}.json`;
}

/** Lock held while a certificate for `name` is being obtained from `issuerKey`. */
export function issueLockName(issuerKey: string, name: string): string {
  return `issue/${safeName(issuerKey)}/${safeName(name)}`;
}

/** Lock held while an ACME account is registered. */
export function accountLockName(issuerKey: string, email: string): string {
  return `account/${safeName(issuerKey)}/${safeName(email || 'default')}`;
}

/** Lock held while the internal CA's roots are created or swapped. */
export function internalCaLockName(): string {
  return 'internal-ca';
}

/** TLS session ticket keys shared by every process (src/tls/ticket-keys.ts). */
export const TICKET_KEYS_KEY = 'tls/ticket-keys.json';

/** Lock held while ticket keys for a new slot are created. */
export const TICKET_KEYS_LOCK = 'tls-ticket-keys';
