// A group of upstream servers: which one takes the next request, and which are down.
// Balancing here is nginx's smooth weighted round-robin; backups are used only when every
// primary is down. Passive health: `maxFails` failures within `failTimeout` mark a server down
// for `failTimeout` (nginx's max_fails/fail_timeout).
import type { UpstreamConfig } from '../config/types.js';
import { createTransport } from '../transport/index.js';
import type { Transport } from '../transport/types.js';
import type { UpstreamServerStats } from './stats.js';

export interface UpstreamServer {
  readonly url: string;
  readonly weight: number;
  readonly backup: boolean;
  readonly transport: Transport;
  /** Smooth weighted round-robin state (nginx ngx_http_upstream_get_peer). */
  currentWeight: number;
  fails: number;
  firstFailAt: number;
  downUntil: number;
}

export class UpstreamPool {
  readonly servers: UpstreamServer[];

  constructor(readonly config: UpstreamConfig) {
    this.servers = config.servers.map((s) => {
      // `fastcgi+unix:/run/php.sock` (also uwsgi, scgi): the address is the socket path.
      const unix = /^([a-z0-9]+)\+unix:(\/.*)$/i.exec(s.url);
      const url = unix ? undefined : new URL(s.url);
      const scheme = unix ? (unix[1] ?? '').toLowerCase() : url!.protocol.slice(0, -1);
      return {
        url: s.url,
        weight: s.weight,
        backup: s.backup,
        transport: createTransport(scheme, unix ? (unix[2] ?? '') : url!.host, config),
        currentWeight: 0,
        fails: 0,
        firstFailAt: 0,
        downUntil: 0,
      };
    });
  }

  /** The next server to try, skipping those already tried for this request; undefined when none is up. */
  pick(exclude?: ReadonlySet<UpstreamServer>): UpstreamServer | undefined {
    const now = Date.now();
    return this.pickFrom(false, now, exclude) ?? this.pickFrom(true, now, exclude);
  }

  private pickFrom(backup: boolean, now: number, exclude?: ReadonlySet<UpstreamServer>): UpstreamServer | undefined {
    let best: UpstreamServer | undefined;
    let total = 0;
    for (const s of this.servers) {
      if (s.backup !== backup || s.downUntil > now || exclude?.has(s)) continue;
      s.currentWeight += s.weight;
      total += s.weight;
      if (!best || s.currentWeight > best.currentWeight) best = s;
    }
    if (best) best.currentWeight -= total;
    return best;
  }

  reportFailure(server: UpstreamServer): void {
    const { maxFails, failTimeoutMs } = this.config;
    if (maxFails <= 0) return;
    const now = Date.now();
    if (now - server.firstFailAt > failTimeoutMs) {
      server.firstFailAt = now;
      server.fails = 0;
    }
    server.fails += 1;
    if (server.fails >= maxFails) {
      server.downUntil = now + failTimeoutMs;
      server.fails = 0;
    }
  }

  reportSuccess(server: UpstreamServer): void {
    if (server.fails !== 0) server.fails = 0;
  }

  /** Copies of the servers' state for metrics and the status page. */
  stats(): UpstreamServerStats[] {
    const now = Date.now();
    return this.servers.map((s) => ({
      upstream: this.config.name,
      url: s.url,
      weight: s.weight,
      backup: s.backup,
      up: s.downUntil <= now,
      active: 0,
      fails: s.fails,
      latencyMs: undefined,
      lastError: undefined,
    }));
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.transport.close()));
  }
}
