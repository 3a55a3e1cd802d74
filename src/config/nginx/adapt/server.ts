// One nginx `server` block as one gatehouse site: its listen sockets (the ports it is bound to, TLS
// or not), its names, its certificate, its server-level rewrite list, its inherited settings (the
// http level folded in), and its locations.
import os from 'node:os';
import type { RawRewriteStep, RawRoute, RawSite, RawTimeouts } from '../../schema.js';
import type { SourcePos } from '../../types.js';
import type { NginxDirective } from '../ast.js';
import { AdaptCtx, flag, Refused } from './context.js';
import { layerKeys } from './layer-keys.js';
import { locationText, translateLocation } from './location.js';
import { REWRITE_DIRECTIVES, rewriteStep } from './rewrite-steps.js';
import { emptyLayer, inherit, readSetting, type Layer } from './settings.js';
import { UPSTREAM_TIMERS, upstreamTimerOutsideLocation, type AdaptState } from './targets.js';
import { siteTls, tlsPolicy, withPolicy, type TlsLevel } from './tls.js';
import { withClientAuth } from './client-auth.js';
import { nginxDuration } from './values.js';
import { serverConstants } from './constants.js';

export interface ListenSocket {
  /** undefined: every address (`listen 80`, `*:80`, `[::]:80`). */
  host?: string;
  port: number;
  ssl: boolean;
  isDefault: boolean;
  /** `listen ... proxy_protocol`: where it is written, for the error when set_real_ip_from is missing. */
  proxyProtocol?: SourcePos;
  pos: SourcePos;
}

export interface TranslatedServer {
  site: RawSite;
  listens: ListenSocket[];
  /** Its server_name words (site.hosts before the per-port conflicts are taken out); none: nginx's "". */
  names: ServerName[];
  pos: SourcePos;
}

export interface ServerName {
  text: string;
  pos: SourcePos;
}

/** What the http level hands every server. */
export interface HttpLevel {
  layer: Layer;
  tls: TlsLevel;
  timeouts: RawTimeouts;
}

const CLIENT_TIMERS: Record<string, keyof RawTimeouts> = {
  client_header_timeout: 'header',
  client_body_timeout: 'body',
  send_timeout: 'send',
  keepalive_timeout: 'keepalive',
};

