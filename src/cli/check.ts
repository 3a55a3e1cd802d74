// `gatehouse check`: validate like `nginx -t`; every problem as FILE:LINE:COL: message.
import { loadConfig, resolveConfigPath } from '../config/index.js';
import { ConfigError, formatIssue } from '../config/types.js';
import { applyNginxFlags, NGINX_FLAGS } from './nginx-flags.js';
import { EXIT_OK, EXIT_USAGE, parseCommandArgs } from './usage.js';

export async function runCheck(args: string[]): Promise<number> {
  const opts = parseCommandArgs(args, { config: { type: 'string', short: 'c' }, ...NGINX_FLAGS });
  applyNginxFlags(opts);
  const file = resolveConfigPath(opts.config, process.env, process.cwd());
  try {
    const { config, warnings } = await loadConfig(file);
    for (const w of warnings) process.stderr.write(`${formatIssue(w)}\n`);
    // Imported on use: it brings node-forge, which is a third of what a check of any other config costs.
    if (config.sites.some((s) => s.tls.kind === 'internal')) {
      const { internalCaNotes } = await import('../tls/internal-ca-check.js');
      for (const note of await internalCaNotes(config)) process.stderr.write(`${file}: warning: ${note}\n`);
    }
    process.stdout.write(`gatehouse: the configuration file ${file} syntax is ok\n`);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      const errors = err.issues.filter((i) => i.severity === 'error').length;
      process.stderr.write(`gatehouse: configuration file ${file} test failed (${errors} error${errors === 1 ? '' : 's'})\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`${file}:1:1: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
}
