// The directives nginx inherits from http to server to location (each module's merge_conf: a level
// that writes a directive replaces the parent's value whole, lists included). gatehouse inherits the
// same keys from site to route (config/inherit.ts), so a location writes only what it sets itself;
// http-level values are folded into every server, since gatehouse has no http level for them.
import type { RawAccess, RawAddHeader, RawProxyRedirectRule } from '../../schema.js';
import type { SourcePos } from '../../types.js';
import type { NginxDirective } from '../ast.js';
import { FASTCGI_CONF, FASTCGI_PARAMS, SCGI_PARAMS, UWSGI_PARAMS, type Param } from '../stock-data.js';
import { AdaptCtx, flag, Refused } from './context.js';
import { mimeOutsideHttp } from './mime.js';
import { durationText, nginxDuration, nginxMs, nginxSize } from './values.js';

export interface RawParam {
  value: string;
  ifNotEmpty?: boolean;
}

/** One level's own settings; `pos` says where each was written. */
export interface Layer {
  root?: string;
  index?: string[];
  maxBody?: string;
  requestHeaders?: Record<string, string>;
  addHeaders?: Record<string, RawAddHeader>;
  errorPages?: Record<string, string>;
  interceptErrors?: boolean;
  retryStatuses?: number[];
  access?: NonNullable<RawAccess['access']>;
  authRealm?: string | false;
  authFile?: string;
  satisfy?: 'all' | 'any';
  authRequest?: { uri: string; pos: SourcePos } | false;
  authRequestSet?: Record<string, string>;
  expires?: string;
  proxyRedirect?: 'default' | 'off' | RawProxyRedirectRule[];
  hide?: string[];
  pass?: string[];
  accessLog?: 'off' | { file?: string; format?: string };
  params?: Record<string, string | RawParam>;
  paramsKind?: 'fastcgi' | 'uwsgi' | 'scgi';
  /** fastcgi_split_path_info's regex (location level only; nested locations inherit it). */
  splitPathInfo?: string;
  gzip?: boolean;
  brotli?: boolean;
  gzipTypes?: string[];
  gzipMinLength?: string;
  gzipVary?: boolean;
  gzipProxied?: boolean;
  symlinks?: 'follow' | 'refuse';
  readTimeout?: string;
  /** A name or `off`. */
  charset?: string;
  charsetTypes?: string[];
  pos: Record<string, SourcePos>;
}

export function emptyLayer(): Layer {
  return { pos: {} };
}

/** A child's view: its own values, else its parent's (nginx's ngx_conf_merge_*_value). */
export function inherit(parent: Layer, own: Layer): Layer {
  const out: Layer = { ...parent, pos: { ...parent.pos } };
  for (const key of Object.keys(own) as Array<keyof Layer>) {
    if (key === 'pos' || own[key] === undefined) continue;
    (out as unknown as Record<string, unknown>)[key] = own[key];
    const p = own.pos[key];
    if (p) out.pos[key] = p;
  }
  return out;
}

const STOCK_PARAMS: Record<'fastcgi' | 'uwsgi' | 'scgi', ReadonlyArray<readonly Param[]>> = {
  fastcgi: [FASTCGI_PARAMS, FASTCGI_CONF],
  uwsgi: [UWSGI_PARAMS],
  scgi: [SCGI_PARAMS],
};

/**
 * Parameters gatehouse sends on its own (its FastCGI/uwsgi/SCGI parameters are nginx's stock files):
 * a line that repeats one of them changes nothing. `$request_filename` as SCRIPT_FILENAME is the
 * alias form, which gatehouse computes the same way (README "Locations"). `HTTP_HOST $http_host` is
 * what gatehouse sends (the Host it routed by); Debian's `HTTP_HOST $host` is not: $host is lower
 * case without the port, so it is kept as a param.
 */
function isStockParam(kind: 'fastcgi' | 'uwsgi' | 'scgi', name: string, value: string, flags: string[]): boolean {
  if (kind === 'fastcgi' && name === 'SCRIPT_FILENAME' && (value === '$request_filename' || value === '$document_root$fastcgi_script_name')) return true;
  if (kind === 'fastcgi' && name === 'PATH_INFO' && value === '$fastcgi_path_info') return true;
  if (name === 'SERVER_SOFTWARE') return true;
  if (name === 'HTTP_HOST') return value === '$http_host' && flags.length === 0;
  return STOCK_PARAMS[kind].some((list) => list.some(([n, v, ...f]) => n === name && v === value && f.join(' ') === flags.join(' ')));
}

