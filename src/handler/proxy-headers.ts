// The headers a proxied request and its response carry across gatehouse (SPEC §3).
import type { IncomingHttpHeaders } from 'node:http';
import type { ResponseHeaders } from '../listener/exchange.js';
import { applyHeaderOps, setValue, type CompiledHeaderOps } from '../middleware/header-ops.js';
import { HOP_BY_HOP, connectionTokens } from '../middleware/hop-by-hop.js';
import type { TrustCheck } from '../middleware/trusted-proxies.js';
import { headerValue, type RequestContext } from './context.js';

const FORWARDED_FROM_CLIENT = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-real-ip',
  'forwarded',
]);

export interface RequestHeaderPolicy {
  /** `native`: Host as sent + X-Forwarded-*; `nginx`: Host is $proxy_host and nothing is added (nginx defaults). */
  style: 'native' | 'nginx';
  proxyHost: string;
  ops: CompiledHeaderOps | undefined;
}

/**
 * The client address as the nearest trusted proxy saw it: walk X-Forwarded-For from the right,
 * skipping trusted hops (what nginx's realip module does with real_ip_recursive on).
 */
export function clientAddress(remote: string, xff: string | undefined, trust: TrustCheck): string {
  if (!xff || !trust(remote)) return remote;
  const hops = xff.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = (hops[i] ?? '').trim();
    if (hop !== '' && !trust(hop)) return hop;
  }
  return (hops[0] ?? '').trim() || remote;
}

/** The Host a request goes upstream with before the route's `headers.request` ops. */
function defaultHost(ctx: RequestContext, policy: RequestHeaderPolicy): string {
  return policy.style === 'native' ? (ctx.ex.authority ?? policy.proxyHost) : policy.proxyHost;
}

/**
 * The Host value upstreamRequestHeaders sends, for the cache key (upstream-target.ts); '' when the
 * ops remove it (the transport then sends the server's own address, the same for every request).
 */
export function upstreamHost(ctx: RequestContext, policy: RequestHeaderPolicy): string {
  let host = defaultHost(ctx, policy);
  const ops = policy.ops;
  if (!ops) return host;
  if (ops.remove.includes('host')) host = '';
  for (const [name, template] of ops.set) if (name === 'host') host = setValue(template, ctx.vars);
  return host;
}

export function upstreamRequestHeaders(ctx: RequestContext, policy: RequestHeaderPolicy): Record<string, string | string[]> {
  const { ex, snap } = ctx;
  const src = ex.headers;
  const remote = ex.conn.remoteAddress;
  const trusted = snap.trust(remote);
  const dropped = src.connection !== undefined ? connectionTokens(src.connection) : undefined;
  const out: Record<string, string | string[]> = {};
  for (const name in src) {
    if (name.charCodeAt(0) === 58 /* ':' pseudo-header */) continue;
    if (HOP_BY_HOP.has(name) || name === 'host' || name === 'expect') continue;
    if (dropped !== undefined && dropped.includes(name)) continue;
    // Forwarding headers from an untrusted client are dropped, not appended to (no spoofing).
    if (policy.style === 'native' && !trusted && FORWARDED_FROM_CLIENT.has(name)) continue;
    const value = src[name];
    if (value !== undefined) out[name] = value;
  }
  if (policy.style === 'native') {
    out.host = defaultHost(ctx, policy);
    const incomingXff = trusted ? headerValue(ex, 'x-forwarded-for') : undefined;
    out['x-forwarded-for'] = incomingXff ? `${incomingXff}, ${remote}` : remote;
    if (!trusted || out['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = ex.conn.secure ? 'https' : 'http';
    if (!trusted || out['x-forwarded-host'] === undefined) out['x-forwarded-host'] = ex.authority ?? '';
    if (!trusted || out['x-forwarded-port'] === undefined) out['x-forwarded-port'] = String(ex.conn.localPort);
    out['x-real-ip'] = clientAddress(remote, incomingXff, snap.trust);
  } else {
    out.host = defaultHost(ctx, policy);
  }
  if (policy.ops) applyHeaderOps(out, policy.ops, ctx.vars);
  return out;
}

export function clientResponseHeaders(
  headers: IncomingHttpHeaders,
  ctx: RequestContext,
  ops: CompiledHeaderOps | undefined,
  hsts: string | undefined,
): ResponseHeaders {
  const dropped = headers.connection !== undefined ? connectionTokens(headers.connection) : undefined;
  const out: ResponseHeaders = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name)) continue;
    if (dropped !== undefined && dropped.includes(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  if (hsts !== undefined && ctx.ex.conn.secure && out['strict-transport-security'] === undefined) {
    out['strict-transport-security'] = hsts;
  }
  if (ops) applyHeaderOps(out, ops, ctx.vars);
  return out;
}
