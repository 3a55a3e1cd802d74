// issue 18: the flags `run`, `check` and `adapt` take for nginx-syntax configs (docs/nginx.md).
import path from 'node:path';
import { setNginxOptions } from '../config/load.js';
import type { NginxReadOptions } from '../config/nginx/adapt/reader.js';

export const NGINX_FLAGS = {
  prefix: { type: 'string', short: 'p' },
  strict: { type: 'boolean' },
  'allow-missing-includes': { type: 'boolean' },
} as const;

export function nginxOptions(opts: { prefix?: string | undefined; strict?: boolean | undefined; 'allow-missing-includes'?: boolean | undefined }): NginxReadOptions {
  const out: NginxReadOptions = {};
  if (opts.prefix !== undefined) out.prefix = path.resolve(opts.prefix);
  if (opts.strict) out.strict = true;
  if (opts['allow-missing-includes']) out.allowMissingIncludes = true;
  return out;
}

/** Sets the options a .conf is read with, now and on every reload. */
export function applyNginxFlags(opts: Parameters<typeof nginxOptions>[0]): void {
  setNginxOptions(nginxOptions(opts));
}
