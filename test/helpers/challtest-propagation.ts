// A MINIMAL STAND-IN for the DNS-01 propagation check, for tests only, until the real one
// (src/tls/acme/dns/propagation.ts, from the dnswire branch) is merged: the record goes where it is asked
// for (no CNAME following), and "propagated" means pebble-challtestsrv, the one DNS server Pebble asks,
// answers the TXT value. Polled every 50 ms, at most `timeoutMs`.
import { Resolver } from 'node:dns/promises';
import type { DnsPropagation } from '../../src/tls/acme/dns/provider.js';

export class ChalltestPropagation implements DnsPropagation {
  /** TXT queries sent, for tests that want to see the wait happened. */
  queries = 0;

  constructor(
    private readonly dnsPort: number,
    private readonly timeoutMs = 10_000,
  ) {}

  async target(fqdn: string): Promise<string> {
    return fqdn;
  }

  async wait(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`127.0.0.1:${this.dnsPort}`]);
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      signal?.throwIfAborted();
      this.queries++;
      const answers = await resolver.resolveTxt(fqdn).catch(() => [] as string[][]);
      if (answers.some((parts) => parts.join('') === value)) return;
      if (Date.now() > deadline) throw new Error(`TXT ${fqdn} did not show the value within ${this.timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
