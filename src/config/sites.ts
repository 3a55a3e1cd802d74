// `sites:`: which names a site answers for, how it gets its certificate, and its routes.
import zlib from 'node:zlib';
import { accessSettings } from './access.js';
import { clientAuthConfig } from './client-auth.js';
import { clientTimeouts } from './client.js';
import type { Ctx } from './context.js';
import { isLocalHost, parseHost, type ParsedHost } from './hosts.js';
import { accessLogConfig } from './log-formats.js';
import { headersConfig, list, rateLimitConfig } from './route-parts.js';
import { paramsConfig } from './cgi-params.js';
import { routesConfig, type UpstreamNames } from './routes.js';
import { rewriteConfig } from './rewrite.js';
import { siteResponseKeys } from './response-headers.js';
import type { RawSite } from './schema.js';
import type { Path } from './source.js';
import { checkListenersServed, defaultPorts, isDefaultOn, sharedPorts, siteBinding, type ListenerRef, type SiteBinding } from './site-ports.js';
import { tlsPolicyConfig } from './tls-policy.js';
import type { ClientTimeouts, CompressRules, SiteConfig, SiteTls } from './types.js';
import { parseDuration, parseSize } from './units.js';

// Node's zlib has zstd from 22.15; on older versions the encoding is dropped with a warning so
// that one config file works across the Node versions a fleet runs.
const HAS_ZSTD = typeof (zlib as unknown as Record<string, unknown>).createZstdCompress === 'function';

/** A config without sites checks (with this warning) but does not start or reload: `run` has nothing to serve. */
export const NOTHING_TO_SERVE = 'no sites: nothing to serve (`gatehouse run` refuses to start until there is one)';

/** What a site inherits from the top level unless it says otherwise. */
export interface SiteDefaults {
  timeouts: ClientTimeouts;
  underscoresInHeaders: boolean;
}

export function sitesConfig(ctx: Ctx, raw: RawSite[], upstreams: UpstreamNames, defaults: SiteDefaults, listeners: readonly ListenerRef[] = []): SiteConfig[] {
  if (!ctx.shaped(['sites'])) return [];
  const allPorts = [...new Set(listeners.map((l) => l.port))];
  const hostOwners = new Map<string, Owner[]>();
  const defaultOwners: Owner[] = [];
  const sites: SiteConfig[] = [];
  raw.forEach((rs, i) => {
    const at: Path = ['sites', i];
    if (!ctx.shaped(at)) return;
    const binding = siteBinding(ctx, at, rs, listeners);
    const hosts = siteHosts(ctx, at, rs, hostOwners, binding.listen, allPorts);
    const site = siteConfig(ctx, at, rs, hosts, upstreams, defaults, binding);
    if (site.default && ctx.clean([...at, 'default'])) {
      const dp = defaultPorts(ctx, at, rs, binding, listeners);
      if (dp !== undefined) site.defaultPorts = dp;
      const mine = site.listen === undefined && dp === undefined ? undefined : allPorts.filter((p) => isDefaultOn(site, p));
      const clash = defaultOwners.map((o) => ({ o, shared: sharedPorts(o.ports, mine, allPorts) })).find((c) => c.o.ports === undefined && mine === undefined ? true : c.shared.length > 0);
      if (clash) {
        const line = ctx.pos(clash.o.at.slice(0, 2)).line;
        const onPort = clash.o.ports === undefined && mine === undefined ? '' : ` on port ${clash.shared[0]}`;
        ctx.error([...at, 'default'], `only one site can be "default: true"${onPort} (the site at line ${line} already is)`);
      } else {
        defaultOwners.push({ at: [...at, 'default'], ports: mine });
      }
    }
    sites.push(site);
  });
  checkListenersServed(ctx, listeners, sites);
  return sites;
}

/** A site that claimed a name (or the default) on some ports; `ports` undefined: every port. */
interface Owner {
  at: Path;
  ports: number[] | undefined;
}

/**
 * Parses and lower-cases the names; a name already claimed by an earlier site on one of the same
 * ports is an error at the later one (nginx only warns and ignores it, which hides the mistake). The
 * same name on different ports is two tables, as in nginx.
 */
