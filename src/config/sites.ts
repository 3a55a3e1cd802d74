// `sites:`: which names a site answers for, how it gets its certificate, and its routes.
import zlib from 'node:zlib';
import { accessSettings } from './access.js';
import { clientTimeouts } from './client.js';
import type { Ctx } from './context.js';
import { isLocalHost, parseHost, type ParsedHost } from './hosts.js';
import { accessLogConfig } from './log-formats.js';
import { headersConfig, list, rateLimitConfig } from './route-parts.js';
import { routesConfig } from './routes.js';
import { rewriteConfig } from './rewrite.js';
import { siteResponseKeys } from './response-headers.js';
import type { RawSite } from './schema.js';
import type { Path } from './source.js';
import type { ClientTimeouts, CompressRules, SiteConfig, SiteTls } from './types.js';
import { parseDuration, parseSize } from './units.js';

// Node's zlib has zstd from 22.15; on older versions the encoding is dropped with a warning so
// that one config file works across the Node versions a fleet runs.
const HAS_ZSTD = typeof (zlib as unknown as Record<string, unknown>).createZstdCompress === 'function';

/** What a site inherits from the top level unless it says otherwise. */
export interface SiteDefaults {
  timeouts: ClientTimeouts;
  underscoresInHeaders: boolean;
}

export function sitesConfig(ctx: Ctx, raw: RawSite[], upstreams: ReadonlySet<string>, defaults: SiteDefaults): SiteConfig[] {
  if (!ctx.shaped(['sites'])) return [];
  const hostOwners = new Map<string, Path>();
  let defaultAt: Path | undefined;
  const sites: SiteConfig[] = [];
  raw.forEach((rs, i) => {
    const at: Path = ['sites', i];
    if (!ctx.shaped(at)) return;
    const hosts = siteHosts(ctx, at, rs, hostOwners);
    const site = siteConfig(ctx, at, rs, hosts, upstreams, defaults);
    if (site.default && ctx.clean([...at, 'default'])) {
      if (defaultAt) {
        const line = ctx.pos(defaultAt.slice(0, 2)).line;
        ctx.error([...at, 'default'], `only one site can be "default: true" (the site at line ${line} already is)`);
      } else {
        defaultAt = [...at, 'default'];
      }
    }
    sites.push(site);
  });
  return sites;
}

/**
 * Parses and lower-cases the names; a name already claimed by an earlier site is an error at the
 * later one (nginx only warns and ignores it, which hides the mistake).
 */
function siteHosts(ctx: Ctx, at: Path, rs: RawSite, owners: Map<string, Path>): ParsedHost[] {
  const base = [...at, 'hosts'];
  if (!ctx.shaped(base) || rs.hosts === undefined) return [];
  const items = typeof rs.hosts === 'string' ? [{ text: rs.hosts, at: base }] : rs.hosts.map((text, j) => ({ text, at: [...base, j] }));
  const out: ParsedHost[] = [];
  for (const item of items) {
    if (!ctx.clean(item.at)) continue;
    const parsed = ctx.attempt(item.at, () => parseHost(item.text, ctx.nginxNames));
    if (!parsed) continue;
    const first = owners.get(parsed.host);
    if (first) {
      const same = first[1] === at[1];
      const where = same ? 'earlier in this site' : `by the site at line ${ctx.pos(['sites', first[1] as number]).line}`;
      ctx.error(item.at, `host "${parsed.host}" is already used ${where}`);
      continue;
    }
    owners.set(parsed.host, item.at);
    out.push(parsed);
  }
  return out;
}

/**
 * Without `tls:`, a site whose names no public CA would issue for (see isLocalHost) gets the
 * internal CA, anything else ACME. Regex hosts have no name to put in a certificate and do not
 * take part; a site with only regex hosts gets the internal CA.
 */
function defaultTls(hosts: ParsedHost[]): SiteTls {
  const named = hosts.filter((h) => h.kind !== 'regex');
  return named.every(isLocalHost) ? { kind: 'internal' } : { kind: 'acme' };
}

