// One log line per change of a certificate's state (valid → failing → expired → valid), not one per
// attempt: with a CA down for a day, short back-off steps would otherwise fill the error log with the
// same line. Repeated failures go to the debug level; `gatehouse certs` and /status always have the last
// error and the next attempt.
import type { Logger } from '../../log/types.js';
import { attemptAt, healthOf, type Managed } from './record.js';

/** Where the outcome that is being looked at came from. */
export type Origin = 'here' | 'elsewhere';

export function noteHealth(m: Managed, now: number, logger: Logger, origin: Origin): void {
  const next = healthOf(m, now);
  const before = m.health;
  const names = m.names.join(', ');
  const err = m.state?.lastError;
  const nextAttempt = m.state?.nextAttempt ?? undefined;
  if (next === before) {
    if (next === 'failing' && origin === 'here' && err) logger.debug(`ACME: attempt ${m.state!.failures} for ${names} failed too: ${err.detail}`, { nextAttempt });
    return;
  }
  m.health = next;
  const serving = m.entry ? { serving: `the current certificate (expires ${m.entry.notAfter.toISOString()})` } : {};
  switch (next) {
    case 'failing': {
      const what = origin === 'here' ? `could not ${m.entry ? 'renew' : 'obtain'} a certificate for ${names}` : `another process could not ${m.entry ? 'renew' : 'obtain'} the certificate for ${names}`;
      logger.error(`${what}: ${err!.challenge ? `${err!.challenge}: ` : ''}${err!.detail}`, { challenge: err!.challenge, ...(err!.ca ? { ca: err!.ca } : {}), fix: err!.hint, nextAttempt, ...serving });
      return;
    }
    case 'expired':
      logger.error(`the certificate for ${names} expired at ${m.entry!.notAfter.toISOString()}; it keeps serving until a renewal succeeds`, {
        ...(err ? { failures: m.state!.failures, lastError: err.detail } : {}),
        nextAttempt: new Date(Math.max(now, attemptAt(m))).toISOString(),
      });
      return;
    case 'valid':
      if (before === 'failing' || before === 'expired') logger.info(`renewing the certificate for ${names} works again`, { serial: m.entry!.serial, notAfter: m.entry!.notAfter.toISOString() });
      return;
    case 'pending':
      return;
  }
}
