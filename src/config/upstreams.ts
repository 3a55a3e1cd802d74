// `upstreams:`: named groups of servers with balancing, health and timeouts. The defaults follow
// nginx's upstream module (max_fails=1, fail_timeout=10s, weight=1) where it has one.
import type { Ctx } from './context.js';
import { allRoutes } from './nesting.js';
import type { RawRoute, RawServer, RawUpstream } from './schema.js';
import type { Path } from './source.js';
import type { UpstreamConfig, UpstreamServerConfig } from './types.js';
import { CGI_SCHEMES, parseServerUrl, serverScheme } from './upstream-url.js';
import { protocolRange } from './tls-policy.js';
import { parseDuration } from './units.js';

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
    // issue 19: a client certificate for backends that ask for one (nginx proxy_ssl_certificate/_key).
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      ctx.error([...at, 'tls', tls.cert === undefined ? 'key' : 'cert'], 'tls.cert and tls.key go together: the client certificate needs its key');
    } else if (tls.cert !== undefined && tls.key !== undefined && ctx.clean([...at, 'tls', 'cert']) && ctx.clean([...at, 'tls', 'key'])) {
      up.tls.cert = ctx.resolve(tls.cert);
      up.tls.key = ctx.resolve(tls.key);
    }
    if (tls.protocols !== undefined) {
      const range = protocolRange(ctx, [...at, 'tls', 'protocols'], tls.protocols);
      if (range) up.tls.protocols = range;
    }
  }
  if (up.servers.length > 0 && up.servers.every((s) => s.backup)) {
    ctx.error([...at, 'servers'], `every server of upstream "${name}" is a backup; at least one must be a primary`);
  }
  return up;
}

/**
 * A route's `proxy` names the upstream; the upstream's servers say which protocol it speaks. A URL
 * with an upstream's name as host (`fastcgi://php`) must use that protocol: `http://php` over
 * FastCGI servers would send HTTP to php-fpm. Errors at the route's `proxy` value.
 */
export function checkRouteUpstreamSchemes(ctx: Ctx, rawSites: unknown, upstreams: Record<string, UpstreamConfig>): void {
  if (!Array.isArray(rawSites)) return;
  rawSites.forEach((site: { routes?: RawRoute[] } | undefined, i) => {
    if (!site || !Array.isArray(site.routes)) return;
    for (const { route, at } of allRoutes(site.routes, ['sites', i])) {
      const proxy: unknown = route.proxy;
      if (typeof proxy !== 'string') continue;
      const m = /^([a-z0-9]+):\/\/([A-Za-z0-9_.-]+)(?:[/?#]|$)/i.exec(proxy.trim());
      const up = m ? upstreams[m[2] ?? ''] : undefined;
      const want = up ? upstreamScheme(up) : undefined;
      const have = (m?.[1] ?? '').toLowerCase();
      if (!up || want === undefined || want === have) continue;
      const cgi = CGI_SCHEMES.has(want) || CGI_SCHEMES.has(have);
      // http/https/h2c/h2 towards HTTP servers is the route's choice only when both are HTTP-style;
      // any pairing with a CGI protocol is a mismatch.
      if (!cgi) continue;
      ctx.error([...at, 'proxy'], `upstream "${up.name}" has ${want}:// servers; write proxy: ${up.name} or ${want}://${up.name}`);
    }
  });
}

function servers(ctx: Ctx, at: Path, raw: RawServer | RawServer[]): UpstreamServerConfig[] {
  if (raw === undefined || !ctx.shaped(at)) return [];
  const items = Array.isArray(raw) ? raw.map((s, i) => ({ s, at: [...at, i] })) : [{ s: raw, at }];
  const out: UpstreamServerConfig[] = [];
  let firstScheme: string | undefined;
  for (const { s, at: sat } of items) {
    if (!ctx.shaped(sat)) continue;
    const text = typeof s === 'string' ? s : s.url;
    const urlAt = typeof s === 'string' ? sat : [...sat, 'url'];
    if (!ctx.clean(urlAt)) continue;
    const url = ctx.attempt(urlAt, () => parseServerUrl(text));
    if (url === undefined) continue;
    const weight = typeof s === 'object' && s.weight !== undefined && ctx.clean([...sat, 'weight']) ? s.weight : 1;
    const backup = typeof s === 'object' && s.backup === true;
    // A CGI upstream speaks one protocol, as an nginx upstream is used by one *_pass; with a mix a
    // retry would send a FastCGI request's params to an HTTP server or the other way round.
    // http/https/h2c/h2 servers may mix: each carries the same HTTP request.
    const scheme = serverScheme(url);
    firstScheme ??= scheme;
    if (scheme !== firstScheme && (CGI_SCHEMES.has(scheme) || CGI_SCHEMES.has(firstScheme))) {
      ctx.error(urlAt, `upstream servers must all use one protocol: this one is ${scheme}, the first is ${firstScheme}; make a second upstream`);
      continue;
    }
    out.push({ url, weight, backup });
  }
  return out;
}

/** The protocol of an upstream's servers; servers() refuses a mix, so the first one tells. */
export function upstreamScheme(up: UpstreamConfig): string | undefined {
  const first = up.servers[0];
  return first ? serverScheme(first.url) : undefined;
}