function set<K extends keyof Layer>(layer: Layer, key: K, value: Layer[K], pos: SourcePos): void {
  layer[key] = value;
  layer.pos[key as string] = pos;
}

/**
 * Reads `d` into `layer` when it is one of the inherited directives; false when it is not one.
 * `level` is for messages and for nginx's own context rules.
 */
export function readSetting(ctx: AdaptCtx, layer: Layer, d: NginxDirective, level: 'http' | 'server' | 'location'): boolean {
  const a = d.args;
  const text = (i: number) => a[i]!.text;
  if (level !== 'http' && mimeOutsideHttp(ctx, d, level)) return true;
  switch (d.name) {
    case 'absolute_redirect':
    case 'port_in_redirect':
    case 'server_name_in_redirect': {
      // gatehouse has nginx's defaults only (absolute, Host's name, the listening port): others warn.
      const on = flag(ctx, d);
      if (on !== (d.name !== 'server_name_in_redirect')) ctx.warn(d.pos, `"${d.name} ${on ? 'on' : 'off'}" has no effect: redirects follow nginx's defaults (absolute, with the Host name and the listening port)`);
      return true;
    }
    case 'root':
      ctx.args(d, 1);
      set(layer, 'root', text(0), d.pos);
      return true;
    case 'index':
      ctx.args(d, 1, 64);
      set(layer, 'index', a.map((x) => x.text), d.pos);
      return true;
    case 'client_max_body_size':
      ctx.args(d, 1);
      set(layer, 'maxBody', nginxSize(ctx, text(0), a[0]!.pos, d.name), d.pos);
      return true;
    case 'proxy_set_header':
    case 'grpc_set_header': {
      ctx.args(d, 2);
      // nginx: the first proxy_set_header of a level starts a new list (the parent's is not merged).
      if (!own(layer, 'requestHeaders')) set(layer, 'requestHeaders', {}, d.pos);
      const name = text(0);
      const existing = Object.keys(layer.requestHeaders!).find((k) => k.toLowerCase() === name.toLowerCase());
      if (existing) ctx.warn(d.pos, `"${d.name} ${name}" is written twice at this level; gatehouse sends the last value`);
      layer.requestHeaders![existing ?? name] = text(1);
      return true;
    }
    case 'add_header': {
      ctx.args(d, 2, 3);
      if (a[2] && a[2].text !== 'always') {
        ctx.error(a[2].pos, `invalid parameter "${a[2].text}"`);
        throw new Refused();
      }
      if (!own(layer, 'addHeaders')) set(layer, 'addHeaders', {}, d.pos);
      const name = text(0);
      if (layer.addHeaders![name] !== undefined) ctx.warn(d.pos, `"add_header ${name}" is written twice at this level; gatehouse adds only the last one`);
      layer.addHeaders![name] = a[2] ? { value: text(1), always: true } : text(1);
      return true;
    }
    case 'error_page':
      readErrorPage(ctx, layer, d);
      return true;
    case 'proxy_next_upstream':
    case 'fastcgi_next_upstream':
    case 'uwsgi_next_upstream':
    case 'scgi_next_upstream':
    case 'grpc_next_upstream':
      set(layer, 'retryStatuses', nextUpstream(ctx, d), d.pos);
      return true;
    case 'proxy_intercept_errors':
    case 'fastcgi_intercept_errors':
    case 'uwsgi_intercept_errors':
    case 'scgi_intercept_errors':
    case 'grpc_intercept_errors':
      set(layer, 'interceptErrors', flag(ctx, d), d.pos);
      return true;
    case 'allow':
    case 'deny': {
      ctx.args(d, 1);
      if (!own(layer, 'access')) set(layer, 'access', [], d.pos);
      layer.access!.push(d.name === 'allow' ? { allow: text(0) } : { deny: text(0) });
      return true;
    }
    case 'auth_basic':
      ctx.args(d, 1);
      set(layer, 'authRealm', text(0) === 'off' ? false : text(0), d.pos);
      return true;
    case 'auth_basic_user_file':
      ctx.args(d, 1);
      set(layer, 'authFile', text(0), d.pos);
      return true;
    case 'satisfy': {
      ctx.args(d, 1);
      const v = text(0);
      if (v !== 'all' && v !== 'any') {
        ctx.error(a[0]!.pos, `invalid value "${v}" in "satisfy" directive, it must be "all" or "any"`);
        throw new Refused();
      }
      set(layer, 'satisfy', v, d.pos);
      return true;
    }
    case 'auth_request':
      ctx.args(d, 1);
      set(layer, 'authRequest', text(0) === 'off' ? false : { uri: text(0), pos: a[0]!.pos }, d.pos);
      return true;
    case 'auth_request_set':
      ctx.args(d, 2);
      if (!own(layer, 'authRequestSet')) set(layer, 'authRequestSet', {}, d.pos);
      layer.authRequestSet![text(0)] = text(1);
      return true;
    case 'expires':
      set(layer, 'expires', readExpires(ctx, d), d.pos);
      return true;
    case 'proxy_redirect':
      readProxyRedirect(ctx, layer, d);
      return true;
    case 'proxy_hide_header':
    case 'fastcgi_hide_header':
    case 'uwsgi_hide_header':
    case 'scgi_hide_header':
    case 'grpc_hide_header':
      ctx.args(d, 1);
      if (!own(layer, 'hide')) set(layer, 'hide', [], d.pos);
      layer.hide!.push(text(0));
      return true;
    case 'proxy_pass_header':
    case 'fastcgi_pass_header':
    case 'uwsgi_pass_header':
    case 'scgi_pass_header':
    case 'grpc_pass_header':
      ctx.args(d, 1);
      if (!own(layer, 'pass')) set(layer, 'pass', [], d.pos);
      layer.pass!.push(text(0));
      return true;
    case 'access_log':
      readAccessLog(ctx, layer, d);
      return true;
    case 'fastcgi_param':
    case 'uwsgi_param':
    case 'scgi_param': {
      ctx.args(d, 2, 3);
      const kind = d.name.slice(0, d.name.indexOf('_')) as 'fastcgi' | 'uwsgi' | 'scgi';
      if (!own(layer, 'params')) {
        set(layer, 'params', {}, d.pos);
        layer.paramsKind = kind;
      }
      const flags = a.slice(2).map((x) => x.text);
      if (flags.length > 0 && flags[0] !== 'if_not_empty') {
        ctx.error(a[2]!.pos, `invalid parameter "${flags[0]}"`);
        throw new Refused();
      }
      if (isStockParam(kind, text(0), text(1), flags)) return true;
      layer.params![text(0)] = flags.length > 0 ? { value: text(1), ifNotEmpty: true } : text(1);
      layer.pos[`param ${text(0)}`] = d.pos;
      return true;
    }
    case 'gzip':
      set(layer, 'gzip', flag(ctx, d), d.pos);
      return true;
    case 'brotli':
      set(layer, 'brotli', flag(ctx, d), d.pos);
      return true;
    case 'gzip_types':
      set(layer, 'gzipTypes', ctx.args(d, 1, 256).map((x) => x.text), d.pos);
      return true;
    case 'gzip_min_length':
      ctx.args(d, 1);
      set(layer, 'gzipMinLength', nginxSize(ctx, text(0), a[0]!.pos, d.name), d.pos);
      return true;
    case 'gzip_vary':
      set(layer, 'gzipVary', flag(ctx, d), d.pos);
      return true;
    case 'gzip_proxied': {
      // off and any are exact; the conditions on the upstream's caching headers are not read.
      const values = ctx.args(d, 1, 9).map((x) => x.text);
      if (values.some((v) => v !== 'off' && v !== 'any')) ctx.warn(d.pos, `"gzip_proxied ${values.join(' ')}": only off and any are supported; requests with Via are compressed only with any`);
      set(layer, 'gzipProxied', values.includes('any'), d.pos);
      return true;
    }
    case 'disable_symlinks': {
      ctx.args(d, 1, 2);
      const v = text(0);
      if (v === 'off') set(layer, 'symlinks', 'follow', d.pos);
      else if (v === 'on' || v === 'if_not_owner') set(layer, 'symlinks', 'refuse', d.pos);
      else {
        ctx.error(a[0]!.pos, `invalid value "${v}" in "disable_symlinks" directive`);
        throw new Refused();
      }
      return true;
    }
    case 'charset':
      readCharset(ctx, layer, d);
      return true;
    case 'charset_types':
      readCharsetTypes(ctx, layer, d);
      return true;
    case 'proxy_read_timeout':
    case 'fastcgi_read_timeout':
    case 'uwsgi_read_timeout':
    case 'scgi_read_timeout':
    case 'grpc_read_timeout':
      ctx.args(d, 1);
      set(layer, 'readTimeout', nginxDuration(ctx, text(0), a[0]!.pos, d.name), d.pos);
      return true;
    default:
      void level;
      return false;
  }
}

