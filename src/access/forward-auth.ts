// nginx's auth_request (and auth_request_set), Caddy's forward_auth (copy_headers): before the
// request goes on, a GET with its headers and no body asks an auth service. 2xx lets it in, 401
// (with the service's WWW-Authenticate) and 403 are passed to the client, anything else, a
// timeout or a failure is 500 (ngx_http_auth_request_handler).
import { Agent, request } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { ForwardAuthConfig } from '../config/types.js';
import type { Exchange } from '../http/exchange.js';
import { headerValue } from '../http/headers.js';
import { HOP_BY_HOP, connectionTokens } from '../http/hop-by-hop.js';
import { clientAddress } from '../http/trust.js';
import { compileTemplate, type Template } from '../http/variables.js';
import type { Logger } from '../log/types.js';
import type { RequestContext } from '../request/context.js';
import { FORBIDDEN, INTERNAL_ERROR, PASS, type AccessCheck, type Verdict } from './verdict.js';

type On = Exclude<ForwardAuthConfig, 'off'>;

/** Kept-alive connections to auth services, shared by every route and reload (undici pools per origin). */
const agent = new Agent({ keepAliveTimeout: 4_000, connections: 256 });

/** What the auth service is told about the request it judges; a client's own values are replaced. */
const SET_BY_GATEHOUSE = new Set([
  'x-original-uri',
  'x-original-method',
  'x-original-url',
  'x-forwarded-method',
  'x-forwarded-uri',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-for',
  'x-forwarded-port',
  'x-real-ip',
  'forwarded',
]);
const NOT_SENT = new Set(['host', 'content-length', 'content-type', 'expect', 'transfer-encoding', 'content-encoding']);

/**
 * The client's headers less hop-by-hop ones and the body's, plus what the service needs to judge
 * the request (nginx configs set X-Original-URI; Authelia, Traefik and Caddy read X-Forwarded-*).
 * As on proxied requests (handler/proxy-headers.ts), forwarding headers from a client that is not
 * a trusted proxy are replaced, not appended to: services decide by X-Forwarded-For.
 */
export function subrequestHeaders(ctx: RequestContext): Record<string, string | string[]> {
  const { ex } = ctx;
  const remote = ex.conn.remoteAddress;
  const trusted = ctx.env.trust(remote);
  const incomingXff = trusted ? headerValue(ex, 'x-forwarded-for') : undefined;
  // Behind a trusted proxy (one that terminates TLS, say) its view of the request is the one that counts.
  const fromProxy = (name: string): string | undefined => (trusted ? headerValue(ex, name) : undefined);
  const dropped = ex.headers.connection !== undefined ? connectionTokens(ex.headers.connection) : undefined;
  // nginx's ignore_invalid_headers with underscores_in_headers off: `X_Forwarded_For` would reach
  // a service that folds "_" into "-" past the forwarding headers replaced below.
  const names = ctx.site.config.underscoresInHeaders ? /^[a-z0-9_-]+$/ : /^[a-z0-9-]+$/;
  const out: Record<string, string | string[]> = {};
  for (const name in ex.headers) {
    if (!names.test(name) || HOP_BY_HOP.has(name) || NOT_SENT.has(name)) continue;
    if (SET_BY_GATEHOUSE.has(name) || dropped?.includes(name)) continue;
    const value = ex.headers[name];
    if (value !== undefined) out[name] = value;
  }
  const uri = ctx.vars.requestUri;
  out['x-original-uri'] = uri;
  out['x-original-method'] = ex.method;
  out['x-forwarded-method'] = ex.method;
  out['x-forwarded-uri'] = uri;
  out['x-forwarded-proto'] = fromProxy('x-forwarded-proto') ?? ctx.vars.scheme;
  out['x-forwarded-host'] = fromProxy('x-forwarded-host') ?? ex.authority ?? ctx.vars.host;
  out['x-forwarded-for'] = incomingXff ? `${incomingXff}, ${remote}` : remote;
  out['x-forwarded-port'] = fromProxy('x-forwarded-port') ?? String(ex.conn.localPort);
  out['x-real-ip'] = clientAddress(remote, incomingXff, ctx.env.trust);
  return out;
}

