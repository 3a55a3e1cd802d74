// A group of upstream servers: which one takes the next request (a Balancer, balancers/), which are
// down (passive failures and active probes, server.ts / active-check.ts), and what the admin side
// reads (stats.ts). Backups are used only when no primary is up (nginx `backup`).
import type { UpstreamConfig } from '../config/types.js';
import { splitServerUrl } from '../config/upstream-url.js';
import type { Logger } from '../log/types.js';
import { silentLogger } from '../log/types.js';
import { createTransport } from '../transport/index.js';
import { ActiveChecker } from './active-check.js';
import type { Balancer, PickContext } from './balancer.js';
import { createBalancer } from './balancers/index.js';
import { UpstreamServer } from './server.js';
import type { UpstreamServerStats } from './stats.js';

export { UpstreamServer } from './server.js';

export class UpstreamPool {
  readonly servers: UpstreamServer[];
  private readonly balancer: Balancer;
  private readonly checker: ActiveChecker | undefined;

  constructor(
    readonly config: UpstreamConfig,
    private readonly logger: Logger = silentLogger,
    balancer?: Balancer,
  ) {
    this.servers = config.servers.map((s) => {
      const { scheme, address } = splitServerUrl(s.url);
      const transport = createTransport(scheme, address, config);
      return new UpstreamServer(s.url, s.weight, s.backup, transport, scheme);
    });
    this.balancer = balancer ?? createBalancer(config.balance);
    if (config.health) {
      this.checker = new ActiveChecker(this.servers, config.health, (server, failure) => this.probeResult(server, failure));
      this.checker.start();
    }
  }

  /**
   * The server for the next attempt, leaving out those already tried for this request; undefined
   * when none is up (the caller answers 503).
   */
  pick(ctx: PickContext, exclude?: ReadonlySet<UpstreamServer>): UpstreamServer | undefined {
    const now = Date.now();
    // The common case (`proxy: http://host:port`, one server) allocates nothing per request.
    if (this.servers.length === 1) {
      const only = this.servers[0]!;
      return only.isUp(now) && !exclude?.has(only) ? only : undefined;
    }
    const candidates = this.candidates(false, now, exclude);
    const tier = candidates.length > 0 ? candidates : this.candidates(true, now, exclude);
    return tier.length > 0 ? this.balancer.pick(tier, ctx) : undefined;
  }

  private candidates(backup: boolean, now: number, exclude: ReadonlySet<UpstreamServer> | undefined): UpstreamServer[] {
    return this.servers.filter((s) => s.backup === backup && s.isUp(now) && !exclude?.has(s));
  }

  /** A failure that counts (nginx proxy_next_upstream "error timeout"): connect, reset, timeout, invalid response. */
  reportFailure(server: UpstreamServer, message: string): void {
    const { maxFails, failTimeoutMs } = this.config;
    if (server.recordFailure(message, { maxFails, failTimeoutMs })) {
      this.logger.warn(`upstream ${this.config.name}: ${server.url} marked down for ${failTimeoutMs} ms after ${maxFails} failure(s): ${message}`);
    }
  }

  reportResponse(server: UpstreamServer, headMs: number): void {
    server.recordResponse(headMs);
  }

  private probeResult(server: UpstreamServer, failure: string | undefined): void {
    // Logged on a change only, not once per probe.
    if (failure === undefined) {
      const wasDown = !server.isUp();
      server.probePassed();
      if (wasDown) this.logger.info(`upstream ${this.config.name}: ${server.url} is up (health check passed)`);
    } else {
      const wasProbeDown = server.probeDown;
      server.probeFailed(failure);
      if (!wasProbeDown) this.logger.warn(`upstream ${this.config.name}: ${server.url} is down: ${failure}`);
    }
  }

  /** Copies of the servers' state for metrics and the status page. */
  stats(): UpstreamServerStats[] {
    const now = Date.now();
    return this.servers.map((s) => ({
      upstream: this.config.name,
      url: s.url,
      weight: s.weight,
      backup: s.backup,
      up: s.isUp(now),
      active: s.inFlight,
      fails: s.fails,
      latencyMs: s.latencyMs,
      lastError: s.lastError,
    }));
  }

  /** Stops the probes, then closes connections once requests in flight are done. */
  async close(): Promise<void> {
    this.checker?.stop();
    await Promise.all(this.servers.map((s) => s.transport.close()));
  }
}
