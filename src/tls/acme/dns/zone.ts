// Which zone a name is in: ask for the SOA of the name, then of each parent, until one answers with an SOA
// owned by exactly that name (the zone apex). Used on the update server (RFC 2136 §4: the update names its
// zone) and through the resolver before asking a zone's authoritative servers.
import { describe, query, rcodeName, sameName, type DnsServer } from './transport.js';

export interface ZoneLookup {
  /** true through a recursive resolver, false on an authoritative server. */
  recursion: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
}

export async function findZone(server: DnsServer, fqdn: string, lookup: ZoneLookup): Promise<string> {
  const labels = fqdn.replace(/\.$/, '').split('.');
  const seen: string[] = [];
  // Stops before the root: an ACME name's zone is never the root, and a server answering so is misconfigured.
  for (let i = 0; i < labels.length; i++) {
    const candidate = labels.slice(i).join('.');
    const { rcode, packet } = await query(server, candidate, 'SOA', { recursion: lookup.recursion, timeoutMs: lookup.timeoutMs, signal: lookup.signal });
    seen.push(`${candidate}: ${rcodeName(rcode)}`);
    if (rcode !== 0) continue;
    if ((packet.answers ?? []).some((a) => a.type === 'SOA' && sameName(a.name, candidate))) return candidate.toLowerCase();
  }
  throw new Error(`no zone for ${fqdn} at ${describe(server)}: no SOA at any of its parents (${seen.join(', ')})`);
}

/** True when `name` is `zone` or below it. */
export function inZone(name: string, zone: string): boolean {
  const n = name.replace(/\.$/, '').toLowerCase();
  const z = zone.replace(/\.$/, '').toLowerCase();
  return n === z || n.endsWith(`.${z}`);
}