function siteHosts(ctx: Ctx, at: Path, rs: RawSite, owners: Map<string, Owner[]>, ports: number[] | undefined, allPorts: readonly number[]): ParsedHost[] {
  const base = [...at, 'hosts'];
  if (!ctx.shaped(base) || rs.hosts === undefined) return [];
  const items = typeof rs.hosts === 'string' ? [{ text: rs.hosts, at: base }] : rs.hosts.map((text, j) => ({ text, at: [...base, j] }));
  const out: ParsedHost[] = [];
  for (const item of items) {
    if (!ctx.clean(item.at)) continue;
    const parsed = ctx.attempt(item.at, () => parseHost(item.text, ctx.nginxNames));
    if (!parsed) continue;
    // issue 18: nginx's `_` (and a server without names) may stand in several servers of a port: a
    // name no request carries, which the nginx adapter leaves on a server whose names all conflicted.
    if (ctx.nginxNames && parsed.host === '_') {
      out.push(parsed);
      continue;
    }
    const claimed = owners.get(parsed.host) ?? [];
    const first = claimed.find((o) => (o.ports === undefined && ports === undefined) || sharedPorts(o.ports, ports, allPorts).length > 0);
    if (first) {
      const same = first.at[1] === at[1];
      const where = same ? 'earlier in this site' : `by the site at line ${ctx.pos(['sites', first.at[1] as number]).line}`;
      const onPort = first.ports === undefined && ports === undefined ? '' : ` on port ${sharedPorts(first.ports, ports, allPorts)[0]}`;
      ctx.error(item.at, `host "${parsed.host}" is already used ${where}${onPort}`);
      continue;
    }
    claimed.push({ at: item.at, ports });
    owners.set(parsed.host, claimed);
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

function siteConfig(ctx: Ctx, at: Path, rs: RawSite, hosts: ParsedHost[], upstreams: UpstreamNames, defaults: SiteDefaults, binding: SiteBinding): SiteConfig {
  const ok = (key: keyof RawSite): boolean => rs[key] !== undefined && ctx.clean([...at, key]);
  const tls = boundTls(ctx, at, rs, ok('tls') ? readTls(ctx, at, rs, hosts) : defaultTls(hosts), binding);
  const site: SiteConfig = {
    hosts: hosts.map((h) => h.host),
    default: ok('default') ? rs.default !== false : false,
    tls,
    redirect: redirectSetting(ctx, at, rs, tls, binding, ok('redirect')),
    compress: ok('compress') ? compress(ctx, [...at, 'compress'], rs.compress as NonNullable<RawSite['compress']>) : ['br', 'gzip'],
    compressAuthenticated: ok('compressAuthenticated') ? (rs.compressAuthenticated as boolean) : false,
    ...(ok('compressRules') ? { compressRules: compressRules(ctx, [...at, 'compressRules'], rs.compressRules as NonNullable<RawSite['compressRules']>) } : {}),
    timeouts: clientTimeouts(ctx, [...at, 'timeouts'], rs.timeouts, defaults.timeouts),
    underscoresInHeaders: ok('underscoresInHeaders') ? (rs.underscoresInHeaders as boolean) : defaults.underscoresInHeaders,
    routes: routesConfig(ctx, at, rs, upstreams),
    pos: ctx.pos(at),
  };
  if (binding.listen) site.listen = binding.listen;
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
  const params = paramsConfig(ctx, [...at, 'params'], rs.params);
  if (params) site.params = params;
  // issue 17: rewrite
  const rewrite = rewriteConfig(ctx, [...at, 'rewrite'], rs.rewrite, {});
  if (rewrite) site.rewrite = rewrite;
  Object.assign(site, accessSettings(ctx, at, rs)); // issue 17: access
  siteResponseKeys(ctx, at, rs, site); // issue 17
  return site;
}

function readTls(ctx: Ctx, at: Path, rs: RawSite, hosts: ParsedHost[]): SiteTls {
  const t = rs.tls as NonNullable<RawSite['tls']>;
  if (typeof t === 'string') return { kind: t };
  // The object form: `cert` and `key` together, or `issuer`, or neither (the default source for the names).
  if ((t.cert === undefined) !== (t.key === undefined)) ctx.error([...at, 'tls', t.cert === undefined ? 'key' : 'cert'], 'tls.cert and tls.key go together: give both files, or neither');
  else if (t.cert !== undefined && t.issuer !== undefined) ctx.error([...at, 'tls', 'issuer'], 'tls.issuer and tls.cert/tls.key are two sources for one certificate: keep one');
  const source: SiteTls =
    t.cert !== undefined && t.key !== undefined ? { kind: 'files', cert: ctx.resolve(t.cert), key: ctx.resolve(t.key) } : t.issuer !== undefined ? { kind: t.issuer } : defaultTls(hosts);
  // issue 19: the site's own handshake settings; normalize.ts puts the top-level ones under them.
  const policy = tlsPolicyConfig(ctx, [...at, 'tls'], t);
  // issue 19: mTLS, carried beside whichever source the certificate has.
  const clientAuth = t.clientAuth !== undefined && ctx.shaped([...at, 'tls', 'clientAuth']) ? clientAuthConfig(ctx, [...at, 'tls', 'clientAuth'], t.clientAuth) : undefined;
  return { ...source, ...(policy ? { policy } : {}), ...(clientAuth ? { clientAuth } : {}) };
}

/**
 * A site bound to plain-HTTP ports only is plain, as an nginx server on port 80 only is (its
 * certificate unused: a warning when one was written). A `tls: off` site bound to an https port has
 * no certificate to answer the handshake with.
 */
function boundTls(ctx: Ctx, at: Path, rs: RawSite, tls: SiteTls, binding: SiteBinding): SiteTls {
  if (!binding.listen) return tls;
  if (!binding.https) {
    if (rs.tls !== undefined && tls.kind !== 'off') ctx.warn([...at, 'tls'], `the site listens on no https port (listen: [${binding.listen.join(', ')}]), so it is served without TLS and this setting has no effect`);
    return { kind: 'off' };
  }
  const port = binding.httpsPorts[0];
  if (tls.kind === 'off' && port !== undefined) {
    ctx.error(binding.at.get(port)!, `port ${port} is an https listener, but the site is "tls: off": it has no certificate to answer with`);
  }
  return tls;
}

/** A plain-HTTP site has nowhere to redirect to; a TLS one sends HTTP visitors over (README "Configuration reference"). */
function redirectSetting(ctx: Ctx, at: Path, rs: RawSite, tls: SiteTls, binding: SiteBinding, written: boolean): SiteConfig['redirect'] {
  if (!written) return tls.kind === 'off' ? 'off' : 'https';
  if (rs.redirect === 'https' && binding.listen && !binding.https) {
    ctx.error([...at, 'redirect'], `"redirect: https" needs an https port, and the site listens on none (listen: [${binding.listen.join(', ')}])`);
  }
  return rs.redirect as 'https' | 'off';
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
