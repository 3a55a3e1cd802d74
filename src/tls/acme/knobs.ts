// Timing knobs read from the environment, in this one place. They exist for tests (Pebble answers in
// milliseconds; a test cannot wait 10 minutes for a renewal check) and for operators who want a different
// cadence. The defaults are what production should run with.
import { parseDuration } from '../../config/units.js';

export interface AcmeKnobs {
  /** How often the renewal loop looks at every managed certificate (GATEHOUSE_RENEW_CHECK_INTERVAL, default 10m). */
  checkIntervalMs: number;
  /**
   * How often a running proxy looks in the storage for certificates that another process (`gatehouse
   * renew`, another instance) stored (GATEHOUSE_STORAGE_SYNC_INTERVAL, default min(1 minute, the check
   * interval)). Redis storage also announces changes, so there this is only the fallback.
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
