// The nginx variables of one request ($host, $uri, $fastcgi_script_name, …), each computed only
// when a template asks for it.
import type { Exchange } from '../http/exchange.js';
import { headerValue } from '../http/headers.js';
import { fastcgiPathVars } from '../http/fastcgi-path.js';
import { originForm } from '../http/normalize.js';
import type { VarSource } from '../http/vars-types.js';
import { uriAddedToAlias } from './alias-uri.js';
import type { CompiledRoute, CompiledSite } from '../router/types.js';

/** What the variables read of a request: its context (context.ts), seen from here. */
export interface VarsContext {
  readonly ex: Exchange;
  readonly host: string;
  readonly site: CompiledSite;
  readonly route?: CompiledRoute | undefined;
  readonly path: string;
  readonly args: string;
}

/** nginx variables over one request; each is computed only when a template asks for it. */
export class RequestVars implements VarSource {
  proxyHost = '';
  captures?: string[];
  /** Variables the configuration sets while the request runs (nginx auth_request_set, `set`); made on first use. */
  private userVars: Map<string, string> | undefined;
  constructor(private readonly ctx: VarsContext) {}
  /** `name` without "$". */
  setUser(name: string, value: string): void {
    (this.userVars ??= new Map()).set(name, value);
  }
  /** undefined when the request never set `name`. */
  getUser(name: string): string | undefined {
    return this.userVars?.get(name);
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
    const root = route?.config.root ?? '';
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
}
