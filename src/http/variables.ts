// nginx-style variable templates ("$host", "${scheme}://$host$request_uri"), compiled once per config.
import os from 'node:os';
import { msec, timeIso8601, timeLocal } from './time-vars.js';
import type { VarSource } from './vars-types.js';
import { compileMap, type CompiledMap, type MapDefinition } from './var-map.js';
import { escapedPem, rfc2253, sha1Fingerprint, tabbedPem } from './client-cert.js';

export type Template = ((v: VarSource) => string) & { readonly constant: boolean; readonly source: string };

export type Getter = (v: VarSource) => string;

/** $hostname, read once, as nginx reads it at start. */
let hostname: string | undefined;

const GETTERS: Record<string, Getter> = {
  host: (v) => v.host,
  remote_addr: (v) => v.remoteAddr,
  remote_port: (v) => String(v.remotePort),
  scheme: (v) => v.scheme,
  https: (v) => (v.scheme === 'https' ? 'on' : ''),
  server_port: (v) => String(v.serverPort),
  server_name: (v) => v.serverName,
  request_uri: (v) => v.requestUri,
  uri: (v) => v.uri,
  document_uri: (v) => v.uri,
  args: (v) => v.args,
  query_string: (v) => v.args,
  is_args: (v) => (v.args ? '?' : ''),
  request_method: (v) => v.method ?? '',
  server_addr: (v) => v.serverAddr ?? '',
  server_protocol: (v) => v.serverProtocol ?? '',
  request_scheme: (v) => v.scheme,
  content_type: (v) => v.contentType ?? '',
  content_length: (v) => v.contentLength ?? '',
  document_root: (v) => v.documentRoot ?? '',
  request_filename: (v) => v.requestFilename ?? '',
  fastcgi_script_name: (v) => v.fastcgiScriptName ?? v.uri,
  fastcgi_path_info: (v) => v.fastcgiPathInfo ?? '',
  proxy_host: (v) => v.proxyHost,
  proxy_add_x_forwarded_for: (v) => v.proxyAddXForwardedFor,
  // issue 17: logs. The variables of the access log and of nginx's core, upstream and SSL modules.
  realpath_root: (v) => v.realpathRoot ?? '',
  upstream_addr: (v) => v.upstreamAddr ?? '',
  upstream_status: (v) => v.upstreamStatus ?? '',
  upstream_response_time: (v) => v.upstreamResponseTime ?? '',
  upstream_header_time: (v) => v.upstreamHeaderTime ?? '',
  upstream_connect_time: (v) => v.upstreamConnectTime ?? '',
  upstream_cache_status: (v) => v.upstreamCacheStatus ?? '',
  ssl_protocol: (v) => v.sslProtocol ?? '',
  ssl_cipher: (v) => v.sslCipher ?? '',
  ssl_server_name: (v) => v.sslServerName ?? '',
  ssl_session_reused: (v) => v.sslSessionReused ?? '',
  ssl_alpn_protocol: (v) => v.sslAlpnProtocol ?? '',
  ssl_client_verify: (v) => v.sslClientVerify ?? '',
  // issue 19: mTLS (http/client-cert.ts); '' without a client certificate, as nginx gives.
  ssl_client_s_dn: (v) => (v.sslClientCertificate ? rfc2253(v.sslClientCertificate.subject) : ''),
  ssl_client_i_dn: (v) => (v.sslClientCertificate ? rfc2253(v.sslClientCertificate.issuer) : ''),
  ssl_client_serial: (v) => v.sslClientCertificate?.serialNumber ?? '',
  ssl_client_fingerprint: (v) => (v.sslClientCertificate ? sha1Fingerprint(v.sslClientCertificate) : ''),
  ssl_client_cert: (v) => (v.sslClientCertificate ? tabbedPem(v.sslClientCertificate) : ''),
  ssl_client_escaped_cert: (v) => (v.sslClientCertificate ? escapedPem(v.sslClientCertificate) : ''),
  hostname: () => (hostname ??= os.hostname()),
  pid: () => String(process.pid),
  time_local: () => timeLocal(),
  time_iso8601: () => timeIso8601(),
  msec: () => msec(),
  request_id: (v) => v.requestId ?? '',
  request: (v) => v.request ?? '',
  status: (v) => v.status ?? '000',
  body_bytes_sent: (v) => v.bodyBytesSent ?? '0',
  bytes_sent: (v) => v.bytesSent ?? '0',
  request_time: (v) => v.requestTime ?? '',
  request_length: (v) => v.requestLength ?? '',
  remote_user: (v) => v.remoteUser ?? '',
  connection: (v) => v.connection ?? '',
  connection_requests: (v) => v.connectionRequests ?? '',
  nginx_version: (v) => v.version ?? '',
  gatehouse_version: (v) => v.version ?? '',
};

/** Every plain variable name (not $http_*, $cookie_*, $arg_*, $1..$9), for config hints. */
export const VARIABLE_NAMES: readonly string[] = Object.keys(GETTERS);