function own(layer: Layer, key: keyof Layer): boolean {
  return layer.pos[key as string] !== undefined && layer[key] !== undefined;
}

function readCharset(ctx: AdaptCtx, layer: Layer, d: NginxDirective): void {
  const v = ctx.args(d, 1)[0]!;
  // ngx_http_set_charset_slot: a second charset at one level is a config error.
  if (own(layer, 'charset')) {
    ctx.error(d.pos, '"charset" directive is duplicate');
    throw new Refused();
  }
  if (v.text.startsWith('$')) {
    ctx.warn(v.pos, `"charset ${v.text}": a charset from a variable is not supported; no charset is added here`);
    set(layer, 'charset', 'off', d.pos);
  } else set(layer, 'charset', v.text, d.pos);
}

/** ngx_http_types_slot: a level's lists add up, text/html first (the directive's default), `*` is every type. */
function readCharsetTypes(ctx: AdaptCtx, layer: Layer, d: NginxDirective): void {
  const values = ctx.args(d, 1, 256).map((x) => x.text.toLowerCase());
  if (!own(layer, 'charsetTypes')) set(layer, 'charsetTypes', ['text/html'], d.pos);
  const types = layer.charsetTypes!;
  if (types[0] === '*') return;
  if (values.includes('*')) {
    layer.charsetTypes = ['*'];
    return;
  }
  for (const t of values) if (!types.includes(t)) types.push(t);
}