function siteConfig(ctx: Ctx, at: Path, rs: RawSite, hosts: ParsedHost[], upstreams: ReadonlySet<string>, defaults: SiteDefaults): SiteConfig {
  const ok = (key: keyof RawSite): boolean => rs[key] !== undefined && ctx.clean([...at, key]);
  let tls = defaultTls(hosts);
  if (ok('tls')) {
    const t = rs.tls as NonNullable<RawSite['tls']>;
    tls = typeof t === 'string' ? { kind: t } : { kind: 'files', cert: ctx.resolve(t.cert), key: ctx.resolve(t.key) };
  }
  const site: SiteConfig = {
    hosts: hosts.map((h) => h.host),
    default: ok('default') ? (rs.default as boolean) : false,
    tls,
    // A plain-HTTP site has nowhere to redirect to; a TLS one sends HTTP visitors over (README "Configuration reference").
    redirect: ok('redirect') ? (rs.redirect as 'https' | 'off') : tls.kind === 'off' ? 'off' : 'https',
    compress: ok('compress') ? compress(ctx, [...at, 'compress'], rs.compress as NonNullable<RawSite['compress']>) : ['br', 'gzip'],
    compressAuthenticated: ok('compressAuthenticated') ? (rs.compressAuthenticated as boolean) : false,
    ...(ok('compressRules') ? { compressRules: compressRules(ctx, [...at, 'compressRules'], rs.compressRules as NonNullable<RawSite['compressRules']>) } : {}),
    timeouts: clientTimeouts(ctx, [...at, 'timeouts'], rs.timeouts, defaults.timeouts),
    underscoresInHeaders: ok('underscoresInHeaders') ? (rs.underscoresInHeaders as boolean) : defaults.underscoresInHeaders,
    routes: routesConfig(ctx, at, rs, upstreams),
    pos: ctx.pos(at),
  };
  if (ok('hsts')) site.hstsMs = parseDuration(rs.hsts as string | number);
  const headers = headersConfig(ctx, [...at, 'headers'], rs.headers);
  if (headers) site.headers = headers;
  const rateLimit = rateLimitConfig(ctx, [...at, 'rateLimit'], rs.rateLimit);
  if (rateLimit) site.rateLimit = rateLimit;
  if (ok('maxBody')) site.maxBody = parseSize(rs.maxBody as string | number);
  const accessLog = accessLogConfig(ctx, [...at, 'accessLog'], rs.accessLog);
  if (accessLog) site.accessLog = accessLog;
  // issue 17: nest (the routes inherit these through config/inherit.ts; kept here for status and checks)
  if (ok('root')) site.root = ctx.resolve(rs.root as string);
  if (ok('index')) site.index = list(rs.index);
  // issue 17: rewrite
  const rewrite = rewriteConfig(ctx, [...at, 'rewrite'], rs.rewrite, {});
  if (rewrite) site.rewrite = rewrite;
  Object.assign(site, accessSettings(ctx, at, rs)); // issue 17: access
  siteResponseKeys(ctx, at, rs, site); // issue 17
  return site;
}

/** nginx's defaults: gzip_types text/html, gzip_min_length 20, gzip_vary off, gzip_proxied off. */
function compressRules(ctx: Ctx, at: Path, raw: NonNullable<RawSite['compressRules']>): CompressRules {
  const minLength = raw.minLength !== undefined ? ctx.attempt([...at, 'minLength'], () => parseSize(raw.minLength!)) : undefined;
  return {
    types: new Set(list(raw.types).map((t) => t.toLowerCase())),
    minLength: minLength ?? 20,
    vary: raw.vary ?? false,
    proxied: raw.proxied ?? false,
  };
}

function compress(ctx: Ctx, at: Path, value: NonNullable<RawSite['compress']>): SiteConfig['compress'] {
  if (value === 'off') return [];
  return value.filter((enc, i) => {
    if (enc !== 'zstd' || HAS_ZSTD) return true;
    ctx.warn([...at, i], `zstd needs Node.js 22.15 or later (this is ${process.version}); it is left out`);
    return false;
  });
}
