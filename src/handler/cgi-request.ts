// What a FastCGI / uwsgi / SCGI route adds to a proxied request: the CGI request values from the
// client's request (UpstreamRequest.cgi; the transport turns them into its protocol's parameter
// list), and for FastCGI the classic nginx security rule, `try_files $fastcgi_script_name =404`:
// only a script that exists as a file under `root` is handed to php-fpm.
import { stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { DEFAULT_BODY_BUFFER } from '../config/client.js';
import type { AliasConfig, BodyBufferConfig, RouteConfig } from '../config/types.js';
import { applyHeaderOps, type CompiledHeaderOps } from '../http/header-ops.js';
import { originForm } from '../http/normalize.js';
import { fastcgiScript } from '../http/fastcgi-path.js';
import { headerPairs } from '../transport/cgi/params.js';
import type { BodyOptions } from '../transport/cgi/options.js';
import type { CgiUpstreamOptions } from '../transport/cgi/options.js';
import type { RequestContext } from '../request/context.js';
import { FORWARDED_FROM_CLIENT } from './proxy-headers.js';
import { clientAddress } from '../http/trust.js';
import { sendStatus } from '../http/respond.js';
import { VERSION } from '../version.js';
import { compileUserParams, isHiddenHeader, userParamValues, type CompiledUserParams } from './cgi-user-params.js';

export interface CgiRoute {
  scheme: string;
  root: string | undefined;
  /** The route's `alias` (own or inherited): SCRIPT_FILENAME is then nginx's $request_filename. */
  alias: AliasConfig | undefined;
  /** FastCGI only: nginx's fastcgi_index. */
  index: string | undefined;
  /** FastCGI only: true for the built-in ^(.+?\.php)(/.*)$, or the route's `splitPathInfo` regex. */
  splitPathInfo: boolean | RegExp;
  /** The route's `params` (own or inherited). */
  params: CompiledUserParams | undefined;
  /** FastCGI only: the status to answer when the script is not a file under root (tryFiles). */
  missingScriptStatus: number | undefined;
  /** FastCGI only: `tryFiles: [$fastcgi_script_name, =CODE]`, whose hit makes the script name the request's $uri. */
  scriptBecomesUri: boolean;
  ops: CompiledHeaderOps | undefined;
  /** How the body is held while it is read whole before the backend is asked. */
  buffer: BodyOptions;
}

/** The body reading of a route: whole by default (nginx's *_request_buffering on), into `bodyBuffer`'s places. */
export function bodyOptions(buffer: BodyBufferConfig, whole: boolean): BodyOptions {
  return {
    whole,
    memoryLimit: buffer.memoryBytes,
    ...(buffer.tempDir !== undefined ? { tmpDir: buffer.tempDir } : {}),
    fileLimit: buffer.tempMaxBytes,
    totalLimit: buffer.tempTotalBytes,
  };
}

/**
 * For FastCGI, `index` is nginx's `fastcgi_index` (its first name), `index.php` when the route sets
 * none; and `tryFiles: [$uri, =404]` (or `$fastcgi_script_name`) checks that the script php-fpm
 * would run, root + script name (PATH_INFO split off), is a file, before php-fpm is asked.
 */
export function compileCgiRoute(
  scheme: string,
  rc: RouteConfig,
  ops: CompiledHeaderOps | undefined,
  buffer: BodyBufferConfig = DEFAULT_BODY_BUFFER,
): CgiRoute {
  const fastcgi = scheme === 'fastcgi';
  const defaultIndex = rc.index.length === 1 && rc.index[0] === 'index.html';
  const tf = rc.tryFiles;
  const fallback = tf && tf.length >= 2 ? /^=(\d{3})$/.exec(tf[tf.length - 1] ?? '') : null;
  const checks = fallback !== null && (tf?.[0] === '$uri' || tf?.[0] === '$fastcgi_script_name');
  const route: CgiRoute = {
    scheme,
    root: rc.root,
    alias: rc.alias,
    index: fastcgi ? (defaultIndex ? 'index.php' : rc.index[0]) : undefined,
    splitPathInfo: fastcgi ? splitRule(rc.splitPathInfo) : false,
    params: compileUserParams(rc.params),
    missingScriptStatus: fastcgi && checks && (rc.root !== undefined || rc.alias !== undefined) ? Number(fallback[1]) : undefined,
    scriptBecomesUri: fastcgi && checks && tf?.[0] === '$fastcgi_script_name',
    ops,
    buffer: bodyOptions(buffer, rc.requestBuffering ?? true),
  };
  return route;
}

/** `splitPathInfo` unset or true: the built-in rule; a string: the route's regex (checked at load: two captures). */
function splitRule(split: boolean | string | undefined): boolean | RegExp {
  return typeof split === 'string' ? new RegExp(split) : split !== false;
}

/** $fastcgi_script_name: the path up to `.php` (PATH_INFO split off), with the index for a "/". */
export function scriptName(path: string, route: CgiRoute): string {
  return fastcgiScript(path, route.splitPathInfo, route.index).scriptName;
}

/** A `..` or `.` segment: what nginx's byte pasting of an alias would turn into a climb. */
const DOT_SEGMENT = /(^|\/)\.\.?(\/|$)/;

/**
 * The script file php-fpm is asked to run: root + script name, or under an alias nginx's
 * $request_filename (the alias in place of the location's name; in a regex location the alias
 * with its captures). Undefined when an alias would give a name with a `..` segment: nginx's
 * off-by-slash (`location /php` + `alias /srv/php/`, `/php../x.php`) is not passed on.
 */
export function scriptFilename(ctx: RequestContext, route: CgiRoute): string | undefined {
  const alias = route.alias;
  if (!alias) {
    const root = (route.root ?? '').endsWith('/') ? (route.root ?? '').slice(0, -1) : (route.root ?? '');
    return root + scriptName(ctx.path, route);
  }
  const loc = alias.location;
  let file: string;
  if (loc.kind === 'regex' || loc.kind === 'regex-ci') file = ctx.vars.requestFilename;
  else {
    const script = scriptName(ctx.path, route);
    const rest = script.startsWith(loc.value) ? script.slice(loc.value.length) : script;
    if (DOT_SEGMENT.test((alias.path.endsWith('/') ? '/' : '') + rest)) return undefined;
    file = alias.path + rest;
  }
  return DOT_SEGMENT.test(file) ? undefined : file;
}

/** The path a request had before a `$fastcgi_script_name` hit changed it: what the script and PATH_INFO are split from. */
const splitPaths = new WeakMap<RequestContext, string>();

/**
 * After the script was found: nginx's try_files makes a hit the request's $uri
 * (ngx_http_try_files_handler), so `tryFiles: [$fastcgi_script_name, =404]` turns `/index.php/a/b`
 * into `/index.php` for DOCUMENT_URI, $uri and $document_uri (Nextcloud, Debian's
 * snippets/fastcgi-php.conf). The split is still made on the path as it was, so the PATH_INFO
 * gatehouse sends is `/a/b`, not the empty value nginx's $fastcgi_path_info has by then.
 */
export function scriptFound(ctx: RequestContext, route: CgiRoute): void {
  if (!route.scriptBecomesUri) return;
  const script = scriptName(ctx.path, route);
  if (script === ctx.path) return;
  splitPaths.set(ctx, ctx.path);
  ctx.path = script;
}

/**
 * Answers `missingScriptStatus` (404 for an alias name that would climb) and returns false when
 * the script is not a regular file.
 */
export async function scriptExists(ctx: RequestContext, route: CgiRoute): Promise<boolean> {
  const file = route.alias || route.root !== undefined ? scriptFilename(ctx, route) : undefined;
  if (route.alias && file === undefined) {
    sendStatus(ctx, route.missingScriptStatus ?? 404);
    return false;
  }
  if (route.missingScriptStatus === undefined || file === undefined) return true;
  const ok = await stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!ok) sendStatus(ctx, route.missingScriptStatus);
  return ok;
}

