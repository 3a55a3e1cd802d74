// The HTTP cache in front of a proxy route (README "Configuration reference" `cache: DURATION`): what RFC 9111 allows, as
// http-cache-semantics decides it (a shared cache), served at most DURATION after it was stored or
// last revalidated, never a response with Set-Cookie. GET and HEAD are served from the cache; a
// miss is fetched once per key however many clients ask at once (followers wait for the leader and
// are served from what it stored); the leader's client is streamed to while the body is kept.
import type { IncomingHttpHeaders } from 'node:http';
import CachePolicy from 'http-cache-semantics';
import type { RequestContext } from '../request/context.js';
import type { Exchange, ResponseHeaders } from '../http/exchange.js';
import type { TrustCheck } from '../http/trust.js';
import type { RouteHandler } from '../request/context.js';
import { notModified } from './conditional.js';
import { cacheStatus, ttlOf, variantTtl, type ForwardReason, type StatusParts } from './cache-status.js';
import { invalidateOnSuccess, purge } from './purge.js';
import type { CacheStore } from './store.js';
import { callUpstream, fillRequestHeaders } from './upstream-call.js';
import { POLICY_OPTIONS, policyRequest, secondaryKey, selectVariant, varyFields, withVariant, type Variant } from './variant.js';

export interface CacheRouteOptions {
  /** The route's `cache:` duration. */
  ttlMs: number;
  store: CacheStore;
  /**
   * The primary key: what the route sends upstream (handler/upstream-target.ts). Lookups, PURGE
   * and the invalidation after unsafe methods all use it, so they name the same entries.
   */
  key(ctx: RequestContext): string;
  /** Clients whose PURGE is obeyed (compilePurgeAccess). */
  mayPurge: TrustCheck;
}

interface Lookup {
  ctx: RequestContext;
  handler: RouteHandler;
  opts: CacheRouteOptions;
  key: string;
  req: CachePolicy.Request;
}

type VariantHead = Omit<Variant, 'body'>;

const UNSAFE = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);
/** The errors stale-if-error covers (RFC 5861 §4). */
const SERVER_ERRORS = new Set([500, 502, 503, 504]);

export function cacheRoute(handler: RouteHandler, opts: CacheRouteOptions): RouteHandler {
  return (ctx) => {
    const method = ctx.ex.method;
    if (method === 'GET' || method === 'HEAD') {
      const key = opts.key(ctx);
      // Method GET: a HEAD is answered from the stored GET response (RFC 9110 §9.3.2).
      const l: Lookup = { ctx, handler, opts, key, req: policyRequest(key, 'GET', ctx.host, ctx.ex.headers) };
      if (bypassed(ctx.ex.headers)) return forward(l, 'request');
      return lookup(l);
    }
    if (method === 'PURGE') return purge(ctx, opts.store, opts.key(ctx), opts.mayPurge);
    if (UNSAFE.has(method)) invalidateOnSuccess(ctx, opts.store, opts.key(ctx));
    return handler(ctx);
  };
}

/**
 * Requests the cache does not take part in: ranges (206s are not stored), WebSocket upgrades, and
 * gRPC, whose status travels in trailers and belongs to one call.
 */
function bypassed(headers: IncomingHttpHeaders): boolean {
  return headers.range !== undefined || headers.upgrade !== undefined || /^application\/grpc/i.test(String(headers['content-type'] ?? ''));
}

async function lookup(l: Lookup): Promise<void> {
  const found = await l.opts.store.get(l.key);
  if (l.ctx.ex.closed) return;
  // A disk read can outlast a fill of the same key that finished meanwhile: memory is newer.
  const variants = l.opts.store.memory.get(l.key) ?? found;
  const v = selectVariant(variants, l.req);
  if (v) return use(l, v);
  return miss(l, variants?.length ? 'vary-miss' : 'uri-miss');
}

