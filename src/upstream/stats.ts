// What the admin side (metrics, /status) reads about upstream servers. The balancer owns the
// numbers; readers get plain copies so they can never change the balancing state.

export interface UpstreamServerStats {
  /** The upstream's name (or the literal `scheme://address` of a route without one). */
  upstream: string;
  url: string;
  weight: number;
  backup: boolean;
  /** False while passive (maxFails) or active (health) checks hold the server down. */
  up: boolean;
  /** Requests in flight to this server now. */
  active: number;
  /** Failures counted in the current failTimeout window. */
  fails: number;
  /** Smoothed response-head latency in ms, undefined before the first response. */
  latencyMs: number | undefined;
  /** Last failure message (passive or active), undefined when none since start. */
  lastError: string | undefined;
}
