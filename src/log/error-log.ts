// The error log (README "Operations"): winston, one line per event, to stderr, stdout or a file.
import winston from 'winston';
import type { LogConfig, LogTarget } from '../config/types.js';
import type { Logger } from './types.js';

function transportFor(target: LogTarget): winston.transport | undefined {
  if (target === 'off') return undefined;
  if (target === 'stdout') return new winston.transports.Console();
  if (target === 'stderr') {
    return new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] });
  }
  // Created 0600: error lines carry upstream addresses, paths and backend stderr (the access log,
  // which operators' tools read, is 0640). An existing file keeps its mode, as with nginx.
  return new winston.transports.File({ filename: target.file, options: { flags: 'a', mode: 0o600 } });
}

/**
 * Call sites pass the request target as `uri` (nginx's error log shows `request: "GET /x?a=b"`), but a
 * query string may hold tokens or keys; the path is enough to find the request. The caller's object
 * is not touched: winston hands formats a copy.
 */
const withoutQuery = winston.format((info) => {
  const uri = info.uri;
  if (typeof uri === 'string') {
    const cut = uri.search(/[?#]/);
    if (cut >= 0) info.uri = uri.slice(0, cut);
  }
  return info;
});

/**
 * When the reader of stdout/stderr goes away (a parent that died, a pm2 daemon killed), every write
 * fails with EPIPE. Unhandled, that error reaches the uncaughtException handler, which logs it to the
 * same dead stream, which fails again: a busy loop at 100% CPU. A broken stream is therefore muted
 * once, and the proxy keeps serving (nginx likewise keeps running when its log target fails).
 */
const brokenStdio = new Set<NodeJS.WriteStream>();
const muteHooks = new Map<NodeJS.WriteStream, Set<() => void>>();
let stdioGuarded = false;
function onStdioBroken(stream: NodeJS.WriteStream, mute: () => void): () => void {
  if (!stdioGuarded) {
    stdioGuarded = true;
    for (const s of [process.stdout, process.stderr]) {
      s.on('error', () => {
        if (brokenStdio.has(s)) return;
        brokenStdio.add(s);
        for (const hook of muteHooks.get(s) ?? []) hook();
      });
    }
  }
  if (brokenStdio.has(stream)) mute();
  let hooks = muteHooks.get(stream);
  if (!hooks) muteHooks.set(stream, (hooks = new Set()));
  hooks.add(mute);
  return () => hooks.delete(mute);
}

export function createErrorLogger(log: Pick<LogConfig, 'error' | 'level'>): Logger & { close(): void } {
  const transport = transportFor(log.error);
  const logger = winston.createLogger({
    level: log.level,
    silent: transport === undefined,
    format: winston.format.combine(
      withoutQuery(),
      winston.format.timestamp(),
      winston.format.printf(({ timestamp, level, message, ...meta }) => {
        const extra = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
        return `${String(timestamp)} [${level}] ${String(message)}${extra}`;
      }),
    ),
    transports: transport ? [transport] : [new winston.transports.Console({ silent: true })],
  });
  const unhook =
    log.error === 'stdout' || log.error === 'stderr'
      ? onStdioBroken(log.error === 'stdout' ? process.stdout : process.stderr, () => {
          logger.silent = true;
        })
      : undefined;
  return {
    error: (m, meta) => logger.error(m, meta),
    warn: (m, meta) => logger.warn(m, meta),
    info: (m, meta) => logger.info(m, meta),
    debug: (m, meta) => logger.debug(m, meta),
    close: () => {
      unhook?.();
      logger.close();
    },
  };
}