/** Serves a fresh (or stale-while-revalidate) entry, or revalidates it. */
async function use(l: Lookup, v: Variant): Promise<void> {
  const ev = Date.now() < v.cappedUntil ? v.policy.evaluateRequest(l.req) : undefined;
  if (ev?.response) {
    const swr = ev.revalidation !== undefined;
    serve(l.ctx.ex, v, { hit: true, ttl: variantTtl(v), ...(swr ? { detail: 'stale-while-revalidate' } : {}) });
    if (swr && !l.opts.store.inflight.has(l.key)) revalidate(l, v, ev.revalidation.headers, undefined, true);
    return;
  }
  if (l.ctx.ex.method === 'HEAD') return forward(l, 'stale');
  if (await servedAfterWaiting(l, 'stale')) return;
  if (l.ctx.ex.closed) return;
  const lead = !l.opts.store.inflight.has(l.key);
  revalidate(l, v, ev?.revalidation?.headers ?? v.policy.revalidationHeaders(l.req), l.ctx.ex, lead);
}

async function miss(l: Lookup, fwd: ForwardReason): Promise<void> {
  if (await servedAfterWaiting(l, fwd)) return;
  if (l.ctx.ex.closed) return;
  if (l.ctx.ex.method === 'HEAD') return forward(l, fwd);
  fill(l, fwd, !l.opts.store.inflight.has(l.key));
}

/**
 * Request coalescing: when another request is fetching this key, wait for it (it releases its
 * followers as soon as it knows the response will not be stored) and look again. A follower
 * waits once; if the leader stored nothing it uses, it goes to the upstream itself.
 */
async function servedAfterWaiting(l: Lookup, fwd: ForwardReason): Promise<boolean> {
  const pending = l.opts.store.inflight.get(l.key);
  if (!pending) return false;
  await pending;
  if (l.ctx.ex.closed) return true;
  const v = selectVariant(l.opts.store.memory.get(l.key), l.req);
  if (!v || Date.now() >= v.cappedUntil || !v.policy.satisfiesWithoutRevalidation(l.req)) return false;
  serve(l.ctx.ex, v, { fwd, collapsed: true, ttl: variantTtl(v) });
  return true;
}

function serve(ex: Exchange, v: Variant, parts: StatusParts): void {
  if (ex.closed) return;
  const stored = v.policy.responseHeaders();
  const headers = stored as ResponseHeaders;
  headers['cache-status'] = cacheStatus(parts);
  if (v.status === 200 && notModified(ex.headers, stored)) {
    // A 304 carries the 200's metadata but no body, and no Content-Length of its own (RFC 9110 §15.4.5).
    delete headers['content-length'];
    ex.respond(304, headers);
    ex.end();
    return;
  }
  ex.respond(v.status, headers, v.body);
}

/** http-cache-semantics takes string values only. */
function policyResponse(status: number, headers: ResponseHeaders): CachePolicy.Response {
  const out: CachePolicy.Headers = {};
  for (const name in headers) {
    const value = headers[name];
    out[name] = typeof value === 'number' ? String(value) : value;
  }
  return { status, headers: out };
}

/** The entry a response would make, or undefined when it must not (or need not) be stored. */
function storableHead(l: Lookup, status: number, headers: ResponseHeaders): VariantHead | undefined {
  if (headers['set-cookie'] !== undefined) return undefined;
  const policy = new CachePolicy(l.req, policyResponse(status, headers), POLICY_OPTIONS);
  if (!policy.storable()) return undefined;
  // Neither fresh nor revalidatable: storing it would only cost memory.
  if (policy.timeToLive() <= 0 && headers.etag === undefined && headers['last-modified'] === undefined) return undefined;
  const vary = varyFields(headers.vary as string | string[] | undefined);
  const secondary = secondaryKey(vary, l.req.headers);
  if (secondary === undefined) return undefined;
  return { secondary, vary, status, policy, cappedUntil: Date.now() + l.opts.ttlMs };
}

/**
 * The stored entry, fields written out: V8 11 (Node 20) builds `{ ...head, body }` on a slow runtime
 * path (docs/performance.md, "The spread fix").
 */
