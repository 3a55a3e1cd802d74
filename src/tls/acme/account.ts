// ACME accounts: one per (directory, email), its key in the storage (secret), registered once under the
// storage lock so that processes sharing the storage share the account. A dry run uses the stored
// account when there is one and otherwise registers a throwaway one that is never stored.
import acme from 'acme-client';
import type { Logger } from '../../log/types.js';
import { accountLockName, acmeAccountKeys } from '../../storage/keys.js';
import { loadText, type Storage } from '../../storage/types.js';
import { newCertificateKey } from './keys.js';

export interface AccountParams {
  directory: string;
  issuerKey: string;
  email?: string;
  eab?: { kid: string; hmac: string };
  storage: Storage;
  logger: Logger;
  /** False for dry runs: nothing is written. */
  persist: boolean;
  /** First poll delay (GATEHOUSE_ACME_POLL). */
  pollMinMs: number;
}

interface StoredAccount {
  url: string;
  directory: string;
  email?: string;
  createdAt: string;
}

const clients = new Map<string, Promise<acme.Client>>();

function cacheKey(p: AccountParams): string {
  return `${p.directory}\0${p.email ?? ''}\0${p.persist}`;
}

/** A client logged in to the account for (directory, email); registered on first use. */
export function accountClient(p: AccountParams): Promise<acme.Client> {
  const key = cacheKey(p);
  let c = clients.get(key);
  if (!c) {
    c = loadOrRegister(p).catch((err: unknown) => {
      clients.delete(key);
      throw err;
    });
    clients.set(key, c);
  }
  return c;
}

/**
 * Called when the CA no longer knows the stored account (a test CA restarted, an account deactivated):
 * the next accountClient() registers again with the same key.
 */
export async function forgetAccountUrl(p: AccountParams): Promise<void> {
  clients.delete(cacheKey(p));
  if (p.persist) await p.storage.delete(acmeAccountKeys(p.issuerKey, p.email ?? '').json);
}

interface HttpInternals {
  getNonce(): Promise<string>;
  request(url: string, method: string, opts?: unknown): Promise<{ headers: Record<string, unknown> }>;
}

/**
 * RFC 8555 §7.2: every response carries a fresh Replay-Nonce, and clients should use it for the next
 * request. acme-client fetches a new nonce (HEAD newNonce) before every POST instead, doubling the round
 * trips of an order; this keeps the nonces responses bring and hands them out first. A stale one costs a
 * badNonce answer, which acme-client retries with the nonce that answer carries.
 */
function reuseNonces(client: acme.Client): void {
  const http = (client as unknown as { http: HttpInternals }).http;
  const pool: string[] = [];
  const request = http.request.bind(http);
  const getNonce = http.getNonce.bind(http);
  http.request = async (url, method, opts) => {
    const resp = await request(url, method, opts);
    const nonce = resp.headers['replay-nonce'];
    // Not from HEAD newNonce: getNonce() returns that one to its caller.
    if (typeof nonce === 'string' && method.toLowerCase() !== 'head') {
      pool.push(nonce);
      if (pool.length > 8) pool.shift();
    }
    return resp;
  };
  http.getNonce = async () => pool.pop() ?? getNonce();
}

function newClient(p: AccountParams, accountKey: string, accountUrl?: string): acme.Client {
  const client = new acme.Client({
    directoryUrl: p.directory,
    accountKey,
    ...(accountUrl ? { accountUrl } : {}),
    ...(p.eab ? { externalAccountBinding: { kid: p.eab.kid, hmacKey: p.eab.hmac } } : {}),
    backoffMin: p.pollMinMs,
    backoffMax: 5000,
    backoffAttempts: 40,
  });
  reuseNonces(client);
  return client;
}

async function loadStored(p: AccountParams): Promise<{ key?: string; account?: StoredAccount }> {
  const keys = acmeAccountKeys(p.issuerKey, p.email ?? '');
  const [key, json] = await Promise.all([loadText(p.storage, keys.key), loadText(p.storage, keys.json)]);
  let account: StoredAccount | undefined;
  try {
    account = json ? (JSON.parse(json) as StoredAccount) : undefined;
  } catch {
    account = undefined;
  }
  return { key, account: account?.url ? account : undefined };
}

async function loadOrRegister(p: AccountParams): Promise<acme.Client> {
  const first = await loadStored(p);
  if (first.key && first.account) return newClient(p, first.key, first.account.url);
  if (!p.persist) return register(p, first.key ?? (await newAccountKey()));

  const unlock = await p.storage.lock(accountLockName(p.issuerKey, p.email ?? ''));
  try {
    const again = await loadStored(p);
    if (again.key && again.account) return newClient(p, again.key, again.account.url);
    const key = again.key ?? (await newAccountKey());
    const keys = acmeAccountKeys(p.issuerKey, p.email ?? '');
    // The key is stored before registering: if we crash after the CA registered it, the next run
    // finds the key and the CA returns the same account for it (RFC 8555 §7.3.1).
    if (!again.key) await p.storage.store(keys.key, key, { secret: true });
    const client = await register(p, key);
    const stored: StoredAccount = { url: client.getAccountUrl(), directory: p.directory, createdAt: new Date().toISOString() };
    if (p.email) stored.email = p.email;
    await p.storage.store(keys.json, JSON.stringify(stored, null, 2));
    p.logger.info('registered an ACME account', { directory: p.directory, email: p.email ?? null, account: stored.url });
    return client;
  } finally {
    await unlock();
  }
}

async function register(p: AccountParams, key: string): Promise<acme.Client> {
  const client = newClient(p, key);
  await client.createAccount({
    termsOfServiceAgreed: true,
    ...(p.email ? { contact: [`mailto:${p.email}`] } : {}),
  });
  return client;
}

/** Account keys are ECDSA P-256 (ES256, RFC 8555 §6.2), whatever acme.key says for certificates. */
function newAccountKey(): Promise<string> {
  return newCertificateKey('ecdsa-p256');
}
