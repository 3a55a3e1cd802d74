// One attempt of the proxy for one record: order (or take what another process stored meanwhile) and
// keep the outcome on the record. What is logged about failures is decided by health.ts once the
// record is settled, so a CA that stays down gives one line, not one per attempt.
import type { Logger } from '../../log/types.js';
import type { AcmeCertStore, NameState, StoredPair } from './cert-store.js';
import { ObtainError, type Obtainer } from './obtain.js';
import type { OnDemandGate } from './on-demand.js';
import type { Managed } from './record.js';
import { retryDelay } from './schedule.js';

const ORDER_DEADLINE_MS = 5 * 60_000;

export interface AttemptContext {
  obtainer: Obtainer;
  store: AcmeCertStore;
  gate: OnDemandGate | undefined;
  logger: Logger;
  now(): number;
  /** Aborts when the manager closes. */
  closing: AbortSignal;
  install(m: Managed, pair: StoredPair, state: NameState | undefined): boolean;
  drop(m: Managed): void;
}

export async function attempt(c: AttemptContext, m: Managed, why: 'obtain' | 'renew'): Promise<void> {
  if (c.closing.aborted) return;
  const signal = AbortSignal.any([c.closing, AbortSignal.timeout(ORDER_DEADLINE_MS)]);
  const current = m.entry;
  // An on-demand certificate is renewed only while `ask` still allows its name (or on-demand is off).
  if (m.onDemand && current && !(await c.gate?.allowed(m.names[0]!, 'renewal'))) {
    c.drop(m);
    c.logger.info('on-demand TLS: not renewing a certificate whose name ask no longer allows', { name: m.names[0], expires: current.notAfter.toISOString() });
    return;
  }
  try {
    const r = await c.obtainer.obtain(m.names, {
      ...(current ? { replacing: current.fingerprint256 } : {}),
      respectBackoff: why === 'renew',
      useAri: true,
      onDemand: m.onDemand,
      signal,
    });
    m.storageFailed = undefined;
    if (r.kind === 'backoff') {
      // Another process's failure is backing off (it recorded when to try again).
      m.state = r.state;
      m.nextAttempt = Date.parse(r.state.nextAttempt ?? '') || c.now() + 60_000;
      return;
    }
    const failures = m.state?.failures ?? 0;
    const state = r.kind === 'issued' ? { names: m.names, failures: 0, lastError: null, nextAttempt: null } : await c.store.loadState(m.names[0]!);
    c.install(m, r.pair, state);
    if (r.kind === 'issued') {
      c.logger.info(current ? 'certificate renewed' : 'certificate obtained', {
        names: m.names,
        serial: m.entry?.serial,
        notAfter: m.entry?.notAfter.toISOString(),
        challenge: r.pair.meta.challenge,
        ca: r.pair.meta.directory,
        ms: r.ms,
        ...(failures > 0 ? { afterFailures: failures } : {}),
      });
    }
  } catch (err) {
    if (c.closing.aborted) return;
    if (err instanceof ObtainError) {
      m.state = err.state;
      m.nextAttempt = Date.parse(err.state.nextAttempt ?? '') || c.now() + 60_000;
      return;
    }
    // The storage failed (Redis away, a full disk): nothing could be recorded; one line per episode.
    const now = c.now();
    if (!m.storageFailed) c.logger.error(`ACME: ${why} for ${m.names.join(', ')} failed: ${(err as Error).message}`);
    m.storageFailed = (err as { code?: string }).code === 'ESTORAGE_UNAVAILABLE' ? 'unavailable' : 'error';
    m.nextAttempt = now + retryDelay(1, now, m.entry);
  }
}
