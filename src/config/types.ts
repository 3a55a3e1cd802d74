// The validated, normalised configuration: what every other room reads. It is produced by
// `loadConfig` (native YAML/JSON) or by the nginx adapter, and never mutated afterwards:
// a reload builds a new one.

/** Where a value came from in the config file, for messages like `FILE:LINE:COL: ...`. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

/** A listening address. `host` undefined means every interface (IPv4 and IPv6). */
export interface ListenAddress {
  host?: string;
  port: number;
  /** README "Behind a load balancer": read a PROXY protocol header (v1 or v2) from peers in `trusted` (CIDRs or addresses), refuse everyone else. */
  proxyProtocol?: { trusted: string[] };
}

/** The admin listener (README "Operations"): loopback clients are always let in, `allow` adds CIDRs or addresses. */
export interface AdminConfig extends ListenAddress {
  allow?: string[];
  /** Host names (lower-case, no port) a client may use for it besides IP addresses and `localhost` (DNS rebinding). */
  hosts?: string[];
}

/**
 * Client-side timers, nginx's names and defaults (README "Security defaults"): the request head
 * (client_header_timeout), between two reads of the body (client_body_timeout), between two
 * writes the client takes nothing (send_timeout), and an idle keep-alive connection
 * (keepalive_timeout; an HTTP/2 connection with no open stream).
 */
import type { CompiledLocation } from './location-spec.js';
import type { ProxyTarget } from './upstream-url.js';
export type { ClientTimeouts } from '../http/exchange.js';
import type { ClientTimeouts } from '../http/exchange.js';

/**
 * How request bodies that must be read whole are held (nginx's client_body_buffer_size and
 * client_body_temp_path): in memory up to `memoryBytes`, then in a temporary file, at most
 * `tempMaxBytes` per request (413 past it) and `tempTotalBytes` for all requests (507 past it).
 */
export interface BodyBufferConfig {
  memoryBytes: number;
  /** Absolute folder for the temporary files; the system's temp folder when unset. */
  tempDir?: string;
  tempMaxBytes: number;
  tempTotalBytes: number;
}

export type LogTarget = 'stdout' | 'stderr' | 'off' | { file: string };

/** issue 17: logs. A `log.formats` entry: nginx's log_format NAME [escape=...] TEMPLATE. */
export interface LogFormatConfig {
  format: string;
  escape: 'default' | 'json' | 'none';
}

/**
 * issue 17: logs. A site's or route's `accessLog` (nginx access_log): off, or lines in `format`
 * (a name; unset: log.format) to `file` (absolute; unset: log.access).
 */
export type AccessLogSetting = 'off' | { format?: string; file?: string };

export interface LogConfig {
  access: LogTarget;
  /** `combined`, `json` or a name of `formats`. */
  format: string;
  /** issue 17: logs. Named formats (`log.formats`); `combined` and `json` are predefined. */
  formats: Record<string, LogFormatConfig>;
  error: LogTarget;
  level: 'error' | 'warn' | 'info' | 'debug';
}

export interface DnsServerAddress {
  host: string;
  port: number;
}

/** Where and how a provider writes the `_acme-challenge` TXT records (README "DNS-01 and wildcard certificates"). */
export type AcmeDnsProviderConfig =
  | { provider: 'rfc2136'; server: DnsServerAddress; zone?: string; tsig?: { name: string; algorithm: 'hmac-sha256' | 'hmac-sha512'; secret: string } }
  | { provider: 'exec'; command: string[] }
  | { provider: 'cloudflare'; apiToken: string; zoneId?: string; endpoint: string };

export type AcmeDnsConfig = AcmeDnsProviderConfig & {
  /** The recursive resolver used to find the zone's authoritative servers (default: the system's). */
  resolver?: DnsServerAddress;
  /** Ask these servers instead of the zone's NS records. */
  nameservers?: DnsServerAddress[];
  propagationTimeoutMs: number;
  propagationIntervalMs: number;
  /** TTL of the TXT records, seconds. */
  ttl: number;
};

/** One CA an order can go to (README "Several CAs: acme.issuers"); every key already inherited. */
export interface AcmeIssuerConfig {
  directory: string;
  trust?: string;
  challenges: AcmeConfig['challenges'];
  key: AcmeConfig['key'];
  email?: string;
  eab?: { kid: string; hmac: string };
  profile?: string;
}

