// One nginx `location` block as a gatehouse route (ngx_http_core_location): its modifier and URI, the
// content handler (*_pass, root/alias + try_files, return), the rewrite list, the directives it
// inherits, and nested locations as nested routes.
import type { RawRewriteStep, RawRoute } from '../../schema.js';
import type { SourcePos } from '../../types.js';
import type { NginxDirective } from '../ast.js';
import { AdaptCtx, flag, Refused } from './context.js';
import { REWRITE_DIRECTIVES, rewriteStep } from './rewrite-steps.js';
import { emptyLayer, inherit, readSetting, type Layer } from './settings.js';
import { passTarget, UPSTREAM_TIMERS, type AdaptState } from './targets.js';
import { layerKeys } from './layer-keys.js';
import { nginxDuration } from './values.js';
import { withConstants } from './constants.js';

/** gatehouse's default `splitPathInfo` (http/fastcgi-path.ts PHP_PATH_INFO). */
const BUILT_IN_SPLIT = '^(.+?\\.php)(/.*)$';

/** The location's match as gatehouse writes it; nginx accepts the modifier apart or stuck to the URI. */
export function locationText(ctx: AdaptCtx, d: NginxDirective): string {
  const a = ctx.args(d, 1, 2);
  if (a.length === 2) {
    const mod = a[0]!.text;
    if (!['=', '~', '~*', '^~'].includes(mod)) {
      ctx.error(a[0]!.pos, `invalid location modifier "${mod}"`);
      throw new Refused();
    }
    return `${mod} ${a[1]!.text}`;
  }
  const v = a[0]!.text;
  for (const mod of ['^~', '~*', '=', '~']) {
    if (v.startsWith(mod) && v.length > mod.length) return `${mod} ${v.slice(mod.length)}`;
  }
  return v;
}

export interface LocationInput {
  d: NginxDirective;
  /** What the location inherits: the server's (http folded in) or the parent location's view. */
  parent: Layer;
  path: Array<string | number>;
  /** The server's named and exact/prefix locations, for auth_request's target. */
  authTargets: Map<string, NginxDirective>;
}

