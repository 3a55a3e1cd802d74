// Contracts of the router room: site by Host, location by path, proxy_pass rewriting.
// Everything here is compiled once per config snapshot; the per-request calls are lookups.
import type { RouteConfig, SiteConfig } from '../config/types.js';
import type { CompiledLocation } from '../config/location-spec.js';
import type { ProxyTarget } from '../config/upstream-url.js';
import type { FastCgiPathRule } from '../http/fastcgi-path.js';
import type { Template } from '../http/variables.js';

export type { CompiledLocation, LocationKind } from '../config/location-spec.js';
export type { ProxyTarget } from '../config/upstream-url.js';

export interface CompiledRoute {
  /** Position of the route in its site's routes, nested ones included (depth first). */
  index: number;
  /** The route this one is nested in. */
  parent?: CompiledRoute;
  /** A regex location's `alias` with variables (`/home/$1/www/$2`), evaluated per request. */
  aliasTemplate?: Template;
  location: CompiledLocation;
  config: RouteConfig;
  proxy?: ProxyTarget;
  /**
   * Set when the proxy URI part holds variables (`http://h/users/$1`): nginx then sends the
   * evaluated text as the whole URI, without appending the request's args.
   */
  proxyUriTemplate?: Template;
  /** A FastCGI route's path split, for $fastcgi_script_name and $fastcgi_path_info in any template. */
  fastcgi?: FastCgiPathRule;
}

export interface CompiledSite {
  index: number;
  config: SiteConfig;
  /** Every route, nested ones included, parents before their nested routes. */
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
  /** issue 17: rewrite — its named captures, which nginx makes variables ($name). */
  groups?: Record<string, string | undefined>;
  /**
   * nginx's auto_redirect: the path equals a proxied prefix location minus its trailing slash
   * (and no exact location matched), so the answer is 301 to the path with the slash appended.
   */
  autoRedirect?: boolean;
  /**
   * issue 17: rewrite — the URI was rewritten in this location and it stays (rewrite ... break):
   * nginx's r->valid_location = 0, so proxy_pass sends the whole new URI, not its URI part.
   */
  rewritten?: boolean;
}

export interface SiteTable {
  sites: CompiledSite[];
  defaultSite: CompiledSite;
  /** `host` is lower-case without port; falls back to the default site. */
  matchHost(host: string): CompiledSite;
  /** The site that lists `host` (by name, wildcard or regex), without the default-site fallback. */
  findHost(host: string): CompiledSite | undefined;
  /**
   * issue 18: the table of one listener port (its sites, names and default; README "Sites" `listen`).
   * Without sites bound to ports it is this table itself, so the lookup costs nothing then.
   */
  forPort(port: number): SiteTable;
}
