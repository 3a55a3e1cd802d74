// A site's `listen:` — nginx's per-address:port server tables (ngx_http_add_listen,
// ngx_http_optimize_servers): each listener port has its own set of sites, its own names and its
// own default site. A site without `listen:` serves every listener.
import type { Ctx } from './context.js';
import type { RawSite } from './schema.js';
import type { Path } from './source.js';
import type { SiteConfig } from './types.js';

/** A top-level listener as the site checks see it. */
export interface ListenerRef {
  port: number;
  https: boolean;
  at: Path;
}

/** Where a site is bound: `listen` unset means every listener. */
export interface SiteBinding {
  listen?: number[];
  /** Where each port of `listen` is written, for errors about one of them. */
  at: Map<number, Path>;
  /** The site serves at least one https listener (without `listen`: there is one). */
  https: boolean;
  /** The https ports of `listen`, in its order. */
  httpsPorts: number[];
}

/** True when `site` is in the table of listener port `port`. */
export function servesPort(site: Pick<SiteConfig, 'listen'>, port: number): boolean {
  return site.listen === undefined || site.listen.includes(port);
}

/** True when `site` answers unknown names on `port` (nginx's default_server is per port). */
export function isDefaultOn(site: Pick<SiteConfig, 'listen' | 'default' | 'defaultPorts'>, port: number): boolean {
  if (!site.default || !servesPort(site, port)) return false;
  return site.defaultPorts === undefined || site.defaultPorts.includes(port);
}

/** Reads a site's `listen:`; every port must be one a top-level listener has (not 0: that one is chosen at start). */
export function siteBinding(ctx: Ctx, at: Path, rs: RawSite, listeners: readonly ListenerRef[]): SiteBinding {
  const base = [...at, 'listen'];
  const anyHttps = listeners.some((l) => l.https);
  if (rs.listen === undefined || !ctx.clean(base)) return { at: new Map(), https: anyHttps, httpsPorts: [] };
  const items = typeof rs.listen === 'number' ? [{ port: rs.listen, at: base }] : rs.listen.map((port, i) => ({ port, at: [...base, i] }));
  const ports: number[] = [];
  const where = new Map<number, Path>();
  for (const item of items) {
    const known = listeners.filter((l) => l.port === item.port);
    if (item.port === 0) {
      ctx.error(item.at, 'a site cannot be bound to port 0 (the port is chosen at start); leave "listen" out to serve every listener');
    } else if (known.length === 0) {
      const have = [...new Set(listeners.map((l) => l.port))].join(', ') || 'none';
      ctx.error(item.at, `port ${item.port} is not a listener port (listen.http / listen.https have: ${have})`);
    } else if (where.has(item.port)) {
      ctx.error(item.at, `port ${item.port} is listed twice`);
    } else {
      ports.push(item.port);
      where.set(item.port, item.at);
    }
  }
  const httpsPorts = ports.filter((p) => listeners.some((l) => l.port === p && l.https));
  return { listen: ports, at: where, https: httpsPorts.length > 0, httpsPorts };
}

/** `default: [PORTS]`: ports of the site's own where it is the default; `true`: all of them. */
export function defaultPorts(ctx: Ctx, at: Path, rs: RawSite, binding: SiteBinding, listeners: readonly ListenerRef[]): number[] | undefined {
  const base = [...at, 'default'];
  if (!Array.isArray(rs.default) || !ctx.clean(base)) return undefined;
  const own = binding.listen ?? listeners.map((l) => l.port);
  rs.default.forEach((port, i) => {
    if (!own.includes(port)) ctx.error([...base, i], `port ${port} is not one this site listens on (${own.join(', ') || 'none'})`);
  });
  return rs.default.filter((p) => own.includes(p));
}

/** Ports two bindings share: `undefined` (every port) overlaps everything; [] when none. */
export function sharedPorts(a: number[] | undefined, b: number[] | undefined, all: readonly number[]): number[] {
  if (a === undefined && b === undefined) return [...all];
  if (a === undefined) return [...b!];
  if (b === undefined) return [...a];
  return a.filter((p) => b.includes(p));
}

/**
 * Once some site is bound to ports, a listener no site serves would have nothing to answer with
 * (nginx cannot have one: every listen belongs to a server).
 */
export function checkListenersServed(ctx: Ctx, listeners: readonly ListenerRef[], sites: readonly SiteConfig[]): void {
  if (!sites.some((s) => s.listen !== undefined)) return;
  for (const l of listeners) {
    if (!sites.some((s) => servesPort(s, l.port))) {
      ctx.error(l.at, `no site serves port ${l.port}: add it to a site's "listen", or leave "listen" out of one site`);
    }
  }
}
