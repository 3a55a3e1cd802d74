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
}

/** The admin listener (SPEC §6): loopback clients are always let in, `allow` adds CIDRs or addresses. */
export interface AdminConfig extends ListenAddress {
  allow?: string[];
}

export type LogTarget = 'stdout' | 'stderr' | 'off' | { file: string };

export interface LogConfig {
  access: LogTarget;
  format: 'combined' | 'json';
  error: LogTarget;
  level: 'error' | 'warn' | 'info' | 'debug';
}

export interface AcmeConfig {
  email?: string;
  /** Resolved URL of the ACME directory. */
  directory: string;
  /** Extra CA (absolute path) trusted for the directory's own HTTPS. */
  trust?: string;
  challenges: Array<'http-01' | 'tls-alpn-01'>;
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

export type SiteTls =
  | { kind: 'acme' }
  | { kind: 'internal' }
  | { kind: 'off' }
  /** Absolute paths of PEM files. */
  | { kind: 'files'; cert: string; key: string };

export interface HeaderOps {
  /** Header name (as written) → value template with nginx variables. An empty value removes. */
  set: Record<string, string>;
  /** Header names to remove. */
  remove: string[];
}

export interface HeadersConfig {
  request?: HeaderOps;
  response?: HeaderOps;
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

export interface RouteConfig {
  /** The location as written: `= /x`, `^~ /x`, `~ re`, `~* re`, `/prefix`, `@name`. */
  location: string;
  /** `http://host:port/uri`, `https://...`, an upstream name, `http://NAME/uri`, or another scheme. */
  proxy?: string;
  /** Absolute path of the document root. */
  root?: string;
  index: string[];
  tryFiles?: string[];
  /** Static files: symlinks whose target is outside the root are refused unless `follow` (default `inside`). */
  symlinks?: 'inside' | 'follow' | 'refuse';
  return?: ReturnConfig;
  headers?: HeadersConfig;
  cacheMs?: number;
  maxBody?: number;
  rateLimit?: RateLimitConfig;
  timeoutMs?: number;
  pos?: SourcePos;
}

export interface SiteConfig {
  /** Lower-case names: exact, `*.example.com`, or `~regex` (nginx adapter). */
  hosts: string[];
  default: boolean;
  tls: SiteTls;
  redirect: 'https' | 'off';
  hstsMs?: number;
  /** Encodings in preference order; empty when compression is off. */
  compress: Array<'br' | 'gzip' | 'zstd'>;
  headers?: HeadersConfig;
  rateLimit?: RateLimitConfig;
  maxBody?: number;
  routes: RouteConfig[];
  pos?: SourcePos;
}

export interface Config {
  /** Absolute path of the file this came from. */
  file: string;
  /** `native` for YAML/JSON, `nginx` when read through the nginx adapter (changes some defaults, SPEC §3). */
  origin: 'native' | 'nginx';
  listen: { http: ListenAddress[]; https: ListenAddress[] };
  admin?: AdminConfig;
  drainTimeoutMs: number;
  /** Absolute folder path, or a `redis://` URL. */
  storage: string;
  /** CIDRs (or bare addresses) whose X-Forwarded-For is trusted. */
  trustedProxies: string[];
  log: LogConfig;
  acme?: AcmeConfig;
  upstreams: Record<string, UpstreamConfig>;
  sites: SiteConfig[];
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