export function cgiRequest(ctx: RequestContext, route: CgiRoute): CgiUpstreamOptions {
  const { ex } = ctx;
  const site = ctx.site.config.hosts[0] ?? '';
  const raw = (ex as { req?: IncomingMessage }).req?.rawHeaders;
  const cl = ex.headers['content-length'];
  const declared = typeof cl === 'string' && /^\d+$/.test(cl) ? Number(cl) : undefined;
  return {
    info: {
      method: ex.method,
      // nginx's $request_uri is origin-form also for an absolute-form target (ngx_http_parse_request_line).
      requestUri: originForm(ex.rawTarget),
      path: splitPaths.get(ctx) ?? ctx.path,
      ...(splitPaths.has(ctx) ? { documentUri: ctx.path } : {}),
      args: ctx.args,
      serverProtocol: ex.protocol,
      scheme: ex.conn.secure ? 'https' : 'http',
      remoteAddr: ex.conn.remoteAddress,
      remotePort: ex.conn.remotePort,
      serverAddr: ex.conn.localAddress,
      serverPort: ex.conn.localPort,
      serverName: site,
      // An HTTP_HOST param replaces the host an HTTP/2 request gives in :authority too.
      ...(ex.authority !== undefined && !isHiddenHeader(route.params, 'host') ? { authority: ex.authority } : {}),
      headers: requestHeaders(ctx, raw ? headerPairs(raw) : headerPairs(ex.headers), route),
    },
    ...(route.params ? { params: userParamValues(route.params, ctx.vars) } : {}),
    ...(route.alias ? { root: ctx.vars.documentRoot, scriptFilename: scriptFilename(ctx, route) ?? '' } : {}),
    ...(!route.alias && route.root !== undefined ? { root: route.root } : {}),
    ...(route.index !== undefined ? { index: route.index } : {}),
    splitPathInfo: route.splitPathInfo,
    version: VERSION,
    ...(declared !== undefined ? { declaredLength: declared } : {}),
    buffer: route.buffer,
    onStderr: (text) => ctx.env.logger.warn(`FastCGI sent in stderr: "${text}"`, { site, uri: ex.rawTarget }),
  };
}

