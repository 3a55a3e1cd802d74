// The nginx tree as a raw gatehouse config (the value a YAML file would hold): the main and http
// levels, then one site per server block. Three input shapes are read the same way: a whole
// nginx.conf (`events`, `http { include sites-enabled/*; }`), a server-block file, and a fragment
// meant for inclusion inside `http {}` (top-level upstream, map, log_format, server).
import type { RawConfig, RawListenEntry, RawLogFormat, RawMap, RawTimeouts } from '../../schema.js';
import type { SourcePos } from '../../types.js';
import type { NginxDirective } from '../ast.js';
import { AdaptCtx, flag, Refused } from './context.js';
import { translateServer, type HttpLevel, type ListenSocket, type TranslatedServer } from './server.js';
import { emptyLayer, readSetting } from './settings.js';
import { finishMime, readMimeDirective } from './mime.js';
import { AdaptState, UPSTREAM_TIMERS, upstreamTimerOutsideLocation } from './targets.js';
import { dropConflictingNames } from './server-names.js';
import { siteTls, type TlsLevel } from './tls.js';
import { nginxDuration, nginxSize } from './values.js';

/** Directives of nginx's main context (outside `http`), which a server file may not hold. */
const MAIN_ONLY = new Set(['events', 'user', 'group', 'pid', 'worker_processes', 'worker_rlimit_nofile', 'worker_cpu_affinity', 'worker_priority', 'worker_shutdown_timeout', 'daemon', 'master_process', 'pcre_jit', 'thread_pool', 'timer_resolution', 'env', 'load_module', 'lock_file', 'working_directory', 'worker_rlimit_core', 'debug_points', 'ssl_engine']);

const CLIENT_TIMERS: Record<string, keyof RawTimeouts> = {
  client_header_timeout: 'header',
  client_body_timeout: 'body',
  send_timeout: 'send',
  keepalive_timeout: 'keepalive',
};

const ERROR_LEVELS: Record<string, 'debug' | 'info' | 'warn' | 'error'> = {
  debug: 'debug',
  info: 'info',
  notice: 'info',
  warn: 'warn',
  error: 'error',
  crit: 'error',
  alert: 'error',
  emerg: 'error',
};

export function translateNginx(ctx: AdaptCtx, tree: NginxDirective[]): RawConfig {
  const raw: RawConfig = { defaults: 'nginx', sites: [] };
  if (ctx.options.storage !== undefined) raw.storage = ctx.options.storage;
  if (ctx.options.acmeDirectory !== undefined) raw.acme = { directory: ctx.options.acmeDirectory };
  const httpBlocks = tree.filter((d) => d.name === 'http');
  ctx.fragment = httpBlocks.length === 0;
  if (httpBlocks.length > 1) ctx.error(httpBlocks[1]!.pos, '"http" directive is duplicate');
  let httpBody: NginxDirective[];
  if (httpBlocks.length === 1) {
    for (const d of tree) {
      if (d.name === 'http') continue;
      try {
        mainDirective(ctx, raw, d);
      } catch (err) {
        if (!(err instanceof Refused)) throw err;
      }
    }
    httpBody = httpBlocks[0]!.block ?? [];
  } else {
    httpBody = tree.filter((d) => {
      if (!MAIN_ONLY.has(d.name) && d.name !== 'error_log') return true;
      try {
        mainDirective(ctx, raw, d);
      } catch (err) {
        if (!(err instanceof Refused)) throw err;
      }
      return false;
    });
  }
  const state = new AdaptState(ctx);
  // nginx resolves upstream names, limit_req zones and cache zones after the whole http block is read.
  for (const d of httpBody) {
    try {
      if (d.name === 'upstream') state.upstream(d);
      else if (d.name === 'limit_req_zone') state.limitReqZone(d);
      else if (d.name === 'proxy_cache_path' || d.name === 'fastcgi_cache_path') state.cachePath(d);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
    }
  }
  const http: HttpLevel = { layer: emptyLayer(), tls: {}, timeouts: {} };
  const servers: NginxDirective[] = [];
  for (const d of httpBody) {
    try {
      httpDirective(ctx, state, raw, http, servers, d);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
    }
  }
  if (http.layer.accessLog !== undefined) {
    const log = http.layer.accessLog;
    raw.log = { ...raw.log, ...(log === 'off' ? { access: 'off' } : { access: ctx.logPath(log.file ?? 'logs/access.log'), ...(log.format ? { format: log.format } : {}) }) };
    delete http.layer.accessLog;
  }
  if (Object.keys(http.timeouts).length > 0) raw.timeouts = http.timeouts;
  if (http.layer.maxBody !== undefined) {
    raw.maxBody = http.layer.maxBody;
    delete http.layer.maxBody;
  }
  const translated: TranslatedServer[] = [];
  for (const d of servers) {
    try {
      translated.push(translateServer(ctx, state, d, http, ['sites', translated.length]));
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
    }
  }
  // nginx -t accepts an http block without servers (they are often in includes); run refuses it.
  if (servers.length === 0) ctx.warn(tree[0]?.pos ?? { file: ctx.confPrefix, line: 1, col: 1 }, 'no "server" block: nothing to serve (`gatehouse run` refuses to start until there is one)');
  raw.mimeTypes = finishMime(raw.mimeTypes ?? {});
  raw.listen = listenSockets(ctx, raw, translated);
  dropConflictingNames(ctx, translated);
  raw.sites = translated.map((t) => t.site);
  const upstreams = state.finish();
  if (Object.keys(upstreams).length > 0) raw.upstreams = upstreams;
  return order(raw);
}

