// `gatehouse renew [-c FILE] [--force] [--dry-run] [--name NAME]` (README "Commands"): one renewal pass, for cron.
// Quiet unless something happened; exit 0 when nothing failed, 1 when a renewal failed (the old
// certificate keeps serving), 2 on usage or config errors.
import type { Logger } from '../log/types.js';
import { openStorage } from '../storage/index.js';
import { renewPass, UnknownNameError } from '../tls/acme/renew-pass.js';
import { loadConfigOrExit } from './config-arg.js';
import { EXIT_FAILED, EXIT_OK, parseCommandArgs, UsageError } from './usage.js';

export async function runRenew(args: string[]): Promise<number> {
  const opts = parseCommandArgs(args, {
    config: { type: 'string', short: 'c' },
    force: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    name: { type: 'string' },
  });
  const config = await loadConfigOrExit(opts.config);
  if (typeof config === 'number') return config;
  // Warnings (one challenge failed, another is tried) go to stderr; routine info stays quiet for cron.
  const logger: Logger = {
    error: (m) => process.stderr.write(`gatehouse renew: ${m}\n`),
    warn: (m, meta) => process.stderr.write(`gatehouse renew: ${m}${meta?.detail ? `: ${String(meta.detail)}` : ''}\n`),
    info: () => undefined,
    debug: () => undefined,
  };
  const storage = openStorage(config.storage);
  try {
    const ok = await renewPass({
      config,
      storage,
      force: opts.force ?? false,
      dryRun: opts['dry-run'] ?? false,
      ...(opts.name ? { name: opts.name } : {}),
      logger,
      say: (line) => process.stdout.write(`${line}\n`),
      warn: (line) => process.stderr.write(`${line}\n`),
    });
    return ok ? EXIT_OK : EXIT_FAILED;
  } catch (err) {
    if (err instanceof UnknownNameError) throw new UsageError(err.message);
    process.stderr.write(`gatehouse renew: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  } finally {
    await storage.close();
  }
}
