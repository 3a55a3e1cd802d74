// From a schema-checked value to the `Config` every other room reads: defaults filled in, relative
// paths made absolute against the config file's folder, and the checks that need several values.
//
// Top-level defaults (README "Configuration reference"): no listener unless `listen.http`/`listen.https` is written (but at
// least one must be); `drainTimeout` 30s; `storage` ./certs; no trusted proxies; access log to
// stdout in combined format, error log to stderr at level info.
import ipaddr from 'ipaddr.js';
import { acmeConfig } from './acme.js';
import { cacheStoreConfig } from './cache.js';
import { bodyBuffer, clientTimeouts, DEFAULT_CLIENT_TIMEOUTS, maxBody } from './client.js';
import type { Ctx } from './context.js';
import { formatListen, listenConflict, parseListenAddress } from './listen.js';
import { logFormatName, logFormatsConfig } from './log-formats.js';
import { list } from './route-parts.js';
import type { RawConfig, RawListen, RawListenObject, RawText } from './schema.js';
import { NOTHING_TO_SERVE, sitesConfig } from './sites.js';
import type { ListenerRef } from './site-ports.js';
import { mapsConfig } from './maps.js';
import type { Path } from './source.js';
import type { AdminConfig, Config, ListenAddress, LogTarget } from './types.js';
import { mimeTypesConfig } from './mime-types.js';
import { mergeTlsPolicy, tlsPolicyConfig } from './tls-policy.js';
import { parseDuration } from './units.js';
import { checkRouteUpstreamSchemes, upstreamScheme, upstreamsConfig } from './upstreams.js';
import { parseRedisUrl } from './redis-url.js';

export function normalize(ctx: Ctx, raw: RawConfig): Config {
  ctx.nginxNames = raw.defaults === 'nginx';
  const { listen, listeners } = listenConfig(ctx, raw);
  // issue 17: rewrite — user variables are declared before any template is checked.
  const maps = mapsConfig(ctx, raw);
  const formats = logFormatsConfig(ctx, raw.log?.formats);
  const upstreams = upstreamsConfig(ctx, raw.upstreams);
  const timeouts = clientTimeouts(ctx, ['timeouts'], raw.timeouts, DEFAULT_CLIENT_TIMEOUTS);
  const underscoresInHeaders = raw.underscoresInHeaders !== undefined && ctx.clean(['underscoresInHeaders']) ? raw.underscoresInHeaders : false;
  const names = new Set(Object.keys(raw.upstreams ?? {}));
  const schemes = new Map(Object.values(upstreams).map((u) => [u.name, upstreamScheme(u)]));
  const sites = sitesConfig(ctx, raw.sites ?? [], { names, schemes }, { timeouts, underscoresInHeaders }, listeners);
  checkRouteUpstreamSchemes(ctx, raw.sites, upstreams);
  // The nginx adapter says it at the nginx line (no "server" block).
  if (raw.sites?.length === 0 && raw.defaults !== 'nginx') ctx.warn(['sites'], NOTHING_TO_SERVE);
  const config: Config = {
    file: ctx.file,
    origin: raw.defaults === 'nginx' && ctx.clean(['defaults']) ? 'nginx' : 'native',
    listen,
    drainTimeoutMs: raw.drainTimeout !== undefined && ctx.clean(['drainTimeout']) ? parseDuration(raw.drainTimeout) : 30_000,
    storage: storage(ctx, raw.storage),
    trustedProxies: trustedProxies(ctx, raw),
    timeouts,
    maxBody: maxBody(ctx, raw),
    bodyBuffer: bodyBuffer(ctx, raw.bodyBuffer),
    log: {
      access: logTarget(ctx, ['log', 'access'], raw.log?.access, 'stdout'),
      format: logFormatName(ctx, raw.log?.format),
      formats,
      error: logTarget(ctx, ['log', 'error'], raw.log?.error, 'stderr'),
      level: raw.log?.level !== undefined && ctx.clean(['log', 'level']) ? raw.log.level : 'info',
    },
    upstreams,
    sites,
  };
  const admin = adminConfig(ctx, raw, listen);
  if (admin) config.admin = admin;
  const cache = cacheStoreConfig(ctx, raw.cache);
  if (cache) config.cache = cache;
  const acme = acmeConfig(ctx, raw.acme, sites.some((s) => s.tls.kind === 'acme'));
  // issue 19: the top-level policy is every TLS site's default; a site's own keys win one by one.
  const tls = tlsPolicyConfig(ctx, ['tls'], raw.tls);
  if (tls) config.tls = tls;
  for (const site of sites) {
    const policy = site.tls.kind === 'off' ? undefined : mergeTlsPolicy(tls, site.tls.policy);
    if (policy) site.tls = { ...site.tls, policy };
  }
  if (acme) config.acme = acme;
  if (maps) config.maps = maps;
  const mimeTypes = mimeTypesConfig(ctx, raw.mimeTypes);
  if (mimeTypes) config.mimeTypes = mimeTypes;
  return config;
}

