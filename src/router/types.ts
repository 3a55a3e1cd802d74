// Contracts of the router room: site by Host, location by path, proxy_pass rewriting.
// Everything here is compiled once per config snapshot; the per-request calls are lookups.
import type { RouteConfig, SiteConfig } from '../config/types.js';
import type { Template } from '../middleware/variables.js';

export type LocationKind = 'exact' | 'prefix-no-regex' | 'prefix' | 'regex' | 'regex-ci' | 'named';

export interface CompiledLocation {
  kind: LocationKind;
  /** The path for exact/prefix kinds, the source for regex kinds, the name (without `@`) for named. */
  value: string;
  regex?: RegExp;
}

/** Where a `proxy:` points, parsed once. */
export interface ProxyTarget {
  /** `http`, `https`, `h2c`, `h2`, `fastcgi`, `uwsgi`, `scgi`. */
  scheme: string;
  /** Named upstream (from `upstreams:`), or undefined when the target is a literal address. */
  upstream?: string;
  /** `host:port` for a literal address (port defaulted from scheme), the unix socket path for `+unix`. */
  address?: string;
  /** The host as written (used for `$proxy_host` and the nginx-adapter `Host` header). */
  proxyHost: string;
  /** The URI part of proxy_pass, or undefined when there is none (nginx semantics differ). */
  uri?: string;
}

export interface CompiledRoute {
  /** Position of the route in its site's `routes` list. */
  index: number;
  location: CompiledLocation;
  config: RouteConfig;
  proxy?: ProxyTarget;
  /**
   * Set when the proxy URI part holds variables (`http://h/users/$1`): nginx then sends the
   * evaluated text as the whole URI, without appending the request's args.
   */
  proxyUriTemplate?: Template;
}

export interface CompiledSite {
  index: number;
  config: SiteConfig;
  routes: CompiledRoute[];
  /** Picks the location for a normalised path, in nginx order (=, longest prefix / ^~, regexes in order). */
  matchLocation(path: string): LocationMatch | undefined;
  /** A `location @name` route. */
  named(name: string): CompiledRoute | undefined;
}

export interface LocationMatch {
  route: CompiledRoute;
  /** Regex captures ($1..$9) when a regex location matched. */
  captures?: string[];
  /**
   * nginx's auto_redirect: the path equals a proxied prefix location minus its trailing slash
   * (and no exact location matched), so the answer is 301 to the path with the slash appended.
   */
  autoRedirect?: boolean;
}

export interface SiteTable {
  sites: CompiledSite[];
  defaultSite: CompiledSite;
  /** `host` is lower-case without port; falls back to the default site. */
  matchHost(host: string): CompiledSite;
  /** The site that lists `host` (by name, wildcard or regex), without the default-site fallback. */
  findHost(host: string): CompiledSite | undefined;
}