export function translateLocation(ctx: AdaptCtx, state: AdaptState, input: LocationInput): RawRoute {
  const { d, path } = input;
  const location = locationText(ctx, d);
  const route: RawRoute = { location };
  ctx.from(path, d.pos);
  if (!d.block) {
    ctx.error(d.pos, 'directive "location" has no opening "{"');
    throw new Refused();
  }
  const layer = emptyLayer();
  const steps: RawRewriteStep[] = [];
  const nested: NginxDirective[] = [];
  let tryFilesPos: SourcePos | undefined;
  let passPos: SourcePos | undefined;
  let passUri: string | undefined;
  let passName: string | undefined;
  let ifPos: SourcePos | undefined;
  let cacheZone: string | undefined;
  let cacheValid = 0;
  for (const x of d.block) {
    try {
      if (readSetting(ctx, layer, x, 'location')) continue;
      if (REWRITE_DIRECTIVES.has(x.name)) {
        if (x.name === 'if') ifPos ??= x.pos;
        steps.push(rewriteStep(ctx, x, `location ${location}`));
        continue;
      }
      if (UPSTREAM_TIMERS.has(x.name)) {
        state.upstreamTimeout(x, route);
        continue;
      }
      switch (x.name) {
        case 'location':
          nested.push(x);
          break;
        case 'proxy_pass':
        case 'fastcgi_pass':
        case 'uwsgi_pass':
        case 'scgi_pass':
        case 'grpc_pass': {
          if (route.proxy !== undefined) {
            ctx.error(x.pos, `"${x.name}" directive is duplicate`);
            break;
          }
          const target = passTarget(ctx, state, x);
          route.proxy = target.proxy;
          passPos = x.pos;
          passName = x.name;
          passUri = target.uri;
          ctx.from([...path, 'proxy'], x.pos);
          break;
        }
        case 'alias':
          ctx.args(x, 1);
          // ngx_http_core_root: a relative alias is under the prefix, as a relative root is.
          route.alias = ctx.rootPath(withConstants(x.args[0]!.text, ctx.serverConstants));
          ctx.from([...path, 'alias'], x.pos);
          break;
        case 'try_files':
          ctx.args(x, 2, 64);
          route.tryFiles = x.args.map((w) => w.text);
          tryFilesPos = x.pos;
          ctx.from([...path, 'tryFiles'], x.pos);
          break;
        case 'internal':
          ctx.args(x, 0);
          route.internal = true;
          break;
        case 'limit_req':
          route.rateLimit = state.limitReq(x);
          ctx.from([...path, 'rateLimit'], x.pos);
          break;
        case 'proxy_cache':
          ctx.args(x, 1);
          cacheZone = x.args[0]!.text === 'off' ? undefined : x.args[0]!.text;
          break;
        case 'proxy_cache_valid': {
          const a = ctx.args(x, 1, 16);
          const ms = state.ms(a[a.length - 1]!, x.name);
          cacheValid = Math.max(cacheValid, ms);
          break;
        }
        case 'proxy_request_buffering':
        case 'fastcgi_request_buffering':
        case 'uwsgi_request_buffering':
        case 'scgi_request_buffering':
          route.requestBuffering = flag(ctx, x);
          break;
        case 'proxy_ssl_verify':
        case 'grpc_ssl_verify':
        case 'uwsgi_ssl_verify':
          if (!flag(ctx, x)) ctx.warn(x.pos, `"${x.name} off" has no effect: gatehouse always verifies upstream certificates (set tls.ca or tls.insecure on the upstream)`);
          break;
        case 'proxy_ssl_trusted_certificate':
        case 'proxy_ssl_name':
        case 'grpc_ssl_trusted_certificate':
        case 'grpc_ssl_name':
        case 'uwsgi_ssl_trusted_certificate':
        case 'uwsgi_ssl_name':
        case 'proxy_ssl_certificate': // issue 19: the client certificate towards the upstream, and its protocols
        case 'proxy_ssl_certificate_key':
        case 'proxy_ssl_protocols':
        case 'grpc_ssl_certificate':
        case 'grpc_ssl_certificate_key':
        case 'grpc_ssl_protocols':
        case 'uwsgi_ssl_certificate':
        case 'uwsgi_ssl_certificate_key':
        case 'uwsgi_ssl_protocols':
          state.upstreamTls(x, route);
          break;
        case 'fastcgi_index':
          ctx.args(x, 1);
          if (x.args[0]!.text !== 'index.php' && layer.index === undefined) layer.index = [x.args[0]!.text];
          break;
        case 'fastcgi_split_path_info':
          ctx.args(x, 1);
          layer.splitPathInfo = x.args[0]!.text;
          layer.pos['splitPathInfo'] = x.pos;
          break;
        case 'http2':
          flag(ctx, x);
          break;
        case 'error_log':
        case 'client_body_buffer_size':
        case 'client_body_temp_path':
          if (ctx.options.strict) ctx.warn(x.pos, `"${x.name}" in a location is accepted without effect: gatehouse has one error log and one body buffer setting`);
          break;
        default:
          ctx.other(x, `location ${location}`);
      }
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
    }
  }
  if (cacheZone !== undefined) {
    if (!state.cacheZones.has(cacheZone)) ctx.error(d.pos, `the "${cacheZone}" cache zone is not defined by a proxy_cache_path`);
    else if (cacheValid > 0) route.cache = nginxDuration(ctx, `${cacheValid}ms`, d.pos, 'proxy_cache_valid');
    else ctx.warn(d.pos, `proxy_cache "${cacheZone}" without proxy_cache_valid: gatehouse caches what the upstream's Cache-Control allows, for at most 10m`);
    if (route.cache === undefined && state.cacheZones.has(cacheZone)) route.cache = '10m';
  }
  const view = inherit(input.parent, layer);
  splitPathInfo(ctx, { route, own: layer, parent: input.parent, path, fastcgi: passName === 'fastcgi_pass', holder: nested.length > 0 });
  Object.assign(route, layerKeys(ctx, state, layer, view, path, input.authTargets));
  if (layer.readTimeout !== undefined) {
    route.timeout = layer.readTimeout;
    route.tunnelIdle = layer.readTimeout;
  } else if (input.parent.readTimeout !== undefined && route.proxy !== undefined) {
    route.timeout = input.parent.readTimeout;
    route.tunnelIdle = input.parent.readTimeout;
  }
  if (steps.length > 0) {
    route.rewrite = steps;
    ctx.from([...path, 'rewrite'], d.pos);
  }
  classicMistakes(ctx, { location, route, passPos, passName, passUri, tryFilesPos, ifPos });
  if (nested.length > 0) {
    route.routes = nested.map((n, i) => translateLocation(ctx, state, { ...input, d: n, parent: view, path: [...path, 'routes', i] }));
  }
  return route;
}

