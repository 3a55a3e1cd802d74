// The Cache-Status response field (RFC 9211): what the cache did with this request.
import type CachePolicy from 'http-cache-semantics';
import type { Variant } from './variant.js';

const CACHE_NAME = 'gatehouse';

/** RFC 9211 §2.2 forward reasons used here. */
export type ForwardReason = 'uri-miss' | 'vary-miss' | 'stale' | 'request' | 'method' | 'bypass';

export interface StatusParts {
  hit?: boolean;
  fwd?: ForwardReason;
  fwdStatus?: number;
  ttl?: number;
  stored?: boolean;
  collapsed?: boolean;
  detail?: string;
}

export function cacheStatus(p: StatusParts): string {
  let s = CACHE_NAME;
  if (p.hit) s += '; hit';
  if (p.fwd) s += `; fwd=${p.fwd}`;
  if (p.fwdStatus !== undefined) s += `; fwd-status=${p.fwdStatus}`;
  if (p.ttl !== undefined) s += `; ttl=${p.ttl}`;
  if (p.stored) s += '; stored';
  if (p.collapsed) s += '; collapsed';
  if (p.detail) s += `; detail=${p.detail}`;
  return s;
}

/**
 * Seconds of freshness left (negative once stale, RFC 9211 §2.4): the response's own, cut at the
 * route's `cache:` duration.
 */
export function ttlOf(policy: CachePolicy, cappedUntil: number, now = Date.now()): number {
  return Math.floor(Math.min(policy.maxAge() - policy.age(), (cappedUntil - now) / 1000));
}

export function variantTtl(v: Variant): number {
  return ttlOf(v.policy, v.cappedUntil);
}
