// When to renew and when to retry (README "Automatic HTTPS (ACME)"). Pure functions of times, so the
// proxy's timers, `gatehouse renew` and `gatehouse certs` agree, and unit tests need no clock.
import { renewalTime } from '../renewal.js';

const SECOND = 1000;
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
 * The wait before the next attempt after `failures` failures in a row. With a certificate still serving,
 * the fixed steps are capped at a quarter of the time it has left, so a short-lived certificate gets
 * several attempts before notAfter (a 90-second one failing at half-life: 11 s, 8 s, 6 s, 5 s…) instead of
 * expiring after one. The cap never goes below `retryFloor`, which also paces attempts once the
 * certificate has expired. For a 90-day certificate nothing changes before its last day (a quarter of
 * 30 days is more than the 6 h step). The CA's Retry-After (RFC 8555 §6.6) always wins.
 */
export function retryDelay(failures: number, now: number, serving?: Validity, retryAfterMs = 0): number {
  let delay = backoffDelay(failures);
  if (serving) {
    const left = serving.notAfter.getTime() - now;
    delay = Math.min(delay, Math.max(retryFloor(serving), left / 4));
  }
  return Math.round(Math.max(delay, retryAfterMs));
}

/** A twentieth of the lifetime, from 5 s (test CAs' minutes-long certificates) to 10 minutes (the 2nd step). */
export function retryFloor(cert: Validity): number {
  const lifetime = cert.notAfter.getTime() - cert.notBefore.getTime();
  return Math.min(10 * MINUTE, Math.max(5 * SECOND, lifetime / 20));
}

/**
 * The most a process moves its own timer off the due time (record.ts says which way): 1% of the lifetime,
 * at most 2 minutes. pm2 workers (or instances) sharing a storage then wake one after the other instead of
 * all queueing on the storage lock at once; the lock and the look-again under it (obtain.ts) are what
 * make only one order.
 */
export function maxJitter(cert: Validity): number {
  const lifetime = cert.notAfter.getTime() - cert.notBefore.getTime();
  return Math.min(2 * MINUTE, Math.max(0, lifetime / 100));
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

/**
 * When the next attempt is: after a recorded failure, its `nextAttempt` — even before the due time, since
 * a failure means someone wanted a new certificate (a `renew --force` from cron with the CA down is retried
 * by the proxy); otherwise the due time, but not before a back-off still running.
 */
export function attemptTime(due: number, failing: boolean, nextAttempt: number): number {
  return failing ? nextAttempt : Math.max(due, nextAttempt);
}
