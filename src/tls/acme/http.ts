// acme-client talks HTTP through one axios instance of its own (`acme.axios`), shared by every client in
// the process. This module is the one place that configures it:
//  - trust: `acme.trust` adds a CA for the directory's HTTPS (a private CA, or Pebble in tests);
//  - transport failures (refused, reset, timeout, untrusted certificate): acme-client would retry them 5
//    times over 75 s and then replace the error by "Cannot read properties of undefined (reading
//    'config')" (test-peers.md §2, gotcha 2). Our adapter retries once, then throws an AcmeTransportError
//    without a `config` property, which acme-client's interceptor passes through untouched;
//  - cancellation: acme-client takes no AbortSignal, so the signal of the current operation is carried in
//    an AsyncLocalStorage and checked before every request;
//  - long Retry-After values on 429/503 are shortened, so acme-client does not sleep for hours inside a
//    call; the real value is kept for the scheduler (`retryAfterMs` on the scope).
import acme from 'acme-client';
import { AsyncLocalStorage } from 'node:async_hooks';
import https from 'node:https';
import { createRequire } from 'node:module';
import tls from 'node:tls';

export class AcmeTransportError extends Error {
  readonly code = 'EACME_TRANSPORT';
  constructor(
    message: string,
    readonly url: string,
    readonly errno: string | undefined,
  ) {
    super(message);
  }
}

export interface AcmeScope {
  signal?: AbortSignal;
  /** Set when the CA answered 429/503 with a Retry-After (ms from then). */
  retryAfterMs?: number;
}

const scope = new AsyncLocalStorage<AcmeScope>();

/** Runs `fn` so that every ACME request it makes checks `signal` and reports Retry-After into `s`. */
export function withAcmeScope<T>(s: AcmeScope, fn: () => Promise<T>): Promise<T> {
  return scope.run(s, fn);
}

type AxiosConfig = { url?: string; signal?: AbortSignal; [k: string]: unknown };
type AxiosAdapter = (config: AxiosConfig) => Promise<{ status: number; headers: Record<string, unknown> }>;
interface AxiosErrorLike extends Error {
  code?: string;
  response?: { status: number; headers: Record<string, unknown> };
  cause?: unknown;
}

/** acme-client's retries on 5xx/429 (honouring Retry-After up to MAX_INLINE_RETRY_AFTER_S). */
const RETRY_ATTEMPTS = 3;
const MAX_INLINE_RETRY_AFTER_S = 10;
const REQUEST_TIMEOUT_MS = 20_000;
const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

let installed = false;
let currentTrust: string | undefined | null = null;

function describeTransport(err: AxiosErrorLike, url: string): AcmeTransportError {
  const code = err.code ?? (err.cause as { code?: string } | undefined)?.code;
  const where = safeOrigin(url);
  let message: string;
  if (code && TLS_TRUST_CODES.has(code)) {
    message = `the HTTPS certificate of ${where} is not trusted (${code}); for a private or test CA set acme.trust to its CA file`;
  } else if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    message = `cannot reach the ACME server ${where} (${code})`;
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    message = `cannot resolve the ACME server ${where} (${code})`;
  } else if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    message = `the ACME server ${where} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  } else {
    message = `request to the ACME server ${where} failed: ${err.message}`;
  }
  return new AcmeTransportError(message, url, code);
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

function aborted(signal: AbortSignal, url: string): AcmeTransportError {
  const reason = signal.reason as Error | undefined;
  return new AcmeTransportError(reason?.message || `gave up on ${safeOrigin(url)}`, url, 'ABORT_ERR');
}

function install(): void {
  if (installed) return;
  installed = true;
  // acme-client's own axios (a dependency of acme-client, not of ours): its http adapter does the I/O.
  const requireFromAcme = createRequire(createRequire(import.meta.url).resolve('acme-client'));
  const axiosModule = requireFromAcme('axios') as { getAdapter(name: string): AxiosAdapter };
  const http = axiosModule.getAdapter('http');
  const ax = acme.axios;
  (ax.defaults as unknown as { adapter: AxiosAdapter }).adapter = async (config) => {
    const s = scope.getStore();
    const url = String(config.url ?? '');
    for (let attempt = 0; ; attempt++) {
      if (s?.signal?.aborted) throw aborted(s.signal, url);
      try {
        const request = http(config);
        const response = await (s?.signal ? raceAbort(request, s.signal, url) : request);
        return response;
      } catch (err) {
        const e = err as AxiosErrorLike;
        if (e.response) {
          shortenRetryAfter(e.response, s);
          throw err;
        }
        if (e instanceof AcmeTransportError) throw e;
        const transport = describeTransport(e, url);
        if (attempt >= 1 || (transport.errno && TLS_TRUST_CODES.has(transport.errno))) throw transport;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  const settings = (ax.defaults as unknown as { acmeSettings: Record<string, number> }).acmeSettings;
  settings.retryMaxAttempts = RETRY_ATTEMPTS;
  settings.retryDefaultDelay = 1;
  ax.defaults.timeout = REQUEST_TIMEOUT_MS;
}

/** The abandoned request still ends by itself (timeout or answer); its result is dropped. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal, url: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(aborted(signal, url));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function shortenRetryAfter(response: { status: number; headers: Record<string, unknown> }, s: AcmeScope | undefined): void {
  if (response.status !== 429 && response.status !== 503) return;
  const raw = response.headers['retry-after'];
  if (raw === undefined) return;
  const text = String(raw);
  const seconds = /^\d+$/.test(text) ? Number(text) : (Date.parse(text) - Date.now()) / 1000;
  if (!Number.isFinite(seconds)) return;
  if (s) s.retryAfterMs = Math.max(s.retryAfterMs ?? 0, seconds * 1000);
  if (seconds > MAX_INLINE_RETRY_AFTER_S) response.headers['retry-after'] = String(MAX_INLINE_RETRY_AFTER_S);
}

/**
 * Sets up acme-client's HTTP for this process: the adapter above, and the agent that trusts the system
 * roots plus `trustPem` (acme.trust). Idempotent; a changed trust (reload) replaces the agent.
 */
export function configureAcmeHttp(trustPem: string | undefined): void {
  install();
  if (currentTrust === (trustPem ?? undefined)) return;
  currentTrust = trustPem;
  acme.axios.defaults.httpsAgent = new https.Agent({
    keepAlive: true,
    ...(trustPem ? { ca: [...tls.rootCertificates, trustPem] } : {}),
  });
}

/** A plain GET through the same trust and adapter (ARI renewalInfo, directory reachability). */
export async function acmeGet(url: string): Promise<{ status: number; headers: Record<string, unknown>; data: unknown }> {
  install();
  const resp = await acme.axios.get(url, { validateStatus: () => true, responseType: 'json' });
  return { status: resp.status, headers: resp.headers as Record<string, unknown>, data: resp.data as unknown };
}
