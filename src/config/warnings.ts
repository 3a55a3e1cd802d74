// Likely mistakes in a valid config: reported as warnings by `check` and at start, never fatal.
import ipaddr from 'ipaddr.js';
import { parseLocation } from './location-spec.js';
import { parseProxyTarget } from './upstream-url.js';
import type { Ctx } from './context.js';
import { isLoopback } from './listen.js';
import { upstreamScheme } from './upstreams.js';
import type { RawConfig } from './schema.js';
import type { Path } from './source.js';
import type { Config, RouteConfig, SiteConfig } from './types.js';
import { allRoutes } from './nesting.js';
import { inherit, SECURITY_HEADERS, type Parent } from './inherit.js';
import type { RawRoute, RawSite } from './schema.js';

export function lint(ctx: Ctx, config: Config, raw: RawConfig): void {
  trustEveryone(ctx, config, raw);
  if (config.admin && !isLoopback(config.admin) && !config.admin.allow?.length) {
    // The admin listener answers 403 to non-loopback clients without an allow list (src/admin/access.ts).
    ctx.warn(
      typeof raw.admin === 'object' ? ['admin', 'listen'] : ['admin'],
      'admin listens beyond loopback but lets only loopback clients in (403 for others); bind it to 127.0.0.1, or add allow: [CIDRs] for the scrapers',
    );
  }
  unusedUpstreams(ctx, config);
  config.sites.forEach((site, i) => lintSite(ctx, config, site, raw, ['sites', i]));
  acmeChallenges(ctx, config);
}

function trustEveryone(ctx: Ctx, config: Config, raw: RawConfig): void {
  config.trustedProxies.forEach((entry, i) => {
    if (!entry.includes('/') || ipaddr.parseCIDR(entry)[1] !== 0) return;
    const at = typeof raw.trustedProxies === 'string' ? ['trustedProxies'] : ['trustedProxies', i];
    ctx.warn(at, `trustedProxies "${entry}" trusts every address: any client can set its own X-Forwarded-For`);
  });
}

function unusedUpstreams(ctx: Ctx, config: Config): void {
  const names = new Set(Object.keys(config.upstreams));
  const used = new Set<string>();
  for (const site of config.sites) {
    for (const { route } of allRoutes(site.routes, [])) {
      const name = route.proxy !== undefined ? (route.proxyTarget ?? parseProxyTarget(route.proxy, names)).upstream : undefined;
      if (name !== undefined) used.add(name);
    }
  }
  for (const name of names) {
    if (!used.has(name)) ctx.warn(['upstreams', name], `upstream "${name}" is not used by any route`, 'key');
  }
}

function lintSite(ctx: Ctx, config: Config, site: SiteConfig, raw: RawConfig, at: Path): void {
  const rs = raw.sites[at[1] as number];
  if (site.tls.kind === 'off' && site.hstsMs !== undefined) {
    ctx.warn([...at, 'hsts'], 'hsts has no effect on a "tls: off" site (browsers ignore it over plain HTTP)');
  }
  if (site.tls.kind === 'off' && site.redirect === 'https') {
    ctx.warn([...at, 'redirect'], 'redirect: https on a "tls: off" site sends visitors to an HTTPS site that does not exist');
  }
  if (site.tls.kind !== 'off' && config.listen.https.length === 0) {
    ctx.warn(rs?.tls !== undefined ? [...at, 'tls'] : at, `site uses TLS (${site.tls.kind}) but there is no listen.https; it is only reachable over plain HTTP`);
  }
  for (const { route, at: rat } of allRoutes(site.routes, at)) {
    if (unguardedFastcgi(config, route)) ctx.warn(rat, fastcgiMessage(route));
    // issue 17: nest
    if (offBySlash(route)) ctx.warn([...rat, 'alias'], offBySlashMessage(route));
  }
  droppedSecurityHeaders(ctx, rs, at);
  if (!site.routes.some(catchAll)) {
    ctx.warn(rs?.routes !== undefined ? [...at, 'routes'] : at, 'no route matches every path (like "location: /"); other requests will get 404');
  }
  if (site.tls.kind === 'acme' && !config.acme?.challenges.includes('dns-01') && !config.acme?.onDemand) {
    // issue 19: a CA validates a wildcard only through DNS-01 (RFC 8555 §7.1.3). An error when the site
    // asks for ACME in so many words; a warning when ACME is only the default for a public name.
    const explicit = rs?.tls !== undefined;
    site.hosts.forEach((host, j) => {
      if (!host.startsWith('*.')) return;
      const hat = typeof rs?.hosts === 'string' ? [...at, 'hosts'] : [...at, 'hosts', j];
      const message = `"${host}" needs a wildcard certificate, which an ACME CA issues only through the DNS-01 challenge: ` +
        'add dns-01 to acme.challenges with an acme.dns provider, or use acme.onDemand to issue per name, or tls: { cert, key }';
      if (explicit) ctx.error(hat, message);
      else ctx.warn(hat, message);
    });
  }
}

/**
 * A FastCGI route with a root and no tryFiles passes any path that matches its location to php-fpm,
 * existing script or not (nginx does the same without try_files). Any tryFiles guards it: with
 * `[$uri, =CODE]` or `[$fastcgi_script_name, =CODE]` gatehouse checks the script itself
 * (cgi-request.ts compileCgiRoute), and every other item must exist under root before anything is
 * forwarded (try-files.ts). Without a root there is no SCRIPT_FILENAME to walk back from.
 */