interface SplitInput {
  route: RawRoute;
  own: Layer;
  parent: Layer;
  path: Array<string | number>;
  fastcgi: boolean;
  holder: boolean;
}

/**
 * `splitPathInfo` as nginx splits: without fastcgi_split_path_info on the location or a parent
 * location, $fastcgi_script_name is the whole $uri and no PATH_INFO is sent
 * (ngx_http_fastcgi_script_name_variable), so such a FastCGI route gets `false` (gatehouse's own
 * default is Debian's snippets/fastcgi-php.conf split). The built-in regex is left to that default
 * unless a parent route may have set another value.
 */
function splitPathInfo(ctx: AdaptCtx, input: SplitInput): void {
  const { route, own, parent, path } = input;
  const regex = own.splitPathInfo;
  if (regex !== undefined) {
    const inheritsOther = parent.splitPathInfo !== BUILT_IN_SPLIT && (parent.splitPathInfo !== undefined || path.filter((p) => p === 'routes').length > 1);
    if (regex !== BUILT_IN_SPLIT) route.splitPathInfo = regex;
    else if (inheritsOther && (input.fastcgi || input.holder)) route.splitPathInfo = true;
    if (route.splitPathInfo !== undefined) ctx.from([...path, 'splitPathInfo'], own.pos['splitPathInfo']!);
    return;
  }
  if (input.fastcgi && parent.splitPathInfo === undefined) route.splitPathInfo = false;
}

interface MistakeInput {
  location: string;
  route: RawRoute;
  passPos?: SourcePos | undefined;
  passName?: string | undefined;
  passUri?: string | undefined;
  tryFilesPos?: SourcePos | undefined;
  ifPos?: SourcePos | undefined;
}

/** What the seed tutorial's readers trip over; nginx does it, gatehouse does it too, and says so. */
function classicMistakes(ctx: AdaptCtx, m: MistakeInput): void {
  const prefix = !/^(=|~|~\*|@) ?/.test(m.location) ? m.location.replace(/^\^~ /, '') : undefined;
  if (prefix !== undefined && m.passPos && m.passUri !== undefined && m.passUri.endsWith('/') && !prefix.endsWith('/')) {
    ctx.warn(
      m.passPos,
      `location "${prefix}" without a trailing slash and a proxy_pass URI ending in "/": ${prefix}/x is sent as ${m.passUri}/x (a double slash), as nginx does; write "location ${prefix}/"`,
    );
  }
  // FastCGI's `try_files $uri =404` is the safe pattern (only existing scripts reach php-fpm); an HTTP
  // backend is usually meant to answer what is not a file.
  if (m.tryFilesPos && m.passPos && m.passName === 'proxy_pass') {
    const fallback = m.route.tryFiles?.[m.route.tryFiles.length - 1] ?? '';
    if (fallback.startsWith('=')) {
      ctx.warn(
        m.tryFilesPos,
        `try_files before proxy_pass answers ${fallback.slice(1)} whenever no file exists under the root, so the backend is asked only for paths that are files; to proxy what is not a file, end try_files with a named location (@app) that proxies`,
      );
    }
  }
  if (m.ifPos) {
    ctx.warn(m.ifPos, '"if" inside a location: only rewrite, return, set and break are safe there (nginx\'s "If is evil"); prefer a map or a separate location');
  }
}
