// Site selection by Host, in nginx `server_name` order (ngx_http_find_virtual_server):
//   1. the exact name;
//   2. the longest wildcard starting with `*.` (any depth: `*.example.com` covers `a.b.example.com`,
//      but not `example.com`), or the special `.example.com`, which covers both;
//   3. the longest wildcard ending with `.*` (`www.example.*`);
//   4. `~regex` names, in config order;
//   5. the default site: the first with `default: true`, else the first site.
// Where two sites list the same name, the first keeps it, as nginx does ("conflicting server name").
// issue 18: each listener port has a table of its own (nginx's per-address:port virtual servers,
// ngx_http_add_addrs): the sites bound to it or to every port, their names, its default site.
import { isDefaultOn, servesPort } from '../config/site-ports.js';
import { ConfigError, type Config, type ConfigIssue, type SourcePos } from '../config/types.js';
import { compileSite } from './site-locations.js';
import type { CompiledSite, SiteTable } from './types.js';

interface HostIndex {
  exact: Map<string, CompiledSite>;
  /** Key: the suffix with its leading dot, `.example.com` for `*.example.com`. */
  head: Map<string, CompiledSite>;
  /** Bare names covered by a `.example.com` entry. */
  dotBare: Map<string, CompiledSite>;
  /** Key: the prefix with its trailing dot, `www.example.` for `www.example.*`. */
  tail: Map<string, CompiledSite>;
  regex: Array<{ regex: RegExp; site: CompiledSite }>;
}

/** Compiles every site and its routes. Throws ConfigError listing every problem found. */
export function compileSiteTable(config: Config): SiteTable {
  const issues: ConfigIssue[] = [];
  const fallbackPos: SourcePos = { file: config.file, line: 1, col: 1 };
  const upstreamNames = new Set(Object.keys(config.upstreams));
  const sites = config.sites.map((site, i) =>
    compileSite(site, i, { upstreamNames, issues, fallbackPos: site.pos ?? fallbackPos }),
  );
  if (sites.length === 0) issues.push({ pos: fallbackPos, message: 'no sites are configured', severity: 'error' });
  const index = indexHosts(sites, issues, fallbackPos);
  if (issues.some((i) => i.severity === 'error')) throw new ConfigError(issues);

  const all = hostTable(sites, index, sites.find((s) => s.config.default) ?? (sites[0] as CompiledSite));
  if (!sites.some((s) => s.config.listen !== undefined)) return all;
  // Bound sites: one table per listener port. A port no site names (a listener on port 0, bound
  // at start) has the sites that serve every port.
  const ports = [...new Set([...config.listen.http, ...config.listen.https].map((l) => l.port))];
  const byPort = new Map<number, SiteTable>(ports.map((port) => [port, portTable(sites, port, issues, fallbackPos)]));
  const unbound = sites.filter((s) => s.config.listen === undefined);
  const rest = unbound.length > 0 ? hostTable(unbound, indexHosts(unbound, issues, fallbackPos), unbound.find((s) => s.config.default) ?? unbound[0]!) : all;
  return { ...all, forPort: (port) => byPort.get(port) ?? rest };
}

/** The sites that serve `port`, with its default: the first default there, else its first site. */
function portTable(sites: CompiledSite[], port: number, issues: ConfigIssue[], fallbackPos: SourcePos): SiteTable {
  const here = sites.filter((s) => servesPort(s.config, port));
  if (here.length === 0) return hostTable(sites, indexHosts([], issues, fallbackPos), sites[0]!);
  return hostTable(here, indexHosts(here, issues, fallbackPos), here.find((s) => isDefaultOn(s.config, port)) ?? here[0]!);
}

function hostTable(sites: CompiledSite[], index: HostIndex, defaultSite: CompiledSite): SiteTable {
  const table: SiteTable = {
    sites,
    defaultSite,
    matchHost: (host) => findSite(index, host) ?? defaultSite,
    findHost: (host) => findSite(index, host),
    forPort: () => table,
  };
  return table;
}

function indexHosts(sites: CompiledSite[], issues: ConfigIssue[], fallbackPos: SourcePos): HostIndex {
  const index: HostIndex = { exact: new Map(), head: new Map(), dotBare: new Map(), tail: new Map(), regex: [] };
  for (const site of sites) {
    for (const raw of site.config.hosts) {
      const problem = addHost(index, site, raw.trim());
      if (problem) issues.push({ pos: site.config.pos ?? fallbackPos, message: problem, severity: 'error' });
    }
  }
  return index;
}

function first(map: Map<string, CompiledSite>, key: string, site: CompiledSite): void {
  if (!map.has(key)) map.set(key, site);
}

/** Returns a config error message, or undefined when the name was indexed. */
function addHost(index: HostIndex, site: CompiledSite, name: string): string | undefined {
  if (name.startsWith('~')) {
    // nginx makes a server_name regex caseless; Host is lower-cased anyway. The source is kept
    // as written, since lower-casing it would change escapes such as \D or \W.
    try {
      index.regex.push({ regex: new RegExp(name.slice(1), 'i'), site });
    } catch (err) {
      return `host regex ${JSON.stringify(name)} does not compile: ${(err as Error).message}`;
    }
    return undefined;
  }
  const host = stripDot(name.toLowerCase());
  const star = host.indexOf('*');
  if (host.startsWith('*.') && star === host.lastIndexOf('*') && host.length > 2) {
    first(index.head, host.slice(1), site);
  } else if (host.endsWith('.*') && star === host.length - 1 && host.length > 2) {
    first(index.tail, host.slice(0, -1), site);
  } else if (star !== -1) {
    return `invalid host "${name}": a wildcard may only be "*." at the start or ".*" at the end`;
  } else if (host.startsWith('.') && host.length > 1) {
    first(index.head, host, site);
    first(index.dotBare, host.slice(1), site);
  } else {
    first(index.exact, host, site);
  }
  return undefined;
}

/** nginx (ngx_http_validate_host) drops one trailing dot: `example.com.` is `example.com`. */
function stripDot(host: string): string {
  return host.length > 1 && host.charCodeAt(host.length - 1) === 0x2e ? host.slice(0, -1) : host;
}

function findSite(index: HostIndex, rawHost: string): CompiledSite | undefined {
  const host = stripDot(rawHost);
  const exact = index.exact.get(host);
  if (exact) return exact;
  if (index.head.size > 0) {
    const bare = index.dotBare.get(host);
    if (bare) return bare;
    // Suffixes from the longest: `.b.example.com`, then `.example.com`, then `.com`.
    for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
      const site = index.head.get(host.slice(dot));
      if (site) return site;
    }
  }
  if (index.tail.size > 0) {
    for (let dot = host.lastIndexOf('.', host.length - 2); dot > 0; dot = host.lastIndexOf('.', dot - 1)) {
      const site = index.tail.get(host.slice(0, dot + 1));
      if (site) return site;
    }
  }
  for (const { regex, site } of index.regex) {
    if (regex.test(host)) return site;
  }
  return undefined;
}