// issue 17: rewrite — nginx declares `set` and `map` variables for the whole configuration, so a
// template anywhere may name one; the config being loaded declares them before its templates compile.
interface Declared {
  readonly users: ReadonlySet<string>;
  readonly maps: ReadonlyMap<string, MapDefinition>;
}
let declared: Declared = { users: new Set(), maps: new Map() };

/** The user variables (without `$`) and maps of the config being loaded; replaces the previous ones. */
export function declareUserVariables(names: Iterable<string>, maps: Iterable<MapDefinition> = []): void {
  const byName = new Map([...maps].map((m) => [m.name, m]));
  declared = { users: new Set([...names, ...byName.keys()]), maps: byName };
}

/** The declared user variable names, for config hints. */
export function userVariableNames(): readonly string[] {
  return [...declared.users];
}

function userGetter(name: string, scope: Declared): Getter | undefined {
  const def = scope.maps.get(name);
  if (def) {
    // Compiled on first use (a map's templates may name maps declared after it), against the
    // declarations the template was compiled under, not those of a config loaded since.
    let compiled: CompiledMap | undefined;
    const compute = (v: VarSource): string => (compiled ??= compileMap(def, (s) => compileIn(s, scope))).evaluate(v);
    return (v) => (v.cachedMap ? v.cachedMap(name, () => compute(v)) : compute(v));
  }
  // An unset but declared variable is '' (nginx's "using uninitialized variable").
  if (scope.users.has(name)) return (v) => v.getUser?.(name) ?? '';
  return undefined;
}

/** The getter of `$name` (user variables and maps: those of the config being loaded); throws `unknown variable "$name"`. */
export function getterFor(name: string, scope: Declared = declared): Getter {
  const known = GETTERS[name];
  if (known) return known;
  const user = userGetter(name, scope);
  if (user) return user;
  if (/^[1-9]$/.test(name)) {
    const i = Number(name) - 1;
    return (v) => v.captures?.[i] ?? '';
  }
  if (name.startsWith('http_') && name.length > 5) {
    const header = name.slice(5).replace(/_/g, '-').toLowerCase();
    return (v) => v.header(header) ?? '';
  }
  if (name.startsWith('sent_http_') && name.length > 10) {
    const header = name.slice(10).replace(/_/g, '-').toLowerCase();
    return (v) => v.sentHeader?.(header) ?? '';
  }
  if (name.startsWith('upstream_http_') && name.length > 14) {
    const header = name.slice(14).replace(/_/g, '-').toLowerCase();
    return (v) => v.upstreamHeader?.(header) ?? '';
  }
  if (name.startsWith('cookie_') && name.length > 7) {
    const cookie = name.slice(7);
    return (v) => readCookie(v.header('cookie'), cookie);
  }
  if (name.startsWith('arg_') && name.length > 4) {
    const arg = name.slice(4).toLowerCase();
    return (v) => argValue(v.args, arg);
  }
  throw new Error(`unknown variable "$${name}"`);
}

/**
 * nginx's ngx_http_arg: the raw bytes after the first `NAME=` that starts the args or follows a
 * `&`, up to the next `&`; NAME compared ASCII case-insensitively (ngx_strlcasestrn), '' when
 * absent. Not percent-decoded and `+` kept: a decoded value would put CR/LF from `%0d%0a` into
 * the headers and redirects built from it (security review F8). `name` is lower-case.
 */
export function argValue(args: string, name: string): string {
  const n = name.length;
  for (let start = 0; start + n < args.length; ) {
    if (args.charCodeAt(start + n) === 0x3d /* = */ && sameAsciiLower(args, start, name)) {
      const end = args.indexOf('&', start + n + 1);
      return args.slice(start + n + 1, end === -1 ? args.length : end);
    }
    const amp = args.indexOf('&', start);
    if (amp === -1) break;
    start = amp + 1;
  }
  return '';
}

function sameAsciiLower(s: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = s.charCodeAt(at + i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

function readCookie(header: string | undefined, name: string): string {
  if (!header) return '';
  for (const part of header.split(/;\s*/)) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq) === name) return part.slice(eq + 1);
  }
  return '';
}

/** Throws `unknown variable "$x"` for names nginx would reject, so config load can report them. */
export function compileTemplate(source: string): Template {
  return compileIn(source, declared);
}

function compileIn(source: string, scope: Declared): Template {
  const parts: Array<string | Getter> = [];
  const re = /\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z_][A-Za-z0-9_]*|[1-9]))/g;
  let last = 0;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    if (m.index > last) parts.push(source.slice(last, m.index));
    parts.push(getterFor((m[1] ?? m[2]) as string, scope));
    last = m.index + m[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  let fn: (v: VarSource) => string;
  if (parts.every((p) => typeof p === 'string')) {
    const text = parts.join('');
    fn = () => text;
  } else if (parts.length === 1) {
    fn = parts[0] as Getter;
  } else {
    fn = (v) => {
      let out = '';
      for (const p of parts) out += typeof p === 'string' ? p : p(v);
      return out;
    };
  }
  return Object.assign(fn, { constant: parts.every((p) => typeof p === 'string'), source });
}