export interface AcmeConfig {
  email?: string;
  /** Resolved URL of the ACME directory (the first of `issuers` when they are given). */
  directory: string;
  /** `acme.issuers`, tried in this order per order attempt; absent when the config has only `directory`. */
  issuers?: AcmeIssuerConfig[];
  /** Extra CA (absolute path) trusted for the directory's own HTTPS. */
  trust?: string;
  challenges: Array<'http-01' | 'tls-alpn-01' | 'dns-01'>;
  /** issue 19: how DNS-01 records are written and when the CA is told (config/acme-dns.ts). */
  dns?: AcmeDnsConfig;
  key: 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048' | 'rsa-4096';
  renewBeforeMs?: number;
  eab?: { kid: string; hmac: string };
  profile?: string;
  onDemand?: { ask: string };
}

export interface UpstreamServerConfig {
  /** Absolute URL, e.g. `http://127.0.0.1:8001`, `https://app.internal:443`. */
  url: string;
  weight: number;
  backup: boolean;
}

export interface UpstreamTlsConfig {
  /** Absolute path of a PEM bundle to trust instead of the system roots. */
  ca?: string;
  servername?: string;
  insecure: boolean;
  /** issue 19: absolute paths of the client certificate (PEM chain) and its key, for backends that ask for one. */
  cert?: string;
  key?: string;
  /** issue 19: the protocol versions offered; unset: Node's client defaults (TLS 1.2 and 1.3). */
  protocols?: TlsProtocolRange;
}

/** issue 19: one contiguous range of TLS versions, as Node's minVersion/maxVersion. */
export interface TlsProtocolRange {
  min: 'TLSv1.2' | 'TLSv1.3';
  max: 'TLSv1.2' | 'TLSv1.3';
}

/**
 * issue 19: a listener's or site's handshake settings (config/tls-policy.ts); a member left unset keeps
 * the default of tls/tls-options.ts (Mozilla "intermediate").
 */
export interface TlsPolicy {
  protocols?: TlsProtocolRange;
  /** OpenSSL names of TLS 1.2 suites, in preference order. */
  ciphers?: string[];
  /** Key-exchange groups (Node's ecdhCurve), in preference order. */
  curves?: string[];
  /** nginx's ssl_prefer_server_ciphers (Node's honorCipherOrder). */
  preferServerCiphers?: boolean;
}

export interface UpstreamConfig {
  name: string;
  servers: UpstreamServerConfig[];
  balance: 'round-robin' | 'least-conn' | 'ip-hash' | 'random-two';
  maxFails: number;
  failTimeoutMs: number;
  health?: { path: string; intervalMs: number; timeoutMs: number; status: number };
  retries: number;
  timeouts: { connectMs: number; readMs: number; sendMs: number };
  keepalive: number;
  tls?: UpstreamTlsConfig;
  pos?: SourcePos;
}

export type SiteTls = (
  | { kind: 'acme' }
  | { kind: 'internal' }
  | { kind: 'off' }
  /** Absolute paths of PEM files. */
  | { kind: 'files'; cert: string; key: string }
) & {
  /** issue 19: the top-level `tls:` policy with the site's own keys over it; unset: the defaults. */
  policy?: TlsPolicy;
  /** issue 19: mTLS (README "Client certificates (mTLS)"). */
  clientAuth?: ClientAuthConfig;
};

/** issue 19: mTLS — nginx's ssl_verify_client, ssl_client_certificate, ssl_verify_depth (README "Client certificates (mTLS)"). */
export interface ClientAuthConfig {
  mode: 'require' | 'optional' | 'optional_no_ca';
  /** Absolute path of the PEM bundle of trusted CAs, and its text as read when the config was loaded. */
  ca?: string;
  caPem?: string;
  /** nginx's ssl_verify_depth: how many CA certificates above the client's may make up its chain. */
  depth: number;
}

export type { HeaderOps } from '../http/header-ops.js';
import type { HeaderOps } from '../http/header-ops.js';

export interface HeadersConfig {
  request?: HeaderOps;
  response?: HeaderOps;
}

// issue 17: error pages and response headers (config/error-pages.ts, config/response-headers.ts).