function mainDirective(ctx: AdaptCtx, raw: RawConfig, d: NginxDirective): void {
  if (d.name === 'error_log') {
    errorLog(ctx, raw, d);
    return;
  }
  if (d.name === 'server' || d.name === 'location' || d.name === 'upstream') {
    ctx.error(d.pos, `"${d.name}" directive is not allowed here`);
    return;
  }
  ctx.other(d, '');
}

function errorLog(ctx: AdaptCtx, raw: RawConfig, d: NginxDirective): void {
  const a = ctx.args(d, 1, 2);
  const target = a[0]!.text;
  if (target.startsWith('syslog:') || target.startsWith('memory:')) {
    ctx.warn(d.pos, `error_log "${target}" is not supported: gatehouse logs errors to stderr`);
    return;
  }
  raw.log = { ...raw.log, error: target === 'stderr' || target === '/dev/stderr' ? 'stderr' : ctx.logPath(target) };
  const level = a[1] ? ERROR_LEVELS[a[1].text] : undefined;
  if (a[1] && !level) {
    ctx.error(a[1].pos, `invalid log level "${a[1].text}"`);
    throw new Refused();
  }
  if (level) raw.log.level = level;
}

function httpDirective(ctx: AdaptCtx, state: AdaptState, raw: RawConfig, http: HttpLevel, servers: NginxDirective[], d: NginxDirective): void {
  if (readMimeDirective(ctx, (raw.mimeTypes ??= {}), d)) return;
  if (readSetting(ctx, http.layer, d, 'http')) return;
  if (UPSTREAM_TIMERS.has(d.name)) {
    upstreamTimerOutsideLocation(ctx, d, 'at http level');
    return;
  }
  if (CLIENT_TIMERS[d.name]) {
    const a = ctx.args(d, 1, 2);
    http.timeouts[CLIENT_TIMERS[d.name]!] = nginxDuration(ctx, a[0]!.text, a[0]!.pos, d.name);
    return;
  }
  if (d.name.startsWith('ssl_') && siteTls(ctx, http.tls as TlsLevel, d)) return;
  switch (d.name) {
    case 'server':
      servers.push(d);
      return;
    case 'upstream':
    case 'limit_req_zone':
    case 'proxy_cache_path':
    case 'fastcgi_cache_path':
      return;
    case 'map':
      mapBlock(ctx, raw, d);
      return;
    case 'log_format':
      logFormat(ctx, raw, d);
      return;
    case 'error_log':
      errorLog(ctx, raw, d);
      return;
    case 'set_real_ip_from': {
      const [a] = ctx.args(d, 1);
      const list = Array.isArray(raw.trustedProxies) ? raw.trustedProxies : [];
      list.push(a!.text);
      raw.trustedProxies = list;
      return;
    }
    case 'underscores_in_headers':
      raw.underscoresInHeaders = flag(ctx, d);
      return;
    case 'client_body_buffer_size': {
      const [a] = ctx.args(d, 1);
      raw.bodyBuffer = { ...raw.bodyBuffer, memory: nginxSize(ctx, a!.text, a!.pos, d.name) };
      return;
    }
    case 'client_body_temp_path': {
      const a = ctx.args(d, 1, 4);
      raw.bodyBuffer = { ...raw.bodyBuffer, tempDir: ctx.rootPath(a[0]!.text) };
      return;
    }
    case 'http2':
      if (!flag(ctx, d)) ctx.warn(d.pos, '"http2 off" has no effect: gatehouse always offers HTTP/2 by ALPN');
      return;
    case 'location':
    case 'listen':
    case 'server_name':
    case 'return':
    case 'rewrite':
    case 'try_files':
      ctx.error(d.pos, `"${d.name}" directive is not allowed here`);
      return;
    default:
      if (MAIN_ONLY.has(d.name)) ctx.error(d.pos, `"${d.name}" directive is not allowed here`);
      else ctx.other(d, 'http');
  }
}

