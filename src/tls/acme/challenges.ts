// Challenge answers (README "Automatic HTTPS (ACME)"): kept in memory for the challenges this process opened, and in the
// storage for every process — so a running proxy answers the challenges `gatehouse renew` (cron) or
// another instance opened. A miss in memory looks in the storage on each request: validation requests are
// rare, and a cache could serve a previous challenge's answer.
//
// TLS-ALPN-01 stores the key authorization, not a certificate: the answering process builds the
// acme-tls/1 certificate (RFC 8737 §3) with a key of the type its listener asks for. The reason is in
// OpenSSL: a certificate given by SNICallback goes into the key-type slot of the connection's certificate
// set, next to the listener's default certificate; if the two differ in type (RSA vs ECDSA), OpenSSL may
// pick the default one by signature-algorithm preference. A challenge certificate of the default's type
// replaces it instead.
import { createSecureContext, type SecureContext } from 'node:tls';
import { httpChallengeKey, tlsAlpnChallengeKey } from '../../storage/keys.js';
import { StorageNotFoundError, type Storage } from '../../storage/types.js';
import { normalizeName } from '../names.js';
import { TLS_CONTEXT_OPTIONS } from '../tls-options.js';
import { alpnCertificate } from './alpn-cert.js';
import { newCertificateKey } from './keys.js';

interface HttpAnswer {
  name: string;
  keyAuth: string;
}

interface AlpnAnswer {
  name: string;
  keyAuth: string;
}

export type ChallengeKeyType = 'ec' | 'rsa';

const MAX_CONTEXTS = 64;

export class ChallengeStore {
  private readonly http = new Map<string, HttpAnswer>();
  private readonly alpn = new Map<string, AlpnAnswer>();
  /** Built acme-tls/1 contexts by name, key authorization and key type (a validator connects ~3 times). */
  private readonly contexts = new Map<string, Promise<SecureContext>>();
  /** The same, once built, for synchronous use (TLS 1.2 handshakes pick the certificate before ALPN). */
  private readonly ready = new Map<string, SecureContext>();

  /**
   * `shared: false` keeps answers in memory only: for `renew --dry-run` when it holds the ports itself,
   * so that a dry run writes nothing at all.
   */
  constructor(
    private readonly storage: Storage,
    private readonly shared = true,
    /** The key type acme-tls/1 certificates are built with by default (the listener's default certificate's). */
    private readonly keyType: () => ChallengeKeyType = () => 'ec',
  ) {}

  async presentHttp(name: string, token: string, keyAuth: string): Promise<void> {
    const answer = { name: normalizeName(name), keyAuth };
    this.http.set(token, answer);
    if (this.shared) await this.storage.store(httpChallengeKey(token), JSON.stringify(answer));
  }

  async removeHttp(token: string): Promise<void> {
    this.http.delete(token);
    if (this.shared) await this.storage.delete(httpChallengeKey(token)).catch(() => undefined);
  }

  async presentAlpn(name: string, keyAuth: string): Promise<void> {
    const answer = { name: normalizeName(name), keyAuth };
    this.alpn.set(answer.name, answer);
    await this.contextFor(answer, this.keyType()); // ready before the validator connects
    if (this.shared) await this.storage.store(tlsAlpnChallengeKey(answer.name), JSON.stringify(answer));
  }

  async removeAlpn(name: string): Promise<void> {
    const n = normalizeName(name);
    this.alpn.delete(n);
    for (const k of this.contexts.keys()) if (k.startsWith(`${n}\0`)) this.contexts.delete(k);
    for (const k of this.ready.keys()) if (k.startsWith(`${n}\0`)) this.ready.delete(k);
    if (this.shared) await this.storage.delete(tlsAlpnChallengeKey(n)).catch(() => undefined);
  }

  /**
   * The key authorization for `token`, if a challenge for it is open and was opened for `host` (the
   * request's Host without its port: Pebble sends `name:port`). Undefined otherwise.
   */
  async httpAnswer(token: string, host: string | undefined): Promise<string | undefined> {
    let answer = this.http.get(token);
    if (!answer) {
      let key: string;
      try {
        key = httpChallengeKey(token);
      } catch {
        return undefined; // not a base64url token: not ours
      }
      answer = await loadJson<HttpAnswer>(this.storage, key);
    }
    if (!answer) return undefined;
    if (host !== undefined && normalizeName(stripPort(host)) !== answer.name) return undefined;
    return answer.keyAuth;
  }

  /**
   * The acme-tls/1 certificate for `servername` while a TLS-ALPN-01 challenge for it is open, with a key
   * of `keyType` (the type of the listener's default certificate; see the top of this file).
   */
  async alpnContext(servername: string, keyType: ChallengeKeyType = this.keyType()): Promise<SecureContext | undefined> {
    const name = normalizeName(servername);
    let answer = this.alpn.get(name);
    if (!answer) {
      let key: string;
      try {
        key = tlsAlpnChallengeKey(name);
      } catch {
        return undefined;
      }
      answer = await loadJson<AlpnAnswer>(this.storage, key);
    }
    if (!answer || answer.name !== name || typeof answer.keyAuth !== 'string') return undefined;
    return this.contextFor(answer, keyType);
  }

  /**
   * The acme-tls/1 certificate, only if a challenge this process opened has it built already: for TLS 1.2,
   * where Node asks SNICallback before ALPNCallback, so the swap must happen synchronously in the latter.
   */
  alpnContextNow(servername: string): SecureContext | undefined {
    const answer = this.alpn.get(normalizeName(servername));
    return answer ? this.ready.get(`${answer.name}\0${answer.keyAuth}\0${this.keyType()}`) : undefined;
  }

  private contextFor(answer: AlpnAnswer, keyType: ChallengeKeyType): Promise<SecureContext> {
    const id = `${answer.name}\0${answer.keyAuth}\0${keyType}`;
    let p = this.contexts.get(id);
    if (!p) {
      if (this.contexts.size >= MAX_CONTEXTS) {
        const oldest = this.contexts.keys().next().value!;
        this.contexts.delete(oldest);
        this.ready.delete(oldest);
      }
      p = buildAlpnContext(answer, keyType);
      this.contexts.set(id, p);
      p.then(
        (ctx) => this.contexts.has(id) && this.ready.set(id, ctx),
        () => this.contexts.delete(id),
      );
    }
    return p;
  }
}

async function buildAlpnContext(answer: AlpnAnswer, keyType: ChallengeKeyType): Promise<SecureContext> {
  const { certPem, keyPem } = alpnCertificate(answer.name, answer.keyAuth, await newCertificateKey(keyType === 'rsa' ? 'rsa-2048' : 'ecdsa-p256'));
  return createSecureContext({ ...TLS_CONTEXT_OPTIONS, cert: certPem, key: keyPem });
}

async function loadJson<T>(storage: Storage, key: string): Promise<T | undefined> {
  try {
    return JSON.parse((await storage.load(key)).toString()) as T;
  } catch (err) {
    if (err instanceof StorageNotFoundError || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** `name:port`, `[v6]:port`, `name` → the name. */
export function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']') > 0 ? host.indexOf(']') : undefined);
  const colon = host.lastIndexOf(':');
  return colon > 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}
