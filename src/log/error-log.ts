// The error log (SPEC §6): winston, one line per event, to stderr, stdout or a file.
import winston from 'winston';
import type { LogConfig, LogTarget } from '../config/types.js';
import type { Logger } from './types.js';

function transportFor(target: LogTarget): winston.transport | undefined {
  if (target === 'off') return undefined;
  if (target === 'stdout') return new winston.transports.Console();
  if (target === 'stderr') {
    return new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] });
  }
  return new winston.transports.File({ filename: target.file });
}

export function createErrorLogger(log: Pick<LogConfig, 'error' | 'level'>): Logger & { close(): void } {
  const transport = transportFor(log.error);
  const logger = winston.createLogger({
    level: log.level,
    silent: transport === undefined,
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.printf(({ timestamp, level, message, ...meta }) => {
        const extra = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
        return `${String(timestamp)} [${level}] ${String(message)}${extra}`;
      }),
    ),
    transports: transport ? [transport] : [new winston.transports.Console({ silent: true })],
  });
  return {
    error: (m, meta) => logger.error(m, meta),
    warn: (m, meta) => logger.warn(m, meta),
    info: (m, meta) => logger.info(m, meta),
    debug: (m, meta) => logger.debug(m, meta),
    close: () => logger.close(),
  };
}