function mapBlock(ctx: AdaptCtx, raw: RawConfig, d: NginxDirective): void {
  const [from, to] = ctx.args(d, 2);
  const out: RawMap = { from: from!.text };
  const values: Record<string, string> = {};
  for (const line of d.block ?? []) {
    const key = line.name;
    if (key === 'hostnames' && line.args.length === 0) out.hostnames = true;
    else if (key === 'volatile' && line.args.length === 0) continue;
    else if (key === 'default' && line.args.length === 1) out.default = line.args[0]!.text;
    else if (line.args.length === 1) {
      if (values[key] !== undefined) ctx.warn(line.pos, `duplicate "${key}" in map: nginx refuses it; the later value is kept`);
      values[key] = line.args[0]!.text;
    } else ctx.error(line.pos, 'invalid number of the map parameters');
  }
  if (Object.keys(values).length > 0) out.values = values;
  raw.maps = { ...raw.maps, [to!.text]: out };
  ctx.from(['maps', to!.text], d.pos);
}

function logFormat(ctx: AdaptCtx, raw: RawConfig, d: NginxDirective): void {
  const a = ctx.args(d, 2, 256);
  const name = a[0]!.text;
  let rest = a.slice(1);
  let escape: 'default' | 'json' | 'none' | undefined;
  if (rest[0]?.text.startsWith('escape=')) {
    const v = rest[0].text.slice(7);
    if (v !== 'default' && v !== 'json' && v !== 'none') {
      ctx.error(rest[0].pos, `unknown log format escaping "${v}"`);
      throw new Refused();
    }
    escape = v;
    rest = rest.slice(1);
  }
  if (name === 'combined') {
    ctx.error(d.pos, 'duplicate log_format name "combined"');
    throw new Refused();
  }
  const format = rest.map((w) => w.text).join('');
  ctx.logFormats.add(name);
  const value: RawLogFormat = escape ? { format, escape } : format;
  raw.log = { ...raw.log, formats: { ...raw.log?.formats, [name]: value } };
  ctx.from(['log', 'formats', name], d.pos);
}

/**
 * nginx listens per address:port; gatehouse per listener, with sites bound to ports. A port any
 * server marks `ssl` is TLS for all of its servers, as in nginx. A wildcard on a port covers the
 * specific addresses on it (nginx binds only the wildcard then, too).
 */
