// `gatehouse run`: start in the foreground, tell pm2 `ready`, drain on SIGTERM/SIGINT/SIGQUIT,
// reload on SIGHUP.
import { App } from '../app.js';
import { loadConfig, resolveConfigPath } from '../config/index.js';
import { ConfigError, formatIssue, type Config } from '../config/types.js';
import { applyNginxFlags, NGINX_FLAGS } from './nginx-flags.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, parseCommandArgs } from './usage.js';
import { describeError } from '../log/describe-error.js';
import { tuneV8ForServing } from './v8-tuning.js';

export async function runServe(args: string[]): Promise<number | undefined> {
  const opts = parseCommandArgs(args, { config: { type: 'string', short: 'c' }, ...NGINX_FLAGS });
  applyNginxFlags(opts);
  const file = resolveConfigPath(opts.config, process.env, process.cwd());
  let config: Config;
  try {
    const loaded = await loadConfig(file);
    for (const w of loaded.warnings) process.stderr.write(`${formatIssue(w)}\n`);
    config = loaded.config;
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`${file}: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  if (config.sites.length === 0) {
    process.stderr.write(`${file}: nothing to serve: the config has no sites\n`);
    return EXIT_USAGE;
  }
  return serve(config);
}

/** Runs until a stop signal; shared by `run` and `proxy`. */
export async function serve(config: Config): Promise<number | undefined> {
  tuneV8ForServing();
  let app: App;
  try {
    app = await App.start(config);
  } catch (err) {
    process.stderr.write(`gatehouse: cannot start: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  }
  process.on('uncaughtException', (err) => {
    // Last line of defence: log and keep serving; a request-level bug must not stop the proxy.
    app.logger.error(`uncaught exception: ${describeError(err)}`);
  });
  process.on('unhandledRejection', (err) => {
    app.logger.error(`unhandled rejection: ${describeError(err)}`);
  });
  process.send?.('ready');
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      app.logger.info(`${signal}: draining (up to ${app.config.drainTimeoutMs} ms)`);
      void app.stop().then(() => {
        // An IPC channel (pm2, tests) keeps the event loop alive; the drain is over, so let go.
        if (process.connected) process.disconnect();
        resolve(EXIT_OK);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGQUIT', () => stop('SIGQUIT'));
    // pm2 sends 'shutdown' over IPC on Windows and when shutdown_with_message is set.
    process.on('message', (msg) => {
      if (msg === 'shutdown') stop('shutdown');
    });
    // nginx's USR1: reopen the log files (logrotate's postrotate). A listener also keeps Node from
    // starting its inspector on this signal.
    process.on('SIGUSR1', () => {
      app.logger.info('SIGUSR1: reopening the access log files');
      app.reopenLogs();
    });
    process.on('SIGHUP', () => {
      app.logger.info('SIGHUP: reloading configuration');
      void app.reload();
    });
  });
}
