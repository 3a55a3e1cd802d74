// Pools over servers nobody listens on: balancing and health need no traffic, and transports
// connect only when a request is sent.
import type { UpstreamConfig, UpstreamServerConfig } from '../../../src/config/types.js';
import type { Logger } from '../../../src/log/types.js';
import { UpstreamPool } from '../../../src/upstream/pool.js';

export type Policy = UpstreamConfig['balance'];
export const POLICIES: Policy[] = ['round-robin', 'least-conn', 'ip-hash', 'random-two'];

export function upstreamConfig(servers: Array<Partial<UpstreamServerConfig> & { url: string }>, over: Partial<UpstreamConfig> = {}): UpstreamConfig {
  return {
    name: 'test',
    servers: servers.map((s) => ({ weight: 1, backup: false, ...s })),
    balance: 'round-robin',
    maxFails: 1,
    failTimeoutMs: 10_000,
    retries: 0,
    timeouts: { connectMs: 1_000, readMs: 1_000, sendMs: 1_000 },
    keepalive: 4,
    ...over,
  };
}

/** `n` servers on 127.0.0.1:1..n (never contacted); weights default to 1. */
export function makePool(policy: Policy, weights: number[], over: { backups?: number; logger?: Logger } = {}): UpstreamPool {
  const servers = weights.map((weight, i) => ({ url: `http://127.0.0.1:${i + 1}`, weight }));
  for (let i = 0; i < (over.backups ?? 0); i++) servers.push({ url: `http://127.0.0.1:${100 + i}`, weight: 1, backup: true } as never);
  return new UpstreamPool(upstreamConfig(servers, { balance: policy }), over.logger);
}

/** Counts picks per server URL; ip-hash gets a different client address each time. */
export function distribution(pool: UpstreamPool, picks: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const s = pool.pick({ clientKey: clientAddress(i) });
    const key = s?.url ?? 'none';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

export function clientAddress(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}