function readErrorPage(ctx: AdaptCtx, layer: Layer, d: NginxDirective): void {
  const a = ctx.args(d, 2, 64);
  const target = a[a.length - 1]!.text;
  let codes = a.slice(0, -1).map((x) => x.text);
  let answer = '';
  const last = codes[codes.length - 1]!;
  if (last.startsWith('=')) {
    answer = last;
    codes = codes.slice(0, -1);
  }
  if (codes.length === 0) {
    ctx.error(d.pos, `invalid number of arguments in "error_page" directive`);
    throw new Refused();
  }
  if (!own(layer, 'errorPages')) set(layer, 'errorPages', {}, d.pos);
  layer.errorPages![codes.join(' ')] = answer ? `${answer} ${target}` : target;
}

function readExpires(ctx: AdaptCtx, d: NginxDirective): string {
  const a = ctx.args(d, 1, 2);
  const words = a.map((x) => x.text);
  if (words.some((w) => w.includes('$'))) {
    ctx.error(d.pos, '"expires" with variables is not supported: write one expires per location');
    throw new Refused();
  }
  if (words[0] === 'modified') {
    if (!words[1]) {
      ctx.error(d.pos, 'invalid number of arguments in "expires" directive');
      throw new Refused();
    }
    return `modified ${durationText(nginxMs(ctx, words[1].replace(/^\+/, ''), a[1]!.pos, 'expires'))}`;
  }
  if (words.length > 1) {
    ctx.error(a[1]!.pos, `invalid value "${words[1]}" in "expires" directive`);
    throw new Refused();
  }
  const w = words[0]!;
  if (w.startsWith('@')) {
    ctx.error(a[0]!.pos, '"expires @time" (a time of day) is not supported: use a duration');
    throw new Refused();
  }
  if (w === 'off' || w === 'epoch' || w === 'max') return w;
  const negative = w.startsWith('-');
  const ms = nginxMs(ctx, w.replace(/^[+-]/, ''), a[0]!.pos, 'expires');
  return `${negative ? '-' : ''}${durationText(ms)}`;
}

