// The nginx variables of one request ($host, $uri, $fastcgi_script_name, …), each computed only
// when a template asks for it.
import type { Exchange } from '../http/exchange.js';
import { headerValue } from '../http/headers.js';
import { fastcgiPathVars } from '../http/fastcgi-path.js';
import { originForm } from '../http/normalize.js';
import type { VarSource } from '../http/vars-types.js';
import { uriAddedToAlias } from './alias-uri.js';
import type { CompiledRoute, CompiledSite, LocationMatch } from '../router/types.js';

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

/** nginx variables over one request; each is computed only when a template asks for it. */
export class RequestVars implements VarSource {
  proxyHost = '';
  captures?: string[];
  constructor(private readonly ctx: VarsContext) {}
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
}
