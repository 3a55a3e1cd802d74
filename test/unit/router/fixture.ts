// Config objects for router tests, with every field the router does not care about defaulted.
// Deliberately independent of the real config loader.
import { DEFAULT_BODY_BUFFER, DEFAULT_CLIENT_TIMEOUTS, DEFAULT_MAX_BODY } from '../../../src/config/client.js';
import type { Config, RouteConfig, SiteConfig, UpstreamConfig } from '../../../src/config/types.js';
import { compileSiteTable } from '../../../src/router/site-table.js';
import type { CompiledSite, SiteTable } from '../../../src/router/types.js';

export type RouteInput = Partial<RouteConfig> & { location: string };
export type SiteInput = Partial<Omit<SiteConfig, 'routes'>> & { routes?: RouteInput[] };

export function route(input: RouteInput): RouteConfig {
  return { index: ['index.html'], ...input };
}

export function proxy(location: string, target: string): RouteConfig {
  return route({ location, proxy: target });
}

export function files(location: string, root = '/srv/www'): RouteConfig {
  return route({ location, root });
}

export function ret(location: string, status = 204): RouteConfig {
  return route({ location, return: { status } });
}

export function site(input: SiteInput = {}): SiteConfig {
  const { routes = [], ...rest } = input;
  return {
    hosts: ['example.com'],
    default: false,
    tls: { kind: 'internal' },
    redirect: 'https',
    compress: ['br', 'gzip'],
    timeouts: { ...DEFAULT_CLIENT_TIMEOUTS },
    underscoresInHeaders: false,
    compressAuthenticated: false,
    ...rest,
    routes: routes.map(route),
  };
}

function upstream(name: string): UpstreamConfig {
  return {
    name,
    servers: [{ url: 'http://127.0.0.1:8001', weight: 1, backup: false }],
    balance: 'round-robin',
    maxFails: 1,
    failTimeoutMs: 10_000,
    retries: 1,
    timeouts: { connectMs: 5_000, readMs: 60_000, sendMs: 60_000 },
    keepalive: 32,
  };
}

export function config(sites: SiteConfig[], upstreams: string[] = []): Config {
  return {
    file: '/etc/gatehouse/gatehouse.yaml',
    origin: 'native',
    listen: { http: [{ port: 80 }], https: [{ port: 443 }] },
    drainTimeoutMs: 30_000,
    storage: '/var/lib/gatehouse',
    trustedProxies: [],
    timeouts: { ...DEFAULT_CLIENT_TIMEOUTS },
    maxBody: DEFAULT_MAX_BODY,
    bodyBuffer: { ...DEFAULT_BODY_BUFFER },
    log: { access: 'stdout', format: 'combined', formats: {}, error: 'stderr', level: 'info' },
    upstreams: Object.fromEntries(upstreams.map((n) => [n, upstream(n)])),
    sites,
  };
}

/** One site with these routes, compiled. */
export function compileRoutes(routes: RouteInput[], upstreams: string[] = []): CompiledSite {
  return (compileSiteTable(config([site({ routes })], upstreams)).sites[0]) as CompiledSite;
}

export function table(sites: SiteInput[], upstreams: string[] = []): SiteTable {
  return compileSiteTable(config(sites.map(site), upstreams));
}
