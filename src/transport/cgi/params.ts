// The parameters nginx sends with its stock parameter files — fastcgi.conf (+ PATH_INFO as Debian's
// snippets/fastcgi-php.conf adds it), uwsgi_params, scgi_params — so that an app sees behind
// gatehouse what it sees behind nginx with the same root (README "What reaches the backend"). Values follow nginx's
// variables: $content_type and $content_length are sent empty when absent (no if_not_empty on
// them), HTTPS is "on" over TLS and left out otherwise (`HTTPS $https if_not_empty`).
//
// Strings: requestUri, args and header values are byte strings as Node delivers them (latin1, one
// char per byte); `path`, roots and the index are Unicode text and are turned into UTF-8 byte
// strings here (see bytes.ts), which is what nginx's $uri holds after percent-decoding.
import type { IncomingHttpHeaders } from 'node:http';
import { fastcgiScript } from '../../http/fastcgi-path.js';
import { utf8ByteString } from './bytes.js';

export type CgiParams = Array<[string, string]>;

export interface CgiRequestInfo {
  method: string;
  /** $request_uri: the request target as the client sent it, with args (`:path` for HTTP/2). */
  requestUri: string;
  /**
   * $uri / $document_uri: the normalised, percent-decoded path, without args, as the router gives
   * it (router/normalize.ts: Unicode text, a byte that is not UTF-8 as U+DC80..U+DCFF).
   */
  path: string;
  /**
   * $document_uri when a `$fastcgi_script_name` tryFiles hit made the script name the request's
   * $uri (`path` then stays the one the script and PATH_INFO are split from); else `path`.
   */
  documentUri?: string;
  /** $args / $query_string: the query without `?`, '' when none. */
  args: string;
  /** $content_type; defaults to the first Content-Type request header, else ''. */
  contentType?: string;
  /**
   * $content_length: the body's length when known — the Content-Length header, or the length of a
   * chunked body once buffered (nginx buffers it and sends that). Defaults to the first
   * Content-Length request header, else ''.
   */
  contentLength?: number | string;
  /** $server_protocol. */
  serverProtocol: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2.0';
  /** $scheme: 'https' when the client connection is TLS, which also sets HTTPS=on. */
  scheme: 'http' | 'https';
  remoteAddr: string;
  remotePort: number;
  /** $server_addr / $server_port: the listener's local address and port. */
  serverAddr: string;
  serverPort: number;
  /** $server_name: the site's primary name, not the Host header. */
  serverName: string;
  /** An HTTP/2 request's `:authority`: it becomes HTTP_HOST when no Host header was sent. */
  authority?: string;
  /** Request headers in arrival order, names in any case (see headerPairs()). Pseudo-headers are skipped. */
  headers: ReadonlyArray<readonly [string, string]>;
}

export interface FastCgiParamOptions {
  /** `root`: gives DOCUMENT_ROOT and the front of SCRIPT_FILENAME. */
  root: string;
  /**
   * SCRIPT_FILENAME when the route has an `alias` (nginx's $request_filename: the alias in place
   * of the location's name), instead of root + script name. `root` is then the alias as written,
   * sent as DOCUMENT_ROOT with its trailing slash (nginx's $document_root keeps an alias' slash).
   */
  scriptFilename?: string;
  /** `fastcgi_index`: appended to a script name that ends with "/". */
  index?: string;
  /** `fastcgi_split_path_info`: true for ^(.+?\.php)(/.*)$, or a RegExp with two captures. Also sends PATH_INFO. */
  splitPathInfo?: boolean | RegExp;
  /** gatehouse's version, for SERVER_SOFTWARE=gatehouse/<version> (nginx sends nginx/$nginx_version). */
  version: string;
  /** The route's own `params`, evaluated (UserParams). */
  params?: CgiParams;
}

export interface RootOption {
  /** `root`: sets DOCUMENT_ROOT; without it DOCUMENT_ROOT is not sent. */
  root?: string;
  /** The route's own `params`, evaluated (UserParams). */
  params?: CgiParams;
}

/** The uwsgi and SCGI options of a request: its root and its route's `params`. */
export function rootOption(opts: { root?: string; params?: CgiParams }): RootOption {
  return { ...(opts.root !== undefined ? { root: opts.root } : {}), ...(opts.params !== undefined ? { params: opts.params } : {}) };
}

/**
 * The stock list with the route's `params`: nginx sends a fastcgi_param written after
 * `include fastcgi.conf` after the stock line of the same name, and php-fpm and uWSGI keep the
 * last of two equal names, so the user's value takes the stock one's place (sent once: the SCGI
 * spec forbids a name twice). The others follow the stock ones, before the headers.
 */