function readProxyRedirect(ctx: AdaptCtx, layer: Layer, d: NginxDirective): void {
  const a = ctx.args(d, 1, 2);
  if (a.length === 1) {
    const v = a[0]!.text;
    if (v === 'off') {
      set(layer, 'proxyRedirect', 'off', d.pos);
      return;
    }
    if (v === 'default') {
      if (own(layer, 'proxyRedirect') && Array.isArray(layer.proxyRedirect)) layer.proxyRedirect.push('default');
      else set(layer, 'proxyRedirect', 'default', d.pos);
      return;
    }
    ctx.error(a[0]!.pos, `invalid parameter "${v}"`);
    throw new Refused();
  }
  const rule = { from: a[0]!.text, to: a[1]!.text };
  if (own(layer, 'proxyRedirect') && Array.isArray(layer.proxyRedirect)) layer.proxyRedirect.push(rule);
  else if (own(layer, 'proxyRedirect') && layer.proxyRedirect === 'default') set(layer, 'proxyRedirect', ['default', rule], d.pos);
  else set(layer, 'proxyRedirect', [rule], d.pos);
}

function readAccessLog(ctx: AdaptCtx, layer: Layer, d: NginxDirective): void {
  const a = ctx.args(d, 1, 8);
  if (a[0]!.text === 'off') {
    set(layer, 'accessLog', 'off', d.pos);
    return;
  }
  if (own(layer, 'accessLog')) {
    ctx.warn(d.pos, 'a second access_log at the same level: gatehouse writes only the first one');
    return;
  }
  const file = a[0]!.text;
  if (file.startsWith('syslog:')) {
    ctx.error(a[0]!.pos, 'access_log to syslog is not supported: log to a file or stdout and ship it with journald/rsyslog');
    throw new Refused();
  }
  const named = a[1] !== undefined && !a[1].text.includes('=');
  let format = named ? a[1]!.text : undefined;
  if (format !== undefined && !ctx.logFormats.has(format)) {
    // ngx_http_log_set_log: an unknown format is an error. A fragment's formats are usually in the
    // nginx.conf that includes it, so there the log falls back to combined, with a warning.
    if (!ctx.fragment) {
      ctx.error(a[1]!.pos, `unknown log format "${format}"`);
      throw new Refused();
    }
    ctx.warn(a[1]!.pos, `log format "${format}" is not defined in this file (a fragment: it is in the nginx.conf that includes it?): this log uses combined until the format is added`);
    format = undefined;
  }
  for (const p of a.slice(named ? 2 : 1)) {
    if (!/^(buffer|flush|gzip|if)(=|$)/.test(p.text)) {
      ctx.error(p.pos, `invalid parameter "${p.text}"`);
      throw new Refused();
    }
    if (p.text.startsWith('if=')) ctx.warn(p.pos, 'access_log "if=" is not supported: every request is logged');
  }
  set(layer, 'accessLog', format ? { file, format } : { file }, d.pos);
}

/** ngx_http_upstream_next_upstream_masks: the conditions *_next_upstream takes. */
const NEXT_UPSTREAM_STATUSES: Record<string, number> = { http_500: 500, http_502: 502, http_503: 503, http_504: 504, http_403: 403, http_404: 404, http_429: 429 };

/**
 * `*_next_upstream`: its http_* conditions become `retryStatuses`; error, timeout and
 * invalid_header are gatehouse's own rule anyway (handler/proxy-retry.ts); off and non_idempotent warn.
 */
function nextUpstream(ctx: AdaptCtx, d: NginxDirective): number[] {
  const statuses: number[] = [];
  for (const a of ctx.args(d, 1, 12)) {
    const v = a.text;
    if (NEXT_UPSTREAM_STATUSES[v] !== undefined) statuses.push(NEXT_UPSTREAM_STATUSES[v]);
    else if (v === 'off' || v === 'non_idempotent') ctx.warn(a.pos, `"${d.name} ${v}" has no effect: gatehouse tries another server after a connect failure, or any failure before a byte was sent, for idempotent methods only`);
    else if (v !== 'error' && v !== 'timeout' && v !== 'invalid_header' && v !== 'updating') {
      ctx.error(a.pos, `invalid value "${v}"`);
      throw new Refused();
    }
  }
  return statuses;
}