export function translateServer(ctx: AdaptCtx, state: AdaptState, d: NginxDirective, http: HttpLevel, at: Array<string | number>): TranslatedServer {
  ctx.from(at, d.pos);
  ctx.serverConstants = serverConstants(d);
  const own = emptyLayer();
  const listens: ListenSocket[] = [];
  const names: ServerName[] = [];
  const steps: RawRewriteStep[] = [];
  const locations: NginxDirective[] = [];
  const tls: TlsLevel = { ...http.tls, ownCert: false, ownKey: false };
  const timeouts: RawTimeouts = {};
  let sslOn = false;
  let underscores: boolean | undefined;
  let rateLimit: RawSite['rateLimit'];
  let tryFiles: { d: NginxDirective; items: string[] } | undefined;
  for (const x of d.block ?? []) {
    try {
      if (readSetting(ctx, own, x, 'server')) continue;
      if (REWRITE_DIRECTIVES.has(x.name)) {
        steps.push(rewriteStep(ctx, x, 'server'));
        continue;
      }
      if (UPSTREAM_TIMERS.has(x.name)) {
        upstreamTimerOutsideLocation(ctx, x, 'in a server');
        continue;
      }
      if (CLIENT_TIMERS[x.name]) {
        const a = ctx.args(x, 1, 2);
        timeouts[CLIENT_TIMERS[x.name]!] = nginxDuration(ctx, a[0]!.text, a[0]!.pos, x.name);
        continue;
      }
      if (x.name.startsWith('ssl_')) {
        if (siteTls(ctx, tls, x)) continue;
      }
      switch (x.name) {
        case 'listen':
          listens.push(readListen(ctx, x));
          break;
        case 'server_name':
          ctx.args(x, 1, 256);
          for (const w of x.args) {
            // nginx's ".example.com" is the name and every name below it.
            if (w.text.startsWith('.') && w.text.length > 1) names.push({ text: w.text.slice(1), pos: w.pos }, { text: `*${w.text}`, pos: w.pos });
            else if (w.text === '$hostname') names.push({ text: os.hostname(), pos: w.pos });
            else names.push({ text: w.text, pos: w.pos });
          }
          break;
        case 'error_log':
        case 'client_body_buffer_size':
        case 'client_body_temp_path':
          if (ctx.options.strict) ctx.warn(x.pos, `"${x.name}" in a server is accepted without effect: gatehouse has one error log and one body buffer setting`);
          break;
        case 'location':
          locations.push(x);
          break;
        case 'ssl':
          sslOn = flag(ctx, x);
          break;
        case 'http2':
          if (!flag(ctx, x)) ctx.warn(x.pos, '"http2 off" has no effect: gatehouse always offers HTTP/2 by ALPN');
          break;
        case 'underscores_in_headers':
          underscores = flag(ctx, x);
          break;
        case 'limit_req':
          rateLimit = state.limitReq(x);
          break;
        case 'try_files':
          ctx.args(x, 2, 64);
          tryFiles = { d: x, items: x.args.map((w) => w.text) };
          break;
        default:
          ctx.other(x, 'server');
      }
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
    }
  }
  if (sslOn) for (const l of listens) l.ssl = true;
  // ngx_http_core_server: a server without listen listens on *:80 (as root).
  if (listens.length === 0) listens.push({ port: 80, ssl: false, isDefault: false, pos: d.pos });
  // nginx's root defaults to "html" under its prefix (ngx_http_core_merge_loc_conf).
  if (http.layer.root === undefined && own.root === undefined) {
    own.root = 'html';
    own.pos.root = d.pos;
  }
  const view = inherit(http.layer, own);
  const named = names.filter((n) => n.text !== '');
  const site: RawSite = { hosts: named.length > 0 ? named.map((n) => n.text) : ['_'] };
  ctx.from([...at, 'hosts'], d.pos);
  if (listens.some((l) => l.isDefault)) site.default = true;
  const anySsl = listens.some((l) => l.ssl);
  const source = anySsl ? tlsValue(ctx, tls, listens.find((l) => l.ssl)!, site) : 'off';
  const tlsSetting = anySsl ? withClientAuth(ctx, at, tls.clientAuth, withPolicy(source, tlsPolicy(ctx, tls, [...at, 'tls']))) : source;
  if (tlsSetting !== undefined) site.tls = tlsSetting;
  if (anySsl && listens.some((l) => !l.ssl)) site.redirect = 'off';
  site.compress = view.gzip ? (view.brotli ? ['br', 'gzip'] : ['gzip']) : view.brotli ? ['br'] : 'off';
  // nginx's gzip filter decides what is compressed (middleware/compress-nginx.ts), its defaults included.
  if (view.gzip || view.brotli) {
    site.compressRules = {
      ...(view.gzipTypes ? { types: view.gzipTypes } : {}),
      ...(view.gzipMinLength !== undefined ? { minLength: view.gzipMinLength } : {}),
      ...(view.gzipVary ? { vary: true } : {}),
      ...(view.gzipProxied ? { proxied: true } : {}),
    };
  }
  const authTargets = new Map<string, NginxDirective>();
  for (const loc of locations) {
    try {
      const text = locationText(ctx, loc);
      authTargets.set(text.replace(/^(=|\^~) /, ''), loc);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
    }
  }
  Object.assign(site, layerKeys(ctx, state, view, view, at, authTargets));
  const allTimeouts = { ...http.timeouts, ...timeouts };
  if (Object.keys(timeouts).length > 0) site.timeouts = allTimeouts;
  if (underscores !== undefined) site.underscoresInHeaders = underscores;
  if (rateLimit) site.rateLimit = rateLimit;
  if (steps.length > 0) {
    site.rewrite = steps;
    ctx.from([...at, 'rewrite'], d.pos);
  }
  const routes: RawRoute[] = [];
  for (const loc of locations) {
    try {
      routes.push(translateLocation(ctx, state, { d: loc, parent: view, path: [...at, 'routes', routes.length], authTargets }));
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
    }
  }
  if (tryFiles) {
    if (authTargets.has('/')) ctx.warn(tryFiles.d.pos, 'try_files at server level applies only to requests no location matches; "location /" matches them all, so it never applies');
    else {
      ctx.from([...at, 'routes', routes.length], tryFiles.d.pos);
      routes.push({ location: '/', tryFiles: tryFiles.items });
    }
  }
  if (routes.length > 0) site.routes = routes;
  return { site, listens, names: named, pos: d.pos };
}