function withUserParams(stock: CgiParams, user: CgiParams | undefined): CgiParams {
  if (user === undefined || user.length === 0) return stock;
  const extra = new Map(user);
  const out: CgiParams = stock.map(([name, value]) => {
    const mine = extra.get(name);
    if (mine === undefined) return [name, value];
    extra.delete(name);
    return [name, mine];
  });
  for (const pair of extra) out.push(pair);
  return out;
}


// Names nginx passes on: ngx_http_parse_header_line flags any other byte (including "_", with the
// default underscores_in_headers off) and ignore_invalid_headers (on by default) drops the header.
// That keeps "X_Forwarded_For" from posing as HTTP_X_FORWARDED_FOR.
const PASSED_NAME = /^[A-Za-z0-9-]+$/;

/**
 * Every request header as HTTP_<NAME> (upper case, "-" → "_"), in arrival order. Headers with the
 * same name are sent once, at the first one's place, joined with ", " — "; " for Cookie — as nginx
 * ≥ 1.23 does (ngx_http_link_multi_headers, then the join in ngx_http_fastcgi_create_request and its
 * uwsgi/scgi twins). Content-Type and Content-Length are sent this way too (HTTP_CONTENT_TYPE,
 * HTTP_CONTENT_LENGTH), as nginx does. Nothing is stripped: nginx passes hop-by-hop headers (and
 * Proxy, see httpoxy) to these backends as well.
 */
export function httpHeaderParams(headers: ReadonlyArray<readonly [string, string]>, authority?: string): CgiParams {
  const groups = new Map<string, string[]>();
  if (authority && !headers.some(([name]) => name.toLowerCase() === 'host')) groups.set('host', [authority]);
  for (const [name, value] of headers) {
    if (!PASSED_NAME.test(name)) continue;
    const key = name.toLowerCase();
    const values = groups.get(key);
    if (values) values.push(value);
    else groups.set(key, [value]);
  }
  const out: CgiParams = [];
  for (const [key, values] of groups) {
    out.push([`HTTP_${key.toUpperCase().replaceAll('-', '_')}`, values.join(key === 'cookie' ? '; ' : ', ')]);
  }
  return out;
}

/**
 * Request headers as pairs in arrival order: from `rawHeaders` (HTTP/1.x, keeps every duplicate)
 * or a headers object (HTTP/2).
 */
export function headerPairs(headers: IncomingHttpHeaders | readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (isRawHeaders(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) out.push([headers[i]!, headers[i + 1]!]);
    return out;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push([name, v]);
    else out.push([name, value]);
  }
  return out;
}

/**
 * `info` with $content_length set, once the transport knows the body's length. Object.assign, not
 * `{ ...info, contentLength }`: V8 11 (Node 20) copies a spread followed by more properties on a
 * slow runtime path, about 2 µs per request against 0.2 µs.
 */
export function withContentLength(info: CgiRequestInfo, contentLength: number | undefined): CgiRequestInfo {
  return contentLength === undefined ? info : Object.assign({}, info, { contentLength });
}

function isRawHeaders(headers: IncomingHttpHeaders | readonly string[]): headers is readonly string[] {
  return Array.isArray(headers);
}

/**
 * $document_root: the `root` directive drops one trailing "/" (ngx_http_core_root), so root +
 * script name has one slash.
 */
function documentRoot(root: string): string {
  return utf8ByteString(root.endsWith('/') ? root.slice(0, -1) : root);
}

function firstHeader(info: CgiRequestInfo, name: string): string | undefined {
  for (const [n, v] of info.headers) if (n.toLowerCase() === name) return v;
  return undefined;
}

function contentType(info: CgiRequestInfo): string {
  return info.contentType ?? firstHeader(info, 'content-type') ?? '';
}

function contentLength(info: CgiRequestInfo): string {
  return info.contentLength !== undefined ? String(info.contentLength) : (firstHeader(info, 'content-length') ?? '');
}


/**
 * $remote_user: the user name of a `Basic` Authorization header, whether or not the route checks
 * it (ngx_http_auth_basic_user), else ''. fastcgi.conf sends it even when empty.
 */
