// When to renew and when to retry (README "Automatic HTTPS (ACME)"). Pure functions of times, so the loop and `gatehouse certs`
// agree, and unit tests need no clock.
import { renewalTime } from '../renewal.js';

const MINUTE = 60_000;
/** Retry delays after the 1st, 2nd, 3rd failure; every later one waits MAX_BACKOFF_MS. */
const BACKOFF_MS = [MINUTE, 10 * MINUTE, 100 * MINUTE];
export const MAX_BACKOFF_MS = 6 * 60 * MINUTE;

export function backoffDelay(failures: number): number {
  if (failures <= 0) return 0;
  return BACKOFF_MS[failures - 1] ?? MAX_BACKOFF_MS;
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/**
 * The local rule: `renewBefore` when configured (at most half the lifetime, so a value longer than the
 * certificate's life cannot make it renew forever), else a third of the lifetime left, or half for
 * certificates under 10 days.
 */
export function ruleTime(cert: Validity, renewBeforeMs?: number): number {
  const lifetime = cert.notAfter.getTime() - cert.notBefore.getTime();
  if (renewBeforeMs !== undefined) return cert.notAfter.getTime() - Math.min(renewBeforeMs, lifetime / 2);
  return renewalTime(cert.notBefore, cert.notAfter).getTime();
}

/**
 * When a certificate is due. With an ARI window (RFC 9773 §4.2), the time chosen inside it — but never
 * later than half-way between the local rule and expiry, so a CA that suggests a late window (or a stale
 * one) cannot leave a certificate unrenewed near its end.
 */
export function dueTime(cert: Validity, renewBeforeMs: number | undefined, ariChosen?: number): number {
  const rule = ruleTime(cert, renewBeforeMs);
  if (ariChosen === undefined) return rule;
  const latest = rule + (cert.notAfter.getTime() - rule) / 2;
  return Math.min(ariChosen, latest);
}