/**
 * The client's headers as HTTP_* params, minus `Proxy`: a client-sent `Proxy: evil:8080` would
 * become HTTP_PROXY, which CGI programs and libraries read as their outbound proxy setting
 * (httpoxy, CVE-2016-5385). nginx passes it unless told `fastcgi_param HTTP_PROXY ""`; the
 * httpoxy advisory recommends dropping it, and so do we. A route's `headers.request` set/remove
 * apply here too, as they would to an HTTP upstream. A header an HTTP_* param of the route stands
 * for is not sent (nginx: `fastcgi_param HTTP_HOST $host` hides the Host header).
 */
function requestHeaders(ctx: RequestContext, pairs: Array<[string, string]>, route: CgiRoute): Array<[string, string]> {
  const { ops, params } = route;
  let out = forwardingHeaders(
    ctx,
    routedHost(
      ctx,
      pairs.filter(([name]) => (name.length !== 5 || name.toLowerCase() !== 'proxy') && !isHiddenHeader(params, name)),
    ),
  );
  if (!ops) return out;
  const changed = new Set([...ops.remove, ...ops.set.map(([name]) => name)]);
  out = out.filter(([name]) => !changed.has(name.toLowerCase()));
  const set: Record<string, string | string[] | number | undefined> = {};
  applyHeaderOps(set, { set: ops.set, remove: [] }, ctx.vars);
  for (const [name, value] of Object.entries(set)) {
    if (typeof value === 'string' && name !== 'proxy') out.push([name, value]);
  }
  return out;
}

/**
 * HTTP_HOST is the authority the request was routed by, not a Host header that differs from it (an
 * absolute-form target's authority wins, RFC 9112 §3.2.2; an HTTP/2 `host` may differ from
 * `:authority` in case, trailing dot or default port). nginx passes the header as it came, so an
 * application building links from HTTP_HOST would name a site other than the one that served it.
 */
function routedHost(ctx: RequestContext, pairs: Array<[string, string]>): Array<[string, string]> {
  const authority = ctx.ex.authority;
  if (authority === undefined) return pairs;
  for (let i = 0; i < pairs.length; i++) {
    const [name, value] = pairs[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (value === authority) return pairs;
      const out = pairs.slice();
      out[i] = [name, authority];
      return out;
    }
  }
  return pairs;
}

/**
 * The forwarding headers an application reads as HTTP_X_FORWARDED_FOR and HTTP_X_REAL_IP, never
 * as a client wrote them (nginx passes them verbatim with fastcgi_pass): from a client that is not
 * a trusted proxy every forwarding header is dropped, and an X-Forwarded-For or X-Real-IP it sent
 * is replaced with what an HTTP upstream gets (proxy-headers.ts): the trusted chain plus the peer,
 * and the client address found in it. A request without them gets none, as from nginx.
 */
function forwardingHeaders(ctx: RequestContext, pairs: Array<[string, string]>): Array<[string, string]> {
  const remote = ctx.ex.conn.remoteAddress;
  const trusted = ctx.env.trust(remote);
  let incomingXff: string | undefined;
  let sent = false;
  const out: Array<[string, string]> = [];
  for (const pair of pairs) {
    const name = pair[0].toLowerCase();
    if (name === 'x-forwarded-for' || name === 'x-real-ip') {
      sent = true;
      if (trusted && name === 'x-forwarded-for') incomingXff = incomingXff === undefined ? pair[1] : `${incomingXff}, ${pair[1]}`;
      continue;
    }
    if (!trusted && FORWARDED_FROM_CLIENT.has(name)) continue;
    out.push(pair);
  }
  if (!sent) return out;
  out.push(['X-Forwarded-For', incomingXff ? `${incomingXff}, ${remote}` : remote]);
  out.push(['X-Real-IP', clientAddress(remote, incomingXff, ctx.env.trust)]);
  return out;
}
