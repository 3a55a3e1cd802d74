// ACME Renewal Information (RFC 9773), done by hand: acme-client has no ARI. The renewalInfo resource is
// a plain GET of `<renewalInfo>/<CertID>` (§4.1); the answer is a suggested window, and the client renews
// at a uniformly random time inside it (§4.2), polling again after the Retry-After it got (§4.3).
import type { AriState } from './cert-store.js';
import { ariCertId } from './der.js';
import { acmeGet, withAcmeScope } from './http.js';

const HOUR = 3600_000;
/** §4.3: without Retry-After, poll again in a few hours; a broken answer is retried in an hour. */
const DEFAULT_RETRY_MS = 6 * HOUR;
const ERROR_RETRY_MS = HOUR;
const MAX_RETRY_MS = 24 * HOUR;
const MIN_RETRY_MS = 1000;

export { ariCertId };

export interface AriFetch {
  /** The base URL from the directory. */
  baseUrl: string;
  certId: string;
  previous?: AriState;
  now: number;
  random?: () => number;
  signal?: AbortSignal;
}

export function renewalInfoUrl(baseUrl: string, certId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${certId}`;
}

/** Fetches the window when it is time to; returns the previous state (or undefined) on any failure. */
export async function refreshAri(f: AriFetch): Promise<AriState | undefined> {
  const prev = f.previous?.certId === f.certId ? f.previous : undefined;
  if (prev && f.now < Date.parse(prev.nextFetch)) return prev;
  try {
    const r = await withAcmeScope({ signal: f.signal }, () => acmeGet(renewalInfoUrl(f.baseUrl, f.certId)));
    const window = (r.data as { suggestedWindow?: { start?: string; end?: string }; explanationURL?: string } | undefined)?.suggestedWindow;
    const start = Date.parse(window?.start ?? '');
    const end = Date.parse(window?.end ?? '');
    if (r.status !== 200 || !Number.isFinite(start) || !Number.isFinite(end) || end < start) throw new Error(`renewalInfo answered ${r.status}`);
    const sameWindow = prev && Date.parse(prev.start) === start && Date.parse(prev.end) === end;
    const chosen = sameWindow ? Date.parse(prev.chosen) : start + (f.random ?? Math.random)() * (end - start);
    const state: AriState = {
      certId: f.certId,
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      chosen: new Date(chosen).toISOString(),
      nextFetch: new Date(f.now + retryAfterMs(r.headers['retry-after'], f.now)).toISOString(),
    };
    const explanation = (r.data as { explanationURL?: unknown }).explanationURL;
    if (typeof explanation === 'string') state.explanationURL = explanation;
    return state;
  } catch {
    return prev ? { ...prev, nextFetch: new Date(f.now + ERROR_RETRY_MS).toISOString() } : undefined;
  }
}

function retryAfterMs(header: unknown, now: number): number {
  if (header === undefined || header === null) return DEFAULT_RETRY_MS;
  const text = String(header).trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (!Number.isFinite(ms)) return DEFAULT_RETRY_MS;
  return Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, ms));
}
