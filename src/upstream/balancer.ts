// What every balancing policy implements. The pool hands a policy only servers that may take the
// request (up, in the right tier — primaries, or backups when no primary is up — and not yet tried
// for this request), so a policy never sees health and never has to skip anything.
import type { UpstreamServer } from './server.js';

export interface PickContext {
  /** The client's address: the hash key of ip-hash. */
  clientKey: string;
}

export interface Balancer {
  /** `candidates` is never empty. */
  pick(candidates: readonly UpstreamServer[], ctx: PickContext): UpstreamServer;
}