function addresses(ctx: Ctx, at: Path, value: RawListen | undefined): Array<{ addr: ListenAddress; at: Path }> {
  if (value === undefined || !ctx.shaped(at)) return [];
  const items = Array.isArray(value) ? value.map((v, i) => ({ v, at: [...at, i] })) : [{ v: value, at }];
  const out: Array<{ addr: ListenAddress; at: Path }> = [];
  for (const item of items) {
    if (!ctx.clean(item.at)) continue;
    const v = item.v;
    const addr = typeof v === 'object' ? listenObject(ctx, item.at, v) : ctx.attempt(item.at, () => parseListenAddress(v));
    if (addr) out.push({ addr, at: item.at });
  }
  return out;
}

/** issue 19: `{ address, proxyProtocol: true, trusted: [CIDRs] }` (README "Behind a load balancer"). */
function listenObject(ctx: Ctx, at: Path, value: RawListenObject): ListenAddress | undefined {
  const addr = ctx.attempt([...at, 'address'], () => parseListenAddress(value.address));
  if (value.proxyProtocol !== true) {
    if (value.trusted !== undefined) ctx.error([...at, 'trusted'], 'trusted applies only with proxyProtocol: true', 'key');
    return addr;
  }
  if (value.trusted === undefined || list(value.trusted).length === 0) {
    // Without it any client could name itself in a header: only the balancers may.
    ctx.error([...at, 'proxyProtocol'], 'proxyProtocol needs trusted: the addresses or CIDRs of the load balancers that send the header', 'key');
    return addr;
  }
  const trusted = addressList(ctx, [...at, 'trusted'], value.trusted, 'trusted');
  list(value.trusted).forEach((entry, i) => {
    if (!trusted.includes(entry.trim()) || !entry.includes('/') || ipaddr.parseCIDR(entry.trim())[1] !== 0) return;
    const here = typeof value.trusted === 'string' ? [...at, 'trusted'] : [...at, 'trusted', i];
    ctx.warn(here, `trusted "${entry.trim()}" trusts every address: any client can name its own address in a PROXY header`);
  });
  return addr && { ...addr, proxyProtocol: { trusted } };
}

function listenConfig(ctx: Ctx, raw: RawConfig): { listen: Config['listen']; listeners: ListenerRef[] } {
  const http = addresses(ctx, ['listen', 'http'], raw.listen?.http);
  const https = addresses(ctx, ['listen', 'https'], raw.listen?.https);
  const all = [...http, ...https];
  all.forEach((a, i) => {
    const clash = all.slice(0, i).find((b) => listenConflict(a.addr, b.addr));
    if (clash) {
      const line = ctx.pos(clash.at).line;
      ctx.error(a.at, `listen address ${formatListen(a.addr)} clashes with ${formatListen(clash.addr)} (line ${line}); both cannot be bound`);
    }
  });
  const written = (v: RawListen | undefined): number => (v === undefined ? 0 : Array.isArray(v) ? v.length : 1);
  // Without sites, no listener is fine: that config only checks (NOTHING_TO_SERVE).
  if (written(raw.listen?.http) + written(raw.listen?.https) === 0 && ctx.shaped(['listen']) && (raw.sites?.length ?? 1) > 0) {
    ctx.error(raw.listen ? ['listen'] : [], 'nothing to listen on: set listen.http and/or listen.https (a port, like 8443)');
  }
  const listeners = [...http.map((a) => ({ port: a.addr.port, https: false, at: a.at })), ...https.map((a) => ({ port: a.addr.port, https: true, at: a.at }))];
  return { listen: { http: http.map((a) => a.addr), https: https.map((a) => a.addr) }, listeners };
}

