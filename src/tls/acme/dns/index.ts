// issue 19: from `acme.dns` to the two halves of DNS-01: the provider that writes the TXT record and the
// propagation check that waits until the zone's authoritative servers answer with it.
import type { AcmeDnsConfig } from '../../../config/types.js';
import { CloudflareDnsProvider } from './cloudflare.js';
import { ExecDnsProvider } from './exec.js';
import { DnsPropagationCheck } from './propagation.js';
import type { DnsPropagation, DnsProvider } from './provider.js';
import { Rfc2136Provider } from './rfc2136.js';

export interface DnsSolver {
  provider: DnsProvider;
  propagation: DnsPropagation;
}

/** One provider request (an update, an API call, a hook run) may take this long. */
const PROVIDER_TIMEOUT_MS = 30_000;

export function dnsSolverFor(config: AcmeDnsConfig): DnsSolver {
  return { provider: dnsProviderFor(config), propagation: propagationFor(config) };
}

/** The half that writes the TXT record, chosen by `acme.dns.provider`. */
export function dnsProviderFor(config: AcmeDnsConfig): DnsProvider {
  switch (config.provider) {
    case 'cloudflare':
      return new CloudflareDnsProvider({
        apiToken: config.apiToken,
        ...(config.zoneId ? { zoneId: config.zoneId } : {}),
        endpoint: config.endpoint,
        ttl: config.ttl,
        timeoutMs: PROVIDER_TIMEOUT_MS,
      });
    case 'rfc2136':
      return new Rfc2136Provider({ server: config.server, ...(config.zone ? { zone: config.zone } : {}),
        ...(config.tsig ? { tsig: config.tsig } : {}), ttl: config.ttl, timeoutMs: PROVIDER_TIMEOUT_MS });
    case 'exec':
      return new ExecDnsProvider({ command: config.command, timeoutMs: PROVIDER_TIMEOUT_MS });
  }
}

function propagationFor(config: AcmeDnsConfig): DnsPropagation {
  return new DnsPropagationCheck({ ...(config.resolver ? { resolver: config.resolver } : {}),
    ...(config.nameservers ? { nameservers: config.nameservers } : {}),
    timeoutMs: config.propagationTimeoutMs, intervalMs: config.propagationIntervalMs });
}
