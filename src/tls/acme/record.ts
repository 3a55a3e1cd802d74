// What the proxy keeps per managed certificate, and the times derived from it. Each record has its own
// timer (timer.ts) set for the earliest of: the next attempt (schedule.ts: due time or back-off, give or
// take a little jitter), the next ARI poll, and notAfter (so the change to `expired` is noticed and logged).
import type { LoadedCertEntry } from '../cert-entry.js';
import type { NameState } from './cert-store.js';
import { attemptTime } from './schedule.js';
import type { AtTimer } from './timer.js';

/** What `gatehouse certs` would say, as this process last logged it (health.ts). */
export type Health = 'pending' | 'valid' | 'failing' | 'expired';

export interface Managed {
  names: string[];
  onDemand: boolean;
  entry?: LoadedCertEntry;
  /** The served chain as stored, to notice a change in the storage by comparing text. */
  pem?: string;
  /** ARI CertID of `entry`, computed when first needed. */
  certId?: string;
  /** ms since epoch; Infinity while there is no certificate. */
  due: number;
  /** `due` comes from the local rule (not from an ARI window's chosen moment). */
  dueByRule?: boolean;
  /** Not before this time (back-off after a failure, here or recorded by another process). */
  nextAttempt: number;
  state?: NameState;
  ariNextFetch: number;
  busy?: Promise<void>;
  /**
   * The last attempt failed in the storage, not at the CA (nothing could be recorded): logged once.
   * `unavailable` (Redis away) is retried as soon as the storage announces it is back.
   */
  storageFailed?: 'unavailable' | 'error';
  /** The storage changed while busy: read this record again when the work is done. */
  stale?: boolean;
  /** This process's spread around the due time (schedule.ts maxJitter), drawn per certificate. */
  jitter: number;
  timer: AtTimer;
  health?: Health;
}

export function healthOf(m: Managed, now: number): Health {
  if (!m.entry) return m.state?.lastError ? 'failing' : 'pending';
  if (now >= m.entry.notAfter.getTime()) return 'expired';
  return m.state?.lastError ? 'failing' : 'valid';
}

/** When the next order (or look in the storage under the lock) should start; Infinity for never by timer. */
export function attemptAt(m: Managed): number {
  // An on-demand name without a certificate is tried again by its next handshake, not by a timer.
  if (!m.entry) return m.onDemand ? Infinity : m.nextAttempt;
  // The jitter moves the local rule's due time earlier (so the certificate is still ordered before half
  // its life), and an ARI moment or a back-off later (the CA's window and a recorded next attempt are not
  // to be anticipated: the look under the lock would only find the back-off still running).
  const due = m.dueByRule ? m.due - m.jitter : m.due + m.jitter;
  return attemptTime(due, Boolean(m.state?.lastError), m.nextAttempt && m.nextAttempt + m.jitter);
}

export function wakeAt(m: Managed, now: number, ari: boolean): number {
  let at = attemptAt(m);
  if (m.entry) {
    if (ari) at = Math.min(at, m.ariNextFetch);
    const end = m.entry.notAfter.getTime();
    if (now < end) at = Math.min(at, end);
  }
  return at;
}

/** Two states describe the same attempt (the ARI window aside, which each process polls itself). */
export function sameOutcome(a: NameState | undefined, b: NameState | undefined): boolean {
  return (a?.failures ?? 0) === (b?.failures ?? 0) && (a?.lastError?.at ?? null) === (b?.lastError?.at ?? null) && (a?.nextAttempt ?? null) === (b?.nextAttempt ?? null);
}