function listenSockets(ctx: AdaptCtx, raw: RawConfig, servers: TranslatedServer[]): RawConfig['listen'] {
  const byPort = new Map<number, { ssl: boolean; hosts: Set<string | undefined>; proxyProtocol?: SourcePos }>();
  for (const s of servers) {
    for (const l of s.listens) {
      const entry = byPort.get(l.port) ?? { ssl: false, hosts: new Set() };
      entry.ssl ||= l.ssl;
      entry.hosts.add(l.host);
      entry.proxyProtocol ??= l.proxyProtocol;
      byPort.set(l.port, entry);
    }
  }
  const http: RawListenEntry[] = [];
  const https: RawListenEntry[] = [];
  for (const [port, entry] of [...byPort].sort((a, b) => a[0] - b[0])) {
    const list = entry.ssl ? https : http;
    const addresses = entry.hosts.has(undefined) ? [port] : [...entry.hosts].map((host) => (host!.includes(':') ? `[${host}]:${port}` : `${host}:${port}`));
    for (const address of addresses) list.push(entry.proxyProtocol ? proxyListen(ctx, raw, address, entry.proxyProtocol) : address);
  }
  const allPorts = [...byPort.keys()].sort((a, b) => a - b);
  for (const s of servers) {
    const ports = [...new Set(s.listens.map((l: ListenSocket) => l.port))].sort((a, b) => a - b);
    // Right after hosts, where a reader of `gatehouse adapt` looks for it.
    if (ports.length !== allPorts.length) {
      const { hosts, ...rest } = s.site;
      s.site = { hosts, listen: ports, ...rest };
    }
    // default_server is per address:port: on some of the server's ports only, it is `default: [PORTS]`.
    const defaults = [...new Set(s.listens.filter((l) => l.isDefault).map((l) => l.port))].sort((a, b) => a - b);
    if (defaults.length > 0 && defaults.length < ports.length) s.site.default = defaults;
    for (const l of s.listens) {
      if (!l.ssl && byPort.get(l.port)!.ssl && s.site.tls === 'off') {
        ctx.error(l.pos, `port ${l.port} is TLS (another server listens on it with "ssl"), but this server has no certificate`);
      }
    }
  }
  const out: NonNullable<RawConfig['listen']> = {};
  if (http.length > 0) out.http = http.length === 1 ? http[0]! : http;
  if (https.length > 0) out.https = https.length === 1 ? https[0]! : https;
  return out;
}

/**
 * `listen ... proxy_protocol` with `set_real_ip_from` (+ `real_ip_header proxy_protocol`): gatehouse
 * takes the header's address from the set_real_ip_from peers only, and refuses every other peer
 * (nginx would serve them under the balancer's address). Without set_real_ip_from nginx never uses
 * the header's address for $remote_addr; gatehouse has no such mode, so it asks for the list.
 */
function proxyListen(ctx: AdaptCtx, raw: RawConfig, address: string | number, pos: SourcePos): RawListenEntry {
  const trusted = Array.isArray(raw.trustedProxies) ? raw.trustedProxies : raw.trustedProxies ? [raw.trustedProxies] : [];
  if (trusted.length === 0) {
    ctx.error(pos, 'listen "proxy_protocol" needs "set_real_ip_from" (http level) naming the load balancers: gatehouse reads the header only from them');
    return address;
  }
  return { address, proxyProtocol: true, trusted: [...trusted] };
}

/** Keys in the order a reader expects them: how it listens and logs, then what it serves. */
function order(raw: RawConfig): RawConfig {
  const keys = ['defaults', 'storage', 'acme', 'listen', 'log', 'trustedProxies', 'timeouts', 'maxBody', 'bodyBuffer', 'underscoresInHeaders', 'mimeTypes', 'cache', 'maps', 'upstreams', 'sites'] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (raw[k] !== undefined) out[k] = raw[k];
  return out as unknown as RawConfig;
}
