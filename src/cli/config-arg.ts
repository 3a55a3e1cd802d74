// `-c FILE` for commands that only read the config: print its problems like `check` and exit 2.
import { loadConfig, resolveConfigPath } from '../config/index.js';
import { ConfigError, formatIssue, type Config } from '../config/types.js';
import { EXIT_USAGE } from './usage.js';

export async function loadConfigOrExit(flag: string | undefined): Promise<Config | number> {
  const file = resolveConfigPath(flag, process.env, process.cwd());
  try {
    return (await loadConfig(file)).config;
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) if (issue.severity === 'error') process.stderr.write(`${formatIssue(issue)}\n`);
    } else {
      process.stderr.write(`${file}: ${(err as Error).message}\n`);
    }
    return EXIT_USAGE;
  }
}
