// Power of two choices (Mitzenmacher; Envoy's LEAST_REQUEST, Traefik's p2c): draw two distinct
// servers at random, weighted, and send to the one with fewer requests in flight per weight. Close
// to least-conn's balance without every pick scanning every server, and without herding when
// several gatehouse processes each see only their own in-flight counts.
import type { Balancer } from '../balancer.js';
import type { UpstreamServer } from '../server.js';

export class RandomTwoBalancer implements Balancer {
  constructor(private readonly random: () => number = Math.random) {}

  pick(candidates: readonly UpstreamServer[]): UpstreamServer {
    if (candidates.length === 1) return candidates[0]!;
    const a = this.draw(candidates, undefined);
    const b = this.draw(candidates, a);
    // Fewer in flight per weight wins; a tie keeps the first draw, which is itself weighted.
    return b.inFlight * a.weight < a.inFlight * b.weight ? b : a;
  }

  /** A weighted random draw, leaving out `skip`. */
  private draw(candidates: readonly UpstreamServer[], skip: UpstreamServer | undefined): UpstreamServer {
    let total = 0;
    for (const s of candidates) if (s !== skip) total += s.weight;
    let r = this.random() * total;
    let last = candidates[0]!;
    for (const s of candidates) {
      if (s === skip) continue;
      last = s;
      r -= s.weight;
      if (r < 0) return s;
    }
    return last;
  }
}