function remoteUser(info: CgiRequestInfo): string {
  const auth = firstHeader(info, 'authorization');
  const m = auth !== undefined ? /^basic[ ]+([A-Za-z0-9+/=]+)[ ]*$/i.exec(auth) : null;
  if (!m) return '';
  const decoded = Buffer.from(m[1] ?? '', 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  return colon === -1 ? '' : decoded.slice(0, colon);
}

/** fastcgi.conf, in its order, with PATH_INFO first when splitting (Debian's snippets/fastcgi-php.conf), then HTTP_*. */
export function fastcgiParams(info: CgiRequestInfo, options: FastCgiParamOptions): CgiParams {
  const uri = utf8ByteString(info.path);
  const root = options.scriptFilename !== undefined ? utf8ByteString(options.root) : documentRoot(options.root);
  const split = fastcgiScript(uri, options.splitPathInfo, options.index ? utf8ByteString(options.index) : '');
  const scriptName = split.scriptName;
  const params: CgiParams = [];
  if (options.splitPathInfo) params.push(['PATH_INFO', split.pathInfo]);
  params.push(
    ['SCRIPT_FILENAME', options.scriptFilename !== undefined ? utf8ByteString(options.scriptFilename) : root + scriptName],
    ['QUERY_STRING', info.args],
    ['REQUEST_METHOD', info.method],
    ['CONTENT_TYPE', contentType(info)],
    ['CONTENT_LENGTH', contentLength(info)],
    ['SCRIPT_NAME', scriptName],
    ['REQUEST_URI', info.requestUri],
    ['DOCUMENT_URI', info.documentUri !== undefined ? utf8ByteString(info.documentUri) : uri],
    ['DOCUMENT_ROOT', root],
    ['SERVER_PROTOCOL', info.serverProtocol],
    ['REQUEST_SCHEME', info.scheme],
  );
  if (info.scheme === 'https') params.push(['HTTPS', 'on']);
  params.push(
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['SERVER_SOFTWARE', `gatehouse/${options.version}`],
    ['REMOTE_ADDR', info.remoteAddr],
    ['REMOTE_PORT', String(info.remotePort)],
    ['REMOTE_USER', remoteUser(info)],
    ['SERVER_ADDR', info.serverAddr],
    ['SERVER_PORT', String(info.serverPort)],
    ['SERVER_NAME', info.serverName],
    // "PHP only, required if PHP was built with --enable-force-cgi-redirect" (fastcgi.conf).
    ['REDIRECT_STATUS', '200'],
  );
  return withUserParams(params, options.params).concat(httpHeaderParams(info.headers, info.authority));
}

/** uwsgi_params, in its order (PATH_INFO is $document_uri), then HTTP_*. */
export function uwsgiParams(info: CgiRequestInfo, options: RootOption = {}): CgiParams {
  const params: CgiParams = [
    ['QUERY_STRING', info.args],
    ['REQUEST_METHOD', info.method],
    ['CONTENT_TYPE', contentType(info)],
    ['CONTENT_LENGTH', contentLength(info)],
    ['REQUEST_URI', info.requestUri],
    ['PATH_INFO', utf8ByteString(info.path)],
  ];
  if (options.root !== undefined) params.push(['DOCUMENT_ROOT', documentRoot(options.root)]);
  params.push(['SERVER_PROTOCOL', info.serverProtocol], ['REQUEST_SCHEME', info.scheme]);
  if (info.scheme === 'https') params.push(['HTTPS', 'on']);
  params.push(
    ['REMOTE_ADDR', info.remoteAddr],
    ['REMOTE_PORT', String(info.remotePort)],
    ['SERVER_PORT', String(info.serverPort)],
    ['SERVER_NAME', info.serverName],
  );
  return withUserParams(params, options.params).concat(httpHeaderParams(info.headers, info.authority));
}

/**
 * scgi_params, in its order, then HTTP_*. CONTENT_LENGTH and SCGI=1 are not in the list:
 * encodeScgiRequest() writes them first, as the SCGI spec requires and nginx's scgi module does.
 */
export function scgiParams(info: CgiRequestInfo, options: RootOption = {}): CgiParams {
  const params: CgiParams = [
    ['REQUEST_METHOD', info.method],
    ['REQUEST_URI', info.requestUri],
    ['QUERY_STRING', info.args],
    ['CONTENT_TYPE', contentType(info)],
    ['DOCUMENT_URI', utf8ByteString(info.path)],
  ];
  if (options.root !== undefined) params.push(['DOCUMENT_ROOT', documentRoot(options.root)]);
  params.push(['SERVER_PROTOCOL', info.serverProtocol], ['REQUEST_SCHEME', info.scheme]);
  if (info.scheme === 'https') params.push(['HTTPS', 'on']);
  params.push(
    ['REMOTE_ADDR', info.remoteAddr],
    ['REMOTE_PORT', String(info.remotePort)],
    ['SERVER_PORT', String(info.serverPort)],
    ['SERVER_NAME', info.serverName],
  );
  return withUserParams(params, options.params).concat(httpHeaderParams(info.headers, info.authority));
}
