// The policy named by `balance:` (README "Configuration reference"), one place so a new policy is one line here.
import type { UpstreamConfig } from '../../config/types.js';
import type { Balancer } from '../balancer.js';
import { IpHashBalancer } from './ip-hash.js';
import { LeastConnBalancer } from './least-conn.js';
import { RandomTwoBalancer } from './random-two.js';
import { RoundRobinBalancer } from './round-robin.js';

export function createBalancer(policy: UpstreamConfig['balance']): Balancer {
  switch (policy) {
    case 'round-robin':
      return new RoundRobinBalancer();
    case 'least-conn':
      return new LeastConnBalancer();
    case 'ip-hash':
      return new IpHashBalancer();
    case 'random-two':
      return new RandomTwoBalancer();
  }
}