/** One `errorPages` entry (nginx error_page). */
export interface ErrorPageConfig {
  /** `=CODE`: the status the page is answered with; `=` alone: 0, the status of the page's own response; unset: the error's status. */
  overwrite?: number;
  /** A URI (internal redirect, may hold variables and `?args`), `@name`, or a URL (a redirect). */
  target: string;
}

/** Status → page. */
export type ErrorPagesConfig = Readonly<Record<number, ErrorPageConfig>>;

export type { ExpiresConfig } from '../http/expires.js';
export type { CharsetConfig } from '../http/charset.js';
import type { CharsetConfig } from '../http/charset.js';
import type { ExpiresConfig } from '../http/expires.js';

/** One `proxyRedirect` rule: `default` (from the proxy URL to the location), or a prefix / `~` regex. */
export type ProxyRedirectRule = 'default' | { from: string; to: string };

/** The issue-17 keys a site and a route may both have; a route's own value wins over its site's. */
export interface ResponseKeys {
  errorPages?: ErrorPagesConfig;
  interceptErrors?: boolean;
  /** nginx's proxy_next_upstream http_*: answers with these statuses go to the next server while one is left (upstream `retries`). */
  retryStatuses?: number[];
  /** `off` is kept (it overrides a site's value). */
  expires?: ExpiresConfig | 'off';
  /** `off`, or rules tried in order; unset: `default` (nginx's proxy_redirect default). */
  proxyRedirect?: 'off' | ProxyRedirectRule[];
  /** Lower-case names. */
  proxyHideHeaders?: string[];
  proxyPassHeaders?: string[];
  /** issue 18: nginx's charset + charset_types, made one rule (config/charset.ts); `off` is kept. */
  charset?: CharsetConfig;
}

export interface RateLimitConfig {
  /** Requests per second. `10r/m` becomes 1/6. */
  ratePerSec: number;
  burst: number;
}

export interface ReturnConfig {
  status: number;
  /** URL for 301/302/303/307/308, body text otherwise; may hold variables. */
  text?: string;
}

// issue 17: rewrite — nginx's rewrite module (rewrite, return, set, break, if) and map module.
export type { MapDefinition } from '../http/var-map.js';
import type { MapDefinition } from '../http/var-map.js';

export type RewriteFlag = 'last' | 'break' | 'redirect' | 'permanent';
export type FileTest = '-f' | '!-f' | '-d' | '!-d' | '-e' | '!-e' | '-x' | '!-x';

/** An `if (...)` condition as nginx's ngx_http_rewrite_if_condition reads it; values are templates. */
export type RewriteCondition =
  | { op: 'value'; value: string }
  | { op: '=' | '!='; left: string; right: string }
  | { op: '~' | '~*' | '!~' | '!~*'; left: string; regex: string }
  | { op: FileTest; path: string };

export type RewriteStep =
  | { kind: 'rewrite'; regex: string; replacement: string; flag?: RewriteFlag; pos?: SourcePos }
  | { kind: 'set'; name: string; value: string; pos?: SourcePos }
  | { kind: 'return'; status: number; text?: string; pos?: SourcePos }
  | { kind: 'break'; pos?: SourcePos }
  | { kind: 'if'; condition: RewriteCondition; source: string; then: RewriteStep[]; pos?: SourcePos };

// issue 17: access
/** nginx allow/deny: `all`, `unix:`, an address or a CIDR (as written), first match wins. */
export interface AccessRule {
  action: 'allow' | 'deny';
  source: string;
}

/** nginx auth_basic + auth_basic_user_file; `off` in a child turns an inherited one off. */
export type AuthConfig = 'off' | { realm: string; htpasswd: string };

/** nginx auth_request (+ auth_request_set), Caddy forward_auth's copy_headers. */
export type ForwardAuthConfig =
  | 'off'
  | {
      url: string;
      /** Auth-response headers (as written) put on the request sent on, replacing the client's. */
      copyHeaders: string[];
      /** `$name` → template over the request's variables and `$upstream_http_*` of the auth response. */
      set: Record<string, string>;
      timeoutMs: number;
    };

/** The access phase settings a site or route may write; each inherited whole (config/access.ts). */
export interface AccessSettings {
  access?: AccessRule[];
  auth?: AuthConfig;
  satisfy?: 'all' | 'any';
  forwardAuth?: ForwardAuthConfig;
}

