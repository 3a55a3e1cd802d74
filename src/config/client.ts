// What gatehouse allows a client, with nginx's defaults (README "Security defaults"): the client
// timers (`timeouts:`), the request body limit (`maxBody`) and where bodies read whole are held
// (`bodyBuffer:`). Top-level values are the defaults; a site's `timeouts:` overrides them key by key.
import type { Ctx } from './context.js';
import type { RawConfig, RawTimeouts } from './schema.js';
import type { Path } from './source.js';
import type { BodyBufferConfig, ClientTimeouts } from './types.js';
import { parseDuration, parseSize } from './units.js';

/** client_header_timeout 60s, client_body_timeout 60s, send_timeout 60s, keepalive_timeout 75s. */
export const DEFAULT_CLIENT_TIMEOUTS: Readonly<ClientTimeouts> = Object.freeze({
  headerMs: 60_000,
  bodyMs: 60_000,
  sendMs: 60_000,
  keepaliveMs: 75_000,
});

/** nginx's client_max_body_size default. */
export const DEFAULT_MAX_BODY = 1024 * 1024;

/**
 * 16k is nginx's client_body_buffer_size on 64-bit platforms: a body read whole costs at most this
 * much memory per request, the rest goes to a temporary file.
 */
export const DEFAULT_BODY_BUFFER: Readonly<BodyBufferConfig> = Object.freeze({
  memoryBytes: 16 * 1024,
  tempMaxBytes: 1024 ** 3,
  tempTotalBytes: 4 * 1024 ** 3,
});

const TIMEOUT_KEYS = [
  ['header', 'headerMs'],
  ['body', 'bodyMs'],
  ['send', 'sendMs'],
  ['keepalive', 'keepaliveMs'],
] as const;

/** `timeouts:` at `at` over `base`; a zero timer would never fire, so it is refused. */
export function clientTimeouts(ctx: Ctx, at: Path, raw: RawTimeouts | undefined, base: Readonly<ClientTimeouts>): ClientTimeouts {
  const out: ClientTimeouts = { ...base };
  if (raw === undefined || !ctx.shaped(at)) return out;
  for (const [key, field] of TIMEOUT_KEYS) {
    const value = raw[key];
    if (value === undefined || !ctx.clean([...at, key])) continue;
    const ms = parseDuration(value);
    if (ms < 1000) {
      ctx.error([...at, key], `timeouts.${key} must be at least 1s (a client would have no time to send or read anything)`);
      continue;
    }
    out[field] = ms;
  }
  return out;
}

export function maxBody(ctx: Ctx, raw: RawConfig): number {
  return raw.maxBody !== undefined && ctx.clean(['maxBody']) ? parseSize(raw.maxBody) : DEFAULT_MAX_BODY;
}

export function bodyBuffer(ctx: Ctx, raw: RawConfig['bodyBuffer']): BodyBufferConfig {
  const out: BodyBufferConfig = { ...DEFAULT_BODY_BUFFER };
  const at: Path = ['bodyBuffer'];
  if (raw === undefined || !ctx.shaped(at)) return out;
  const size = (key: 'memory' | 'tempMax' | 'tempTotal'): number | undefined =>
    raw[key] !== undefined && ctx.clean([...at, key]) ? parseSize(raw[key] as string | number) : undefined;
  out.memoryBytes = size('memory') ?? out.memoryBytes;
  out.tempMaxBytes = size('tempMax') ?? out.tempMaxBytes;
  out.tempTotalBytes = size('tempTotal') ?? out.tempTotalBytes;
  if (raw.tempDir !== undefined && ctx.clean([...at, 'tempDir'])) out.tempDir = ctx.resolve(raw.tempDir);
  if (out.tempMaxBytes > out.tempTotalBytes) {
    ctx.error([...at, 'tempMax'], 'bodyBuffer.tempMax is larger than bodyBuffer.tempTotal; no body could use it all');
  }
  return out;
}

/** The body limit a route applies: its own, else its site's, else the top level; undefined for none (0). */
export function effectiveMaxBody(route: { maxBody?: number }, site: { maxBody?: number }, top: { maxBody: number }): number | undefined {
  const limit = route.maxBody ?? site.maxBody ?? top.maxBody;
  return limit === 0 ? undefined : limit;
}

/** A route's `tunnelIdle` unless it sets one: nginx's proxy_read_timeout default. */
export const DEFAULT_TUNNEL_IDLE_MS = 60_000;
