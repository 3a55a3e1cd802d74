// The DNS-01 contract (RFC 8555 §8.4): a provider writes and removes one TXT record; propagation finds
// where the record must go (following a CNAME on _acme-challenge, as acme-dns delegation does) and waits
// until the zone's authoritative servers answer with it, so the CA is told only once it can see it.
// Providers: rfc2136.ts (dynamic update with TSIG), exec.ts (a hook command), cloudflare.ts (HTTP API).

export interface DnsProvider {
  /** Adds TXT `value` at `fqdn` (absolute name without the trailing dot), keeping other TXT values there. */
  present(fqdn: string, value: string, signal?: AbortSignal): Promise<void>;
  /** Removes exactly that TXT value; succeeds when it is already gone. */
  cleanup(fqdn: string, value: string, signal?: AbortSignal): Promise<void>;
}

export interface DnsPropagation {
  /** Where the TXT for `fqdn` (`_acme-challenge.NAME`) must be written: the end of its CNAME chain, or itself. */
  target(fqdn: string, signal?: AbortSignal): Promise<string>;
  /** Resolves once every authoritative server of `fqdn`'s zone answers TXT `value`; rejects at the deadline. */
  wait(fqdn: string, value: string, signal?: AbortSignal): Promise<void>;
}

/** `_acme-challenge.` + the name without a leading `*.` (RFC 8555 §8.4: a wildcard's record sits at its base). */
export function challengeName(identifier: string): string {
  return `_acme-challenge.${identifier.replace(/^\*\./, '').replace(/\.$/, '').toLowerCase()}`;
}
