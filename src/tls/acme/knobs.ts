// Timing knobs read from the environment, in this one place. Renewals do not depend on them: each
// certificate has its own timer (record.ts) and the storages announce changes, so the two intervals below
// are only safety nets. The defaults are what production should run with, and what the tests that prove
// renewal timing and storage notification run with.
import { parseDuration } from '../../config/units.js';

export interface AcmeKnobs {
  /** How often the safety-net check looks at every managed certificate (GATEHOUSE_RENEW_CHECK_INTERVAL, default 10m). */
  checkIntervalMs: number;
  /**
   * How often a running proxy looks in the storage for what another process (`gatehouse renew`, another
   * instance) stored, in case a change announcement was missed (GATEHOUSE_STORAGE_SYNC_INTERVAL, default
   * min(1 minute, the check interval)).
   */
  syncIntervalMs: number;
  /** First wait while polling an order or challenge (GATEHOUSE_ACME_POLL, default 250ms; doubles up to 5 s). */
  pollMinMs: number;
}

function duration(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  try {
    const ms = parseDuration(raw);
    if (ms > 0) return ms;
  } catch {
    // fall through: a bad knob must not stop the proxy
  }
  process.emitWarning(`${name}=${raw} is not a positive duration; using the default`);
  return fallback;
}

export function readKnobs(env: NodeJS.ProcessEnv = process.env): AcmeKnobs {
  const checkIntervalMs = duration(env, 'GATEHOUSE_RENEW_CHECK_INTERVAL', 10 * 60_000);
  return {
    checkIntervalMs,
    syncIntervalMs: duration(env, 'GATEHOUSE_STORAGE_SYNC_INTERVAL', Math.min(60_000, checkIntervalMs)),
    pollMinMs: duration(env, 'GATEHOUSE_ACME_POLL', 250),
  };
}
