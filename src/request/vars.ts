// The nginx variables of one request ($host, $uri, $fastcgi_script_name, …), each computed only
// when a template asks for it.
import { randomBytes, type X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import type { ConnectionInfo, Exchange } from '../http/exchange.js';
import { headerValue } from '../http/headers.js';
import { fastcgiPathVars } from '../http/fastcgi-path.js';
import { originForm } from '../http/normalize.js';
import type { VarSource } from '../http/vars-types.js';
import { uriAddedToAlias } from './alias-uri.js';
import type { CompiledRoute, CompiledSite, LocationMatch } from '../router/types.js';
import { VERSION } from '../version.js';

/** What the variables read of a request: its context (context.ts), seen from here. */
export interface VarsContext {
  readonly ex: Exchange;
  readonly host: string;
  readonly site: CompiledSite;
  readonly route?: CompiledRoute | undefined;
  readonly path: string;
  readonly args: string;
  /** The location match, whose regex's named captures are variables too. */
  readonly match?: LocationMatch | undefined;
  readonly upstreamAddr?: string | undefined;
  readonly upstreamTime?: number | undefined;
  readonly upstreamStatus?: number | undefined;
  readonly upstreamHeaders?: IncomingHttpHeaders | undefined;
  readonly upstreamResponseTime?: number | undefined;
}

// issue 17: rewrite — user variables live beside the request, not in it: a request that sets none
// pays nothing, and an overlay of the vars (Object.create, for other captures) shares them.
const userValues = new WeakMap<VarsContext, Map<string, string>>();

function userStore(ctx: VarsContext): Map<string, string> {
  let store = userValues.get(ctx);
  if (!store) {
    store = new Map();
    userValues.set(ctx, store);
  }
  return store;
}

/** nginx's connection number ($connection) and its request count ($connection_requests). */
interface ConnectionCount {
  serial: number;
  requests: number;
}
const connections = new WeakMap<ConnectionInfo, ConnectionCount>();
let lastSerial = 0;

function countRequest(conn: ConnectionInfo): ConnectionCount {
  let c = connections.get(conn);
  if (!c) {
    c = { serial: ++lastSerial, requests: 0 };
    connections.set(conn, c);
  }
  c.requests += 1;
  return c;
}

/** A header field of a response or upstream response as one string (a list joined with ", "). */
function fieldText(value: string | string[] | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

const seconds = (s: number | undefined): string | undefined => (s === undefined ? undefined : s.toFixed(3));

/** nginx variables over one request; each is computed only when a template asks for it. */
export class RequestVars implements VarSource {
  proxyHost = '';
  captures?: string[];
  /** The status a handler is about to send, for $status in its own text (nginx's headers_out.status). */
  pendingStatus = 0;
  /** The listener's exchange, not a wrapper route middleware puts in ctx.ex: it holds what was sent. */
  private readonly base: Exchange;
  private readonly conn: ConnectionCount;
  /** This request's number on its connection (the count goes on with the next requests). */
  private readonly nth: number;
  private id: string | undefined;
  private realpath: string | undefined;
  /**
   * `parent`: the vars of the request this one works for (a cache fill), whose $request_id and
   * connection count it shares.
   */
  constructor(
    private readonly ctx: VarsContext,
    private readonly parent?: RequestVars,
  ) {
    this.base = ctx.ex;
    // Counted here, once per request, so that $connection_requests is right whenever it is asked.
    // (A partial context, as some tests build, has no exchange: nothing to count.)
    const conn = (ctx.ex as Exchange | undefined)?.conn;
    this.conn = parent ? parent.conn : conn ? countRequest(conn) : { serial: 0, requests: 0 };
    this.nth = parent ? parent.nth : this.conn.requests;
  }
  get host(): string {
    return this.ctx.host || this.ctx.site.config.hosts[0] || '';
  }
  get remoteAddr(): string {
    return this.ctx.ex.conn.remoteAddress;
  }
  get remotePort(): number {
    return this.ctx.ex.conn.remotePort;
  }
  get scheme(): 'http' | 'https' {
    return this.ctx.ex.conn.secure ? 'https' : 'http';
  }
  get serverPort(): number {
    return this.ctx.ex.conn.localPort;
  }
  get serverName(): string {
    return this.ctx.site.config.hosts[0] ?? '';
  }
  /** nginx's $request_uri is origin-form also for an absolute-form target (ngx_http_parse_request_line). */
  get requestUri(): string {
    return originForm(this.ctx.ex.rawTarget);
  }
  get uri(): string {
    return this.ctx.path;
  }
  get args(): string {
    return this.ctx.args;
  }
  get proxyAddXForwardedFor(): string {
    const xff = headerValue(this.ctx.ex, 'x-forwarded-for');
    return xff ? `${xff}, ${this.remoteAddr}` : this.remoteAddr;
  }
  header(name: string): string | undefined {
    return headerValue(this.ctx.ex, name);
  }
  // Variables of nginx's fastcgi.conf, for `headers` and other templates (middleware/variables.ts).
  get method(): string {
    return this.ctx.ex.method;
  }
  get serverAddr(): string {
    return this.ctx.ex.conn.localAddress;
  }
  get serverProtocol(): string {
    return this.ctx.ex.protocol;
  }
  get contentType(): string {
    return headerValue(this.ctx.ex, 'content-type') ?? '';
  }
  get contentLength(): string {
    return headerValue(this.ctx.ex, 'content-length') ?? '';
  }
  /** nginx keeps an alias as written (trailing slash included) and strips a root's trailing slash. */
  get documentRoot(): string {
    const route = this.ctx.route;
    const alias = route?.config.alias;
    if (alias) return route.aliasTemplate ? route.aliasTemplate(this) : alias.path;
    // Before a location is found (server-level rewrite, `if -f`), nginx uses the server's root.
    const root = (route ? route.config.root : this.ctx.site.config.root) ?? '';
    return root.endsWith('/') ? root.slice(0, -1) : root;
  }
  /** ngx_http_map_uri_to_path: an alias replaces the location's name; in a regex location it is the whole name. */
  get requestFilename(): string {
    const alias = this.ctx.route?.config.alias;
    if (!alias) return this.documentRoot + this.ctx.path;
    const loc = alias.location;
    if (loc.kind === 'regex' || loc.kind === 'regex-ci') return this.documentRoot + (uriAddedToAlias(this.ctx) ? this.ctx.path : '');
    const path = this.ctx.path;
    return this.documentRoot + (path.startsWith(loc.value) ? path.slice(loc.value.length) : path);
  }
  get fastcgiScriptName(): string {
    return fastcgiPathVars(this.ctx.path, this.ctx.route?.fastcgi).scriptName;
  }
  get fastcgiPathInfo(): string {
    return fastcgiPathVars(this.ctx.path, this.ctx.route?.fastcgi).pathInfo;
  }
  /** nginx `set $name value` (and auth_request_set): the value templates read as `$name`. */
  setUser(name: string, value: string): void {
    userStore(this.ctx).set(name, value);
  }
  getUser(name: string): string | undefined {
    const value = userValues.get(this.ctx)?.get(name);
    if (value !== undefined) return value;
    // A named capture of the location regex (nginx sets these when the location matches).
    return this.ctx.match?.groups?.[name];
  }
  cachedMap(name: string, compute: () => string): string {
    const store = userStore(this.ctx);
    const hit = store.get(name);
    if (hit !== undefined) return hit;
    // A map whose source names itself reads '' (nginx: "cycle while evaluating variable").
    store.set(name, '');
    const value = compute();
    store.set(name, value);
    return value;
  }
  // issue 17: logs.
  get realpathRoot(): string {
    if (this.realpath === undefined) {
      const root = this.documentRoot;
      try {
        this.realpath = root ? fs.realpathSync.native(root) : '';
      } catch {
        this.realpath = '';
      }
    }
    return this.realpath;
  }
  sentHeader(name: string): string | undefined {
    const headers = this.base.sentHeaders;
    if (!headers) return undefined;
    const exact = headers[name];
    if (exact !== undefined) return fieldText(exact);
    // Handlers mostly write lower-case names, but a name is case-insensitive (RFC 9110 §5.1).
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    return key === undefined ? undefined : fieldText(headers[key]);
  }
  get upstreamAddr(): string | undefined {
    return this.ctx.upstreamAddr;
  }
  /** nginx reports 502 (504 on a timeout) for an upstream that gave no response: the status that was sent. */
  get upstreamStatus(): string | undefined {
    if (this.ctx.upstreamStatus !== undefined) return String(this.ctx.upstreamStatus);
    if (this.ctx.upstreamAddr === undefined) return undefined;
    return this.base.status >= 500 ? String(this.base.status) : undefined;
  }
  get upstreamResponseTime(): string | undefined {
    return seconds(this.ctx.upstreamResponseTime ?? this.ctx.upstreamTime);
  }
  get upstreamHeaderTime(): string | undefined {
    return seconds(this.ctx.upstreamTime);
  }
  upstreamHeader(name: string): string | undefined {
    return fieldText(this.ctx.upstreamHeaders?.[name]);
  }
  /** From the response's Cache-Status (RFC 9211, cache/cache-status.ts) to nginx's words. */
  get upstreamCacheStatus(): string | undefined {
    const status = this.sentHeader('cache-status');
    if (status === undefined || !status.startsWith('gatehouse')) return undefined;
    if (/; hit\b/.test(status)) return 'HIT';
    if (/fwd=stale/.test(status)) return /fwd-status=304/.test(status) ? 'REVALIDATED' : 'EXPIRED';
    if (/fwd=(?:uri-miss|vary-miss)/.test(status)) return 'MISS';
    if (/fwd=(?:bypass|request|method)/.test(status)) return 'BYPASS';
    return undefined;
  }
  get sslProtocol(): string | undefined {
    return this.ctx.ex.conn.tlsVersion;
  }
  get sslCipher(): string | undefined {
    return this.ctx.ex.conn.cipher;
  }
  get sslServerName(): string | undefined {
    return this.ctx.ex.conn.servername;
  }
  get sslSessionReused(): string | undefined {
    return this.ctx.ex.conn.secure ? (this.ctx.ex.conn.sessionReused ? 'r' : '.') : undefined;
  }
  get sslAlpnProtocol(): string | undefined {
    return this.ctx.ex.conn.alpnProtocol;
  }
  /** issue 19: NONE on TLS connections never asked for a certificate, as nginx without ssl_verify_client. */
  get sslClientVerify(): string | undefined {
    return this.ctx.ex.conn.secure ? (this.ctx.ex.conn.clientCert?.verify ?? 'NONE') : undefined;
  }
  get sslClientCertificate(): X509Certificate | undefined {
    return this.ctx.ex.conn.clientCert?.cert;
  }
  get requestId(): string {
    if (this.parent) return this.parent.requestId;
    this.id ??= randomBytes(16).toString('hex');
    return this.id;
  }
  /** nginx's r->request_line; an HTTP/2 request gets one made up the same way. */
  get request(): string {
    const ex = this.ctx.ex;
    return `${ex.method} ${ex.rawTarget} ${ex.protocol}`;
  }
  get status(): string {
    const status = this.base.status || this.pendingStatus || (this.base.closed ? 499 : 0);
    return String(status).padStart(3, '0');
  }
  /** What nginx counts: the body as it went on the wire, chunk framing included. */
  get bodyBytesSent(): string {
    return String(this.base.bytesSent + (this.base.framingBytes ?? 0));
  }
  get bytesSent(): string {
    return String((this.base.headBytes ?? 0) + this.base.bytesSent + (this.base.framingBytes ?? 0));
  }
  get requestTime(): string {
    return ((performance.now() - this.base.startedAt) / 1000).toFixed(3);
  }
  /** The request line and header fields as HTTP/1.1 would carry them, plus the declared body. */
  get requestLength(): string {
    const ex = this.ctx.ex;
    let n = this.request.length + 2 + 2;
    for (const [name, value] of Object.entries(ex.headers)) {
      if (name.startsWith(':') || value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) n += name.length + 2 + v.length + 2;
    }
    return String(n + (Number(ex.headers['content-length']) || 0));
  }
  /** ngx_http_auth_basic_user: the user of `Authorization: Basic`, whatever the route's auth. */
  get remoteUser(): string | undefined {
    const auth = headerValue(this.ctx.ex, 'authorization');
    const m = auth === undefined ? null : /^basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(auth);
    if (!m) return undefined;
    const decoded = Buffer.from(m[1] as string, 'base64').toString('latin1');
    const colon = decoded.indexOf(':');
    return colon === -1 ? undefined : decoded.slice(0, colon);
  }
  get connection(): string {
    return String(this.conn.serial);
  }
  get connectionRequests(): string {
    return String(this.nth);
  }
  get version(): string {
    return VERSION;
  }
}
