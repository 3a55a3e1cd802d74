// One upstream server and its health: passive (nginx max_fails/fail_timeout), active (probes), the
// requests in flight the balancers weigh, and the numbers the admin side reads (stats.ts).
import type { Transport } from '../transport/types.js';

/** Weight of the newest sample in the smoothed head latency (an EWMA, as Envoy and Traefik keep). */
const LATENCY_ALPHA = 0.3;

export interface PassiveHealth {
  maxFails: number;
  failTimeoutMs: number;
}

export class UpstreamServer {
  /** Requests sent to this server whose response has not ended yet (least-conn, random-two). */
  inFlight = 0;
  /** Failures in the current failTimeout window. */
  fails = 0;
  private firstFailAt = 0;
  /** Passive health: down until this time (ms since epoch); 0 when not marked down. */
  downUntil = 0;
  /** Active health: the last probe failed, and no probe has passed since. */
  probeDown = false;
  latencyMs: number | undefined;
  lastError: string | undefined;

  constructor(
    readonly url: string,
    readonly weight: number,
    readonly backup: boolean,
    readonly transport: Transport,
    /** `http`, `https`, `h2`, `h2c`, `fastcgi`, `uwsgi`, `scgi`. */
    readonly scheme: string,
  ) {}

  isUp(now = Date.now()): boolean {
    return !this.probeDown && this.downUntil <= now;
  }

  /**
   * nginx ngx_http_upstream_free_round_robin_peer: the first failure opens a failTimeout window;
   * `maxFails` failures inside it mark the server down for failTimeout. maxFails 0 never marks down.
   * Returns true when this failure took the server down.
   */
  recordFailure(message: string, health: PassiveHealth, now = Date.now()): boolean {
    this.lastError = message;
    if (health.maxFails <= 0) return false;
    if (now - this.firstFailAt > health.failTimeoutMs) {
      this.firstFailAt = now;
      this.fails = 0;
    }
    this.fails += 1;
    if (this.fails < health.maxFails) return false;
    const wasUp = this.isUp(now);
    this.downUntil = now + health.failTimeoutMs;
    this.fails = 0;
    return wasUp;
  }

  /** A response head arrived: the failure window starts over (nginx resets fails on success). */
  recordResponse(headMs: number): void {
    this.fails = 0;
    this.latencyMs = this.latencyMs === undefined ? headMs : this.latencyMs + LATENCY_ALPHA * (headMs - this.latencyMs);
  }

  /** A probe passed: the server takes traffic again at once, even inside a passive down window. */
  probePassed(): void {
    this.probeDown = false;
    this.downUntil = 0;
    this.fails = 0;
  }

  probeFailed(message: string): void {
    this.probeDown = true;
    this.lastError = message;
  }
}