function unguardedFastcgi(config: Config, route: RouteConfig): boolean {
  if (route.proxy === undefined || route.root === undefined || route.tryFiles !== undefined) return false;
  const target = route.proxyTarget ?? parseProxyTarget(route.proxy, new Set(Object.keys(config.upstreams)));
  const upstream = target.upstream !== undefined ? config.upstreams[target.upstream] : undefined;
  return ((upstream && upstreamScheme(upstream)) ?? target.scheme) === 'fastcgi';
}

/** The classic hole (php.ini cgi.fix_pathinfo=1, PHP's default) and what closes it. */
function fastcgiMessage(route: RouteConfig): string {
  return `FastCGI route "${route.location}" has a root but no script check: a request for /uploads/x.jpg/index.php reaches php-fpm, ` +
    'whose cgi.fix_pathinfo walks back to the uploaded uploads/x.jpg and may run it as PHP (only security.limit_extensions stops that); ' +
    'add tryFiles: [$uri, =404] (nginx: try_files $fastcgi_script_name =404) so that only scripts that exist under root are sent';
}

/** `location: /` (with or without ^~), or a regex that matches any path. */
function catchAll(route: RouteConfig): boolean {
  const loc = route.locationSpec ?? parseLocation(route.location);
  if (loc.kind === 'prefix' || loc.kind === 'prefix-no-regex') return loc.value === '/';
  return loc.regex !== undefined && loc.regex.test('/') && loc.regex.test('/gatehouse/probe.x');
}

function acmeChallenges(ctx: Ctx, config: Config): void {
  const acme = config.acme;
  if (!acme || !config.sites.some((s) => s.tls.kind === 'acme')) return;
  const http = acme.challenges.includes('http-01') && config.listen.http.length > 0;
  const alpn = acme.challenges.includes('tls-alpn-01') && config.listen.https.length > 0;
  const dns = acme.challenges.includes('dns-01') && acme.dns !== undefined;
  if (!http && !alpn && !dns) {
    ctx.warn(['acme'], 'no ACME challenge can be answered: http-01 needs listen.http, tls-alpn-01 needs listen.https, dns-01 needs acme.dns');
  }
}

/**
 * nginx's "off-by-slash": `location /x` with `alias /dir/` maps `/x../secret` to /dir/../secret,
 * outside the alias. gatehouse refuses such paths (handler/static-alias.ts) but the config means
 * something else than it says.
 */
function offBySlash(route: RouteConfig): boolean {
  const alias = route.alias;
  if (!alias || alias.location !== route.locationSpec) return false;
  const loc = alias.location;
  return (loc.kind === 'prefix' || loc.kind === 'prefix-no-regex') && !loc.value.endsWith('/') && alias.path.endsWith('/');
}

function offBySlashMessage(route: RouteConfig): string {
  const loc = route.locationSpec?.value ?? route.location;
  return `location "${route.location}" has no trailing slash but its alias "${route.alias?.path}" has one: nginx would serve ` +
    `${loc}../NAME from the folder above the alias (gatehouse answers 404 to such paths); write location: ${loc}/`;
}

type RawNode = Record<string, unknown>;

/** The header names a raw `headers.response` part sets or adds (every map in it but `remove`). */
function responseNames(part: unknown): Set<string> {
  const names = new Set<string>();
  if (part === null || typeof part !== 'object') return names;
  for (const [key, value] of Object.entries(part as RawNode)) {
    if (key === 'remove' || value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    for (const name of Object.keys(value as RawNode)) names.add(name.toLowerCase());
  }
  return names;
}

/**
 * A route with its own `headers.response` replaces its parent's whole list (nginx's add_header
 * rule, config/inherit.ts): a Strict-Transport-Security or Content-Security-Policy written on the
 * site is silently gone from that route's answers.
 */
function droppedSecurityHeaders(ctx: Ctx, rs: RawSite | undefined, at: Path): void {
  if (!rs) return;
  const walk = (parent: Parent, routes: RawRoute[] | undefined): void => {
    if (!Array.isArray(routes)) return;
    routes.forEach((r, i) => {
      if (r === null || typeof r !== 'object') return;
      const rat = [...parent.at, 'routes', i];
      const own = r.headers?.response;
      if (own !== undefined) {
        const had = responseNames((parent.raw.headers as RawNode | undefined)?.response);
        const has = responseNames(own);
        const lost = SECURITY_HEADERS.filter((h) => had.has(h.toLowerCase()) && !has.has(h.toLowerCase()));
        if (lost.length > 0) {
          const whose = parent.at.length === 2 ? 'site' : 'parent route';
          ctx.warn([...rat, 'headers', 'response'], `this route's own response headers replace the ${whose}'s (as nginx's add_header does), ` +
            `so ${lost.join(', ')} ${lost.length > 1 ? 'are' : 'is'} not sent here; repeat ${lost.length > 1 ? 'them' : 'it'} in this list`);
        }
      }
      walk({ raw: inherit(parent, r as unknown as RawNode, rat).raw, at: rat }, r.routes);
    });
  };
  walk({ raw: rs as unknown as RawNode, at }, rs.routes);
}