/** The same name with "_" and "-" folded: FastCGI and many frameworks read `Remote_User` as REMOTE-USER. */
function folded(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}

/**
 * Puts the auth service's value of each copied header on the request, replacing whatever the
 * client sent under that name or its "_" spelling, and removing it when the service sent none: a
 * client must never be able to say who it is. The raw header list of an HTTP/1 request (which
 * FastCGI params are built from) is rewritten too.
 */
export function copyAuthHeaders(ex: Exchange, names: readonly string[], from: IncomingHttpHeaders): void {
  const headers = ex.headers as Record<string, string | string[] | undefined>;
  const raw = (ex as { req?: { rawHeaders?: string[] } }).req?.rawHeaders;
  for (const name of names) {
    const lower = name.toLowerCase();
    const key = folded(name);
    for (const h of Object.keys(headers)) if (folded(h) === key) delete headers[h];
    if (raw) {
      for (let i = raw.length - 2; i >= 0; i -= 2) if (folded(raw[i]!) === key) raw.splice(i, 2);
    }
    const value = from[lower];
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    headers[lower] = text;
    raw?.push(name, text);
  }
}

type SetPart = string | { header: string } | Template;

/** auth_request_set values: `$upstream_http_NAME` reads the auth response, other variables the request. */
function compileSet(value: string): SetPart[] {
  const parts: SetPart[] = [];
  const re = /\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z_][A-Za-z0-9_]*|[1-9]))/g;
  let last = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    if (m.index > last) parts.push(value.slice(last, m.index));
    const name = (m[1] ?? m[2])!;
    parts.push(name.startsWith('upstream_http_') ? { header: name.slice(14).replace(/_/g, '-').toLowerCase() } : compileTemplate(`\${${name}}`));
    last = m.index + m[0].length;
  }
  if (last < value.length) parts.push(value.slice(last));
  return parts;
}

function evaluate(parts: readonly SetPart[], ctx: RequestContext, headers: IncomingHttpHeaders): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') out += p;
    else if (typeof p === 'function') out += p(ctx.vars);
    else {
      const v = headers[p.header];
      out += Array.isArray(v) ? v.join(', ') : (v ?? '');
    }
  }
  return out;
}

export function forwardAuthCheck(cfg: On, logger: Logger): AccessCheck {
  const sets = Object.entries(cfg.set).map(([name, value]) => [name, compileSet(value)] as const);
  return async (ctx: RequestContext): Promise<Verdict> => {
    const { ex } = ctx;
    const gone = new AbortController();
    ex.onClose(() => gone.abort());
    let status: number;
    let headers: IncomingHttpHeaders;
    try {
      const res = await request(cfg.url, {
        method: 'GET',
        headers: subrequestHeaders(ctx),
        dispatcher: agent,
        signal: AbortSignal.any([gone.signal, AbortSignal.timeout(cfg.timeoutMs)]),
        headersTimeout: cfg.timeoutMs,
        bodyTimeout: cfg.timeoutMs,
      });
      status = res.statusCode;
      headers = res.headers as IncomingHttpHeaders;
      // nginx reads only the head of the answer (the subrequest is header_only); the body is dropped.
      res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    } catch (err) {
      if (!gone.signal.aborted) logger.error(`auth request to ${cfg.url} failed: ${(err as Error).message}`, { uri: ex.rawTarget });
      return INTERNAL_ERROR;
    }
    for (const [name, parts] of sets) ctx.vars.setUser(name, evaluate(parts, ctx, headers));
    if (status >= 200 && status < 300) {
      if (cfg.copyHeaders.length > 0) copyAuthHeaders(ex, cfg.copyHeaders, headers);
      return PASS;
    }
    if (status === 403) return FORBIDDEN;
    if (status === 401) {
      const challenge = headers['www-authenticate'];
      return { kind: 'refuse', status: 401, headers: challenge !== undefined ? { 'www-authenticate': challenge } : {} };
    }
    logger.error(`auth request unexpected status: ${status}`, { url: cfg.url, uri: ex.rawTarget });
    return INTERNAL_ERROR;
  };
}