/**
 * One FastCGI / uwsgi / SCGI parameter of the user (nginx `fastcgi_param NAME VALUE [if_not_empty]`),
 * sent besides the stock ones (transport/cgi/params.ts), replacing a stock one of the same name.
 */
export interface CgiParamConfig {
  name: string;
  /** A template with nginx variables. */
  value: string;
  /** nginx's if_not_empty: not sent when the value comes out empty. */
  ifNotEmpty: boolean;
}

export interface RouteConfig extends AccessSettings, ResponseKeys {
  /** The location as written: `= /x`, `^~ /x`, `~ re`, `~* re`, `/prefix`, `@name`. */
  location: string;
  /** The location as the loader compiled it (config/location-spec.ts): the router takes it as is. */
  locationSpec?: CompiledLocation;
  /** `http://host:port/uri`, `https://...`, an upstream name, `http://NAME/uri`, or another scheme. */
  proxy?: string;
  /** `proxy` as the loader parsed it (config/upstream-url.ts): the router takes it as is. */
  proxyTarget?: ProxyTarget;
  /** Absolute path of the document root. */
  root?: string;
  index: string[];
  tryFiles?: string[];
  /** Static files: symlinks whose target is outside the root are refused unless `follow` (default `inside`). */
  symlinks?: 'inside' | 'follow' | 'refuse';
  return?: ReturnConfig;
  headers?: HeadersConfig;
  cacheMs?: number;
  /** Bytes; 0 means no limit. Unset: the site's, else the top-level `maxBody`. */
  maxBody?: number;
  rateLimit?: RateLimitConfig;
  timeoutMs?: number;
  /**
   * Read the whole body before the upstream is contacted (nginx's *_request_buffering); unset: on
   * for FastCGI, uwsgi and SCGI, off (streamed) for HTTP upstreams.
   */
  requestBuffering?: boolean;
  /** `Upgrade` protocols tunnelled to the upstream (lower-case); unset: `websocket` only. */
  upgrade?: string[];
  /** A tunnel with no byte either way for this long is closed; unset: 60 s (nginx's proxy_read_timeout). */
  tunnelIdleMs?: number;
  /** issue 17: logs. Replaces the site's. */
  accessLog?: AccessLogSetting;
  // issue 17: nest
  /** nginx `alias`: the folder the location's part of the path is replaced with (own or inherited). */
  alias?: AliasConfig;
  /** nginx `internal`: only internal redirects (tryFiles, errorPages, rewrite `last`) reach it; others get 404. */
  internal?: boolean;
  /** Nested locations, searched nginx's way once this one matches (router/site-locations.ts). */
  routes?: RouteConfig[];
  /** The `location: /` a site with `root` and no "/" route serves its files with (config/routes.ts). */
  implicit?: boolean;
  // issue 17: rewrite
  /** Location-level rewrite directives (nginx's rewrite phase), in written order. */
  rewrite?: RewriteStep[];
  /** FastCGI / uwsgi / SCGI routes: the user's parameters in written order (own or inherited, never merged). */
  params?: CgiParamConfig[];
  /** FastCGI routes (nginx fastcgi_split_path_info): a regex source with two captures; unset or true: ^(.+?\.php)(/.*)$; false: no split. */
  splitPathInfo?: boolean | string;
  pos?: SourcePos;
}

/**
 * `alias` as nginx keeps it: the path (absolute, a trailing slash kept; it may hold variables in
 * a regex location) and the location that declared it, whose prefix is the part of the path
 * replaced (a nested route inherits both: nginx's clcf->alias is the declaring location's length).
 */
export interface AliasConfig {
  path: string;
  location: CompiledLocation;
}

