// nginx's smooth weighted round-robin (ngx_http_upstream_get_peer): every pick adds each
// candidate's weight to its current weight, takes the largest, and subtracts the total from it.
// Weights 5,1,1 give a a b a c a a — spread out, never bursts of one server.
import type { Balancer } from '../balancer.js';
import type { UpstreamServer } from '../server.js';

export class RoundRobinBalancer implements Balancer {
  private readonly current = new Map<UpstreamServer, number>();

  pick(candidates: readonly UpstreamServer[]): UpstreamServer {
    let best = candidates[0]!;
    let bestWeight = -Infinity;
    let total = 0;
    for (const s of candidates) {
      const w = (this.current.get(s) ?? 0) + s.weight;
      this.current.set(s, w);
      total += s.weight;
      if (w > bestWeight) {
        best = s;
        bestWeight = w;
      }
    }
    this.current.set(best, bestWeight - total);
    return best;
  }
}