function variantOf(head: VariantHead, body: Buffer): Variant {
  return { secondary: head.secondary, vary: head.vary, status: head.status, policy: head.policy, cappedUntil: head.cappedUntil, body };
}

function commit(l: Lookup, v: Variant): void {
  void l.opts.store.set(l.key, withVariant(l.opts.store.memory.get(l.key), v));
}

const noop = (): void => {};

/** A miss: the response streams to the client and, when storable, into the store. */
function fill(l: Lookup, fwd: ForwardReason, lead: boolean): void {
  const release = lead ? l.opts.store.claim(l.key) : noop;
  let head: VariantHead | undefined;
  callUpstream(l.ctx, l.handler, 'GET', fillRequestHeaders(l.ctx.ex.headers), l.opts.store.maxObjectBytes, {
    head(status, headers) {
      head = storableHead(l, status, headers);
      headers['cache-status'] = cacheStatus({ fwd, fwdStatus: status, ...(head ? { stored: true, ttl: ttlOf(head.policy, head.cappedUntil) } : {}) });
      if (!head) release();
      return { client: l.ctx.ex, keep: head !== undefined };
    },
    dropped: release,
    done(outcome) {
      if (head && outcome.body) commit(l, variantOf(head, outcome.body));
      release();
    },
  });
}

/** Straight to the upstream and back, nothing stored (HEAD misses, ranges, upgrades, gRPC). */
function forward(l: Lookup, fwd: ForwardReason): void {
  callUpstream(l.ctx, l.handler, l.ctx.ex.method, l.ctx.ex.headers, l.opts.store.maxObjectBytes, {
    head(status, headers) {
      headers['cache-status'] = cacheStatus({ fwd, fwdStatus: status });
      return { client: l.ctx.ex, keep: false };
    },
    dropped: noop,
    done: noop,
  });
}

/**
 * Conditional revalidation (RFC 9111 §4.3): a 304 refreshes the stored entry and the client gets
 * it; a 500/502/503/504 (or no answer: the proxy's own 502/504) within the response's
 * stale-if-error window serves the stored entry (RFC 5861 §4); anything else is a new response,
 * handled as a miss. With no client this is the background half of stale-while-revalidate.
 */
function revalidate(l: Lookup, v: Variant, headers: CachePolicy.Headers, client: Exchange | undefined, lead: boolean): void {
  const release = lead ? l.opts.store.claim(l.key) : noop;
  let refreshed: Variant | undefined;
  let staleOnError = false;
  let head: VariantHead | undefined;
  callUpstream(l.ctx, l.handler, 'GET', headers as IncomingHttpHeaders, l.opts.store.maxObjectBytes, {
    head(status, resHeaders) {
      const res = policyResponse(status, resHeaders);
      if (status === 304) {
        const { policy, modified } = v.policy.revalidatedPolicy(l.req, res);
        if (!modified) {
          refreshed = variantOf(v, v.body);
          refreshed.policy = policy;
          refreshed.cappedUntil = Date.now() + l.opts.ttlMs;
          commit(l, refreshed);
          release();
          return { client: undefined, keep: false };
        }
      }
      if (SERVER_ERRORS.has(status) && v.policy.revalidatedPolicy(l.req, res).policy === v.policy) {
        staleOnError = true;
        release();
        return { client: undefined, keep: false };
      }
      head = storableHead(l, status, resHeaders);
      resHeaders['cache-status'] = cacheStatus({ fwd: 'stale', fwdStatus: status, ...(head ? { stored: true } : {}) });
      if (!head) release();
      return { client, keep: head !== undefined };
    },
    dropped: release,
    done(outcome) {
      if (head && outcome.body) commit(l, variantOf(head, outcome.body));
      release();
      if (!client) return;
      if (refreshed) serve(client, refreshed, { fwd: 'stale', fwdStatus: 304, stored: true, ttl: variantTtl(refreshed) });
      else if (staleOnError) serve(client, v, { fwd: 'stale', fwdStatus: outcome.status, ttl: variantTtl(v), detail: 'stale-if-error' });
    },
  });
}