/** `admin: ADDRESS` or `admin: { listen: ADDRESS, allow: [CIDRs] }`. */
function adminConfig(ctx: Ctx, raw: RawConfig, listen: Config['listen']): AdminConfig | undefined {
  const value = raw.admin;
  if (value === undefined || !ctx.shaped(['admin'])) return undefined;
  const long = typeof value === 'object';
  const at: Path = long ? ['admin', 'listen'] : ['admin'];
  if (!ctx.clean(at)) return undefined;
  const addr: AdminConfig | undefined = ctx.attempt(at, () => parseListenAddress(long ? value.listen : value));
  const clash = addr && [...listen.http, ...listen.https].find((l) => listenConflict(addr, l));
  if (addr && clash) ctx.error(at, `admin address ${formatListen(addr)} clashes with listen address ${formatListen(clash)}`);
  if (addr && long && value.allow !== undefined) addr.allow = addressList(ctx, ['admin', 'allow'], value.allow, 'admin allow');
  if (addr && long && value.hosts !== undefined && ctx.clean(['admin', 'hosts'])) addr.hosts = adminHosts(ctx, value.hosts);
  return addr;
}

/** Names the admin listener answers to (besides addresses and localhost); a port, if written, is dropped. */
function adminHosts(ctx: Ctx, value: RawText): string[] {
  const single = typeof value === 'string';
  return list(value).flatMap((entry, i) => {
    const name = entry.trim().toLowerCase().replace(/:\d+$/, '');
    if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(name)) return [name];
    ctx.error(single ? ['admin', 'hosts'] : ['admin', 'hosts', i], `admin host "${entry}" is not a host name`);
    return [];
  });
}

/** A folder (relative to the config file), or a `redis://`/`rediss://` URL kept as written. */
function storage(ctx: Ctx, value: string | undefined): string {
  if (value === undefined || !ctx.clean(['storage'])) return ctx.resolve('./certs');
  const text = value.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) return ctx.resolve(text);
  if (scheme !== 'redis' && scheme !== 'rediss') {
    ctx.error(['storage'], `storage "${text}" must be a folder or a redis:// (rediss://) URL`);
  } else {
    ctx.attempt(['storage'], () => parseRedisUrl(text));
  }
  return text;
}

/** CIDRs or single addresses, checked the way compileTrust in middleware/ will read them. */
function trustedProxies(ctx: Ctx, raw: RawConfig): string[] {
  if (raw.trustedProxies === undefined) return [];
  return addressList(ctx, ['trustedProxies'], raw.trustedProxies, 'trustedProxies');
}

function addressList(ctx: Ctx, at: Path, value: RawText, what: string): string[] {
  if (!ctx.shaped(at)) return [];
  const single = typeof value === 'string';
  return list(value).flatMap((entry, i) => {
    const here = single ? at : [...at, i];
    if (!ctx.clean(here)) return [];
    const text = entry.trim();
    const ok = text.includes('/') ? validCidr(text) : validAddress(text);
    if (ok) return [text];
    ctx.error(here, `${what} entry "${text}" is not an IP address or CIDR (like 10.0.0.0/8)`);
    return [];
  });
}

/** ipaddr.isValid also takes `10` or `0x0a.1` (inet_aton forms); a config should not. */
function validAddress(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text);
}

function validCidr(text: string): boolean {
  const slash = text.lastIndexOf('/');
  if (!validAddress(text.slice(0, slash)) || !/^\d{1,3}$/.test(text.slice(slash + 1))) return false;
  try {
    ipaddr.parseCIDR(text);
    return true;
  } catch {
    return false;
  }
}

function logTarget(ctx: Ctx, at: Path, value: string | undefined, fallback: LogTarget): LogTarget {
  if (value === undefined || !ctx.clean(at)) return fallback;
  if (value === 'stdout' || value === 'stderr' || value === 'off') return value;
  return { file: ctx.resolve(value) };
}