export interface SiteConfig extends AccessSettings, ResponseKeys {
  /** Lower-case names: exact, `*.example.com`, or `~regex` (nginx adapter). */
  hosts: string[];
  /** issue 18: the listener ports the site is bound to (nginx `listen` per server); unset: every listener. */
  listen?: number[];
  default: boolean;
  /** issue 18: with `default`, the ports it is the default on (`default: [PORTS]`); unset: all of its ports. */
  defaultPorts?: number[];
  tls: SiteTls;
  redirect: 'https' | 'off';
  hstsMs?: number;
  /** Encodings in preference order; empty when compression is off. */
  compress: Array<'br' | 'gzip' | 'zstd'>;
  /** Compress proxied responses to requests with Cookie or Authorization too (BREACH; default false). */
  compressAuthenticated: boolean;
  /** issue 18: nginx's gzip_types, gzip_min_length, gzip_vary, gzip_proxied (middleware/compress-nginx.ts). */
  compressRules?: CompressRules;
  headers?: HeadersConfig;
  rateLimit?: RateLimitConfig;
  maxBody?: number;
  /** The top-level timers with the site's own values applied. */
  timeouts: ClientTimeouts;
  /** Pass request headers whose names contain "_" (nginx underscores_in_headers); default false. */
  underscoresInHeaders: boolean;
  /** issue 17: logs. Unset: log.access in log.format. */
  accessLog?: AccessLogSetting;
  // issue 17: nest (site-level defaults; the routes hold the inherited values already)
  root?: string;
  index?: string[];
  routes: RouteConfig[];
  // issue 17: rewrite
  /** Server-level rewrite directives (nginx's server-rewrite phase, before the location search). */
  rewrite?: RewriteStep[];
  /** The site's `params` (the routes hold the inherited ones already). */
  params?: CgiParamConfig[];
  pos?: SourcePos;
}

/** Top-level `cache:`: where routes with `cache:` keep responses (src/cache/). */
export interface CacheStoreConfig {
  memoryBytes: number;
  /** Responses larger than this pass through uncached. */
  maxObjectBytes: number;
  /** Absolute folder of the disk store, which survives restarts; none when unset. */
  disk?: { dir: string; maxBytes: number };
}

export interface Config {
  /** Absolute path of the file this came from. */
  file: string;
  /** `native` for YAML/JSON, `nginx` when read through the nginx adapter (changes some defaults, README "What reaches the backend"). */
  origin: 'native' | 'nginx';
  listen: { http: ListenAddress[]; https: ListenAddress[] };
  admin?: AdminConfig;
  drainTimeoutMs: number;
  /** Absolute folder path, or a `redis://` URL. */
  storage: string;
  /** CIDRs (or bare addresses) whose X-Forwarded-For is trusted. */
  trustedProxies: string[];
  timeouts: ClientTimeouts;
  /** nginx's client_max_body_size for every site and route that sets none: 1m; 0 means no limit. */
  maxBody: number;
  bodyBuffer: BodyBufferConfig;
  /** Only when the section is written; src/cache/ fills in the defaults. */
  cache?: CacheStoreConfig;
  log: LogConfig;
  acme?: AcmeConfig;
  /** issue 19: top-level `tls:`, the default policy of every site and of certificates made at runtime. */
  tls?: TlsPolicy;
  upstreams: Record<string, UpstreamConfig>;
  sites: SiteConfig[];
  // issue 17: rewrite
  /** `maps:`, nginx's map blocks; also declared to the templates (http/variables.ts). */
  maps?: MapDefinition[];
  /** Only when `mimeTypes` is written: nginx's rules for static Content-Types (handler/content-types.ts). */
  mimeTypes?: MimeTypesConfig;
}

/** nginx's types and default_type (its charset is a site's and route's `charset`). */
export interface MimeTypesConfig {
  /** Lower-case extension → type; undefined: the built-in table (mime-types). */
  byExtension: Map<string, string> | undefined;
  defaultType: string;
}

/** One problem found in a config file. `warning` ones do not make the config invalid. */
export interface ConfigIssue {
  pos: SourcePos;
  message: string;
  severity: 'error' | 'warning';
}

export class ConfigError extends Error {
  readonly code = 'ECONFIG';
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}

export function formatIssue(issue: ConfigIssue): string {
  const where = `${issue.pos.file}:${issue.pos.line}:${issue.pos.col}`;
  return issue.severity === 'warning' ? `${where}: warning: ${issue.message}` : `${where}: ${issue.message}`;
}

/** A site's `compressRules`: what nginx's gzip filter compresses, instead of gatehouse's own choice. */
export interface CompressRules {
  /** Lower-case media types besides text/html (always); `*` for any. */
  types: ReadonlySet<string>;
  /** A known Content-Length under this is sent as it is (gzip_min_length, default 20). */
  minLength: number;
  /** gzip_vary: `Vary: Accept-Encoding` on every response the filter takes up. */
  vary: boolean;
  /** gzip_proxied any: requests that came through a proxy (`Via`) are compressed too. */
  proxied: boolean;
}