function tlsValue(ctx: AdaptCtx, tls: TlsLevel, listen: ListenSocket, site: RawSite): RawSite['tls'] | undefined {
  if (!tls.cert || !tls.key) {
    // nginx refuses to start here; gatehouse can get the certificate itself (acme, or its local CA for local names).
    const hosts = (Array.isArray(site.hosts) ? site.hosts : [site.hosts]).filter((h) => h !== '_');
    if (hosts.length === 0) {
      ctx.error(listen.pos, `no "ssl_certificate" is defined for the "listen ... ssl" directive, and the server has no name to get one for`);
      throw new Refused();
    }
    ctx.warn(listen.pos, `no "ssl_certificate" is defined for the "listen ... ssl" directive (nginx would not start): gatehouse gets a certificate for ${hosts.join(', ')} itself (ACME, or its local CA for local names)`);
    return undefined;
  }
  const cert = ctx.confPath(tls.cert.text);
  const key = ctx.confPath(tls.key.text);
  // What `certbot --nginx` writes: CONFIG_DIR/live/NAME/fullchain.pem with that lineage's privkey.pem
  // (CONFIG_DIR is /etc/letsencrypt unless certbot ran with --config-dir).
  const live = /^(.*\/live\/[^/]+)\/(fullchain|cert)\.pem$/.exec(cert);
  if (live && ctx.options.acme && key === `${live[1]}/privkey.pem`) {
    const hosts = (Array.isArray(site.hosts) ? site.hosts : [site.hosts]).filter((h) => h !== '_');
    // A wildcard is renewed only through DNS-01, which needs a DNS provider nginx's config does not name:
    // keep certbot's files serving, and say what switches the site to gatehouse's own renewal.
    const wildcard = hosts.find((h) => h.includes('*'));
    if (wildcard !== undefined) {
      ctx.warn(tls.cert.pos, `${wildcard} is a wildcard: its certificate can only be renewed through DNS-01, so the site keeps certbot's files; add acme.dns (README "DNS-01 and wildcard certificates") and set tls: acme to let gatehouse renew it`);
      return { cert, key };
    }
    ctx.certbot.push({ liveDir: live[1]!, hosts, pos: tls.cert.pos });
    return 'acme';
  }
  return { cert, key };
}

/** `listen address[:port] [ssl] [http2] [default_server] [ipv6only=on|off] ...` (ngx_http_core_listen). */
function readListen(ctx: AdaptCtx, d: NginxDirective): ListenSocket {
  const a = ctx.args(d, 1, 16);
  const spec = a[0]!.text;
  if (spec.startsWith('unix:')) {
    ctx.error(a[0]!.pos, 'listening on a unix socket is not supported: listen on a port');
    throw new Refused();
  }
  const socket = parseAddress(spec);
  if (!socket) {
    ctx.error(a[0]!.pos, `invalid port or address in "${spec}" of the "listen" directive`);
    throw new Refused();
  }
  const out: ListenSocket = { ...socket, ssl: false, isDefault: false, pos: d.pos };
  for (const w of a.slice(1)) {
    const name = w.text.split('=')[0]!;
    if (name === 'ssl') out.ssl = true;
    else if (name === 'default_server' || name === 'default') out.isDefault = true;
    else if (name === 'proxy_protocol') out.proxyProtocol = w.pos;
    else if (name === 'quic') {
      ctx.error(w.pos, 'listen "quic" (HTTP/3) is not supported yet');
      throw new Refused();
    } else if (!['http2', 'ipv6only', 'reuseport', 'backlog', 'rcvbuf', 'sndbuf', 'deferred', 'bind', 'fastopen', 'so_keepalive', 'accept_filter', 'setfib'].includes(name)) {
      ctx.error(w.pos, `invalid parameter "${w.text}"`);
      throw new Refused();
    }
  }
  return out;
}

/** `80`, `*:80`, `127.0.0.1`, `127.0.0.1:8080`, `[::]:443`, `[::1]`, `localhost:8080`; port 80 when none. */
function parseAddress(spec: string): { host?: string; port: number } | undefined {
  let host: string | undefined;
  let port = '80';
  if (/^\d+$/.test(spec)) port = spec;
  else if (spec.startsWith('[')) {
    const m = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(spec);
    if (!m) return undefined;
    host = m[1]!;
    if (m[2]) port = m[2];
  } else {
    const m = /^([^:]+)(?::(\d+))?$/.exec(spec);
    if (!m) return undefined;
    host = m[1]!;
    if (m[2]) port = m[2];
  }
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) return undefined;
  if (host === '*' || host === '::' || host === '0.0.0.0') host = undefined;
  return host === undefined ? { port: n } : { host, port: n };
}
