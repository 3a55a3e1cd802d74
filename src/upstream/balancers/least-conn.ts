// nginx least_conn: the server with the fewest requests in flight relative to its weight
// (inFlight/weight, compared by cross-multiplying to stay in integers); ties go to smooth weighted
// round-robin among the tied servers, so idle servers share load by weight.
import type { Balancer } from '../balancer.js';
import type { UpstreamServer } from '../server.js';
import { RoundRobinBalancer } from './round-robin.js';

export class LeastConnBalancer implements Balancer {
  private readonly tieBreak = new RoundRobinBalancer();

  pick(candidates: readonly UpstreamServer[]): UpstreamServer {
    let tied: UpstreamServer[] = [];
    for (const s of candidates) {
      const best = tied[0];
      const cmp = best === undefined ? -1 : s.inFlight * best.weight - best.inFlight * s.weight;
      if (cmp < 0) tied = [s];
      else if (cmp === 0) tied.push(s);
    }
    return tied.length === 1 ? tied[0]! : this.tieBreak.pick(tied);
  }
}
