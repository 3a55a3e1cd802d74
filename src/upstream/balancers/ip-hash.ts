// Consistent client affinity by weighted rendezvous (highest random weight) hashing: each server
// scores hash(client, server) and the highest score wins. Unlike nginx's ip_hash (a modulo over
// the server list), adding or removing a server moves only the clients that server gains or
// loses — about weight/total of them — and a server going down moves only its own clients.
// Weights use the logarithmic method (Schindelhauer & Schomaker): score = -weight / ln(u), u in (0,1).
// The key is the whole client address (nginx hashes only the first three octets of IPv4).
import type { Balancer, PickContext } from '../balancer.js';
import type { UpstreamServer } from '../server.js';

export class IpHashBalancer implements Balancer {
  private readonly seeds = new Map<UpstreamServer, number>();

  pick(candidates: readonly UpstreamServer[], ctx: PickContext): UpstreamServer {
    const key = fnv1a(ctx.clientKey);
    let best = candidates[0]!;
    let bestScore = -Infinity;
    for (const s of candidates) {
      const score = -s.weight / Math.log(unit(mix(key ^ this.seed(s))));
      if (score > bestScore) {
        best = s;
        bestScore = score;
      }
    }
    return best;
  }

  /** Keyed by URL, so the same server scores the same in every process and after a reload. */
  private seed(s: UpstreamServer): number {
    let seed = this.seeds.get(s);
    if (seed === undefined) {
      seed = fnv1a(s.url);
      this.seeds.set(s, seed);
    }
    return seed;
  }
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's fmix32 finaliser: every input bit flips about half the output bits. */
function mix(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Maps a 32-bit hash into (0, 1), never 0 or 1, so ln() stays finite and negative. */
function unit(h: number): number {
  return (h + 0.5) / 4294967296;
}
