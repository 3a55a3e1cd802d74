// `upstreams:`: named groups of servers with balancing, health and timeouts. The defaults follow
// nginx's upstream module (max_fails=1, fail_timeout=10s, weight=1) where it has one.
import type { Ctx } from './context.js';
import type { RawServer, RawUpstream } from './schema.js';
import type { Path } from './source.js';
import type { UpstreamConfig, UpstreamServerConfig } from './types.js';
import { parseDuration } from './units.js';

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, h2c: 80, h2: 443 };

/**
 * `scheme://host[:port]`, normalised to always carry the port. Throws with a config-ready message.
 * FastCGI, uwsgi and SCGI addresses go straight into a route's `proxy:`; they are not balanced.
 */
export function parseServerUrl(text: string): string {
  const m = /^([a-z0-9+]+):\/\/([^/?#]*)(.*)$/i.exec(text.trim());
  if (!m) throw new Error(`upstream server "${text}" must be a URL like http://127.0.0.1:8080`);
  const scheme = (m[1] ?? '').toLowerCase();
  const port = DEFAULT_PORTS[scheme];
  if (port === undefined) throw new Error(`upstream server "${text}" must use http://, https://, h2c:// or h2://`);
  if ((m[3] ?? '') !== '' && m[3] !== '/') {
    throw new Error(`upstream server "${text}" cannot have a path; put it in the route's proxy (http://NAME/path/)`);
  }
  const hp = /^(\[[0-9a-f:.]+\]|[^:[\]@\s]+)(?::(\d{1,5}))?$/i.exec(m[2] ?? '');
  if (!hp) throw new Error(`upstream server "${text}" needs a host (and optionally a port)`);
  const p = hp[2] !== undefined ? Number(hp[2]) : port;
  if (p < 1 || p > 65535) throw new Error(`upstream server "${text}" has port ${p} out of range`);
  return `${scheme}://${(hp[1] ?? '').toLowerCase()}:${p}`;
}

export function upstreamsConfig(ctx: Ctx, raw: Record<string, RawUpstream> | undefined): Record<string, UpstreamConfig> {
  const out: Record<string, UpstreamConfig> = {};
  if (raw === undefined || !ctx.shaped(['upstreams'])) return out;
  for (const [name, ru] of Object.entries(raw)) {
    const at: Path = ['upstreams', name];
    // A name is used bare (`proxy: app`) and as a URL host (`http://app/v2/`), so it must be both.
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) {
      ctx.error(at, `upstream name "${name}" may only contain letters, digits, ".", "_" and "-"`, 'key');
    }
    if (!ctx.shaped(at)) continue;
    out[name] = upstreamConfig(ctx, at, name, ru);
  }
  return out;
}

function upstreamConfig(ctx: Ctx, at: Path, name: string, ru: RawUpstream): UpstreamConfig {
  const ms = (p: Path, value: string | number | undefined, fallback: number): number =>
    value !== undefined && ctx.clean(p) ? parseDuration(value) : fallback;
  const int = (key: 'maxFails' | 'retries' | 'keepalive', fallback: number): number =>
    ru[key] !== undefined && ctx.clean([...at, key]) ? (ru[key] as number) : fallback;
  const t = ctx.shaped([...at, 'timeouts']) ? (ru.timeouts ?? {}) : {};
  const up: UpstreamConfig = {
    name,
    servers: servers(ctx, [...at, 'servers'], ru.servers),
    balance: ru.balance !== undefined && ctx.clean([...at, 'balance']) ? ru.balance : 'round-robin',
    maxFails: int('maxFails', 1),
    failTimeoutMs: ms([...at, 'failTimeout'], ru.failTimeout, 10_000),
    retries: int('retries', 1),
    timeouts: {
      connectMs: ms([...at, 'timeouts', 'connect'], t.connect, 5_000),
      readMs: ms([...at, 'timeouts', 'read'], t.read, 60_000),
      sendMs: ms([...at, 'timeouts', 'send'], t.send, 60_000),
    },
    keepalive: int('keepalive', 32),
    pos: ctx.pos(at, 'key'),
  };
  if (ru.health !== undefined && ctx.shaped([...at, 'health'])) {
    const h = ru.health;
    const hat = [...at, 'health'];
    up.health = {
      path: h.path !== undefined && ctx.clean([...hat, 'path']) ? h.path : '/',
      intervalMs: ms([...hat, 'interval'], h.interval, 5_000),
      timeoutMs: ms([...hat, 'timeout'], h.timeout, 2_000),
      status: h.status !== undefined && ctx.clean([...hat, 'status']) ? h.status : 200,
    };
  }
  if (ru.tls !== undefined && ctx.shaped([...at, 'tls'])) {
    const tls = ru.tls;
    up.tls = { insecure: tls.insecure === true };
    if (tls.ca !== undefined && ctx.clean([...at, 'tls', 'ca'])) up.tls.ca = ctx.resolve(tls.ca);
    if (tls.servername !== undefined) up.tls.servername = tls.servername;
  }
  if (up.servers.length > 0 && up.servers.every((s) => s.backup)) {
    ctx.error([...at, 'servers'], `every server of upstream "${name}" is a backup; at least one must be a primary`);
  }
  return up;
}

function servers(ctx: Ctx, at: Path, raw: RawServer | RawServer[]): UpstreamServerConfig[] {
  if (raw === undefined || !ctx.shaped(at)) return [];
  const items = Array.isArray(raw) ? raw.map((s, i) => ({ s, at: [...at, i] })) : [{ s: raw, at }];
  const out: UpstreamServerConfig[] = [];
  for (const { s, at: sat } of items) {
    if (!ctx.shaped(sat)) continue;
    const text = typeof s === 'string' ? s : s.url;
    const urlAt = typeof s === 'string' ? sat : [...sat, 'url'];
    if (!ctx.clean(urlAt)) continue;
    const url = ctx.attempt(urlAt, () => parseServerUrl(text));
    if (url === undefined) continue;
    const weight = typeof s === 'object' && s.weight !== undefined && ctx.clean([...sat, 'weight']) ? s.weight : 1;
    const backup = typeof s === 'object' && s.backup === true;
    out.push({ url, weight, backup });
  }
  return out;
}
