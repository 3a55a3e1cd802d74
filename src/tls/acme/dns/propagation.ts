// Before the CA is told to look (RFC 8555 §7.5.1), every authoritative server of the record's zone must
// answer with the TXT value; otherwise the CA may ask one that has not loaded the update yet and the order
// fails. target() follows _acme-challenge's CNAME chain (acme-dns style delegation) through the resolver;
// wait() finds the zone (SOA walk) and its NS through the resolver, then asks each NS itself, RD=0, until
// all give an authoritative answer holding the value, or the deadline passes.
import fs from 'node:fs';
import dnsPacket from 'dns-packet';
import type { DnsPropagation } from './provider.js';
import { assertDnsName, describe, query, rcodeName, sameName, type DnsServer } from './transport.js';
import { findZone } from './zone.js';

export interface PropagationOptions {
  /** Recursive resolver for the CNAME, SOA, NS and address lookups; default: first nameserver of /etc/resolv.conf. */
  resolver?: DnsServer;
  /** Ask these instead of the zone's NS (split horizon, hidden primaries, servers the NS names do not reach). */
  nameservers?: DnsServer[];
  /**
   * Port for the discovered NS addresses. 53 on the internet; an NS record carries no port, so a test
   * server on a free loopback port (or a lab setup) needs this to be reached at all.
   */
  port?: number;
  /** The deadline of wait(), from its call. */
  timeoutMs: number;
  /** Pause between two rounds of asking the servers that did not have the value yet. */
  intervalMs: number;
}

/** acme-dns and similar setups use one or two hops; anything deeper is a misconfiguration or a trap. */
const MAX_CNAME_HOPS = 8;
/** One query's wait; a round never waits longer than the time left before the deadline. */
const QUERY_TIMEOUT_MS = 2000;

interface Authoritative {
  label: string;
  server: DnsServer;
}

/** The first `nameserver` line of resolv.conf (resolv.conf(5)); the scope of a link-local v6 address is dropped. */
export function systemResolver(file = '/etc/resolv.conf'): DnsServer {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    /* no file: same as no nameserver line */
  }
  const m = /^\s*nameserver\s+([0-9A-Fa-f.:]+)/m.exec(text);
  if (!m) throw new Error(`no nameserver in ${file}: set the DNS resolver for DNS-01 explicitly`);
  return { host: m[1]!, port: 53 };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function txtValues(answers: dnsPacket.Answer[], name: string): string[] {
  return answers
    .filter((a): a is dnsPacket.TxtAnswer => a.type === 'TXT' && sameName(a.name, name))
    // RFC 7208 §3.3 style: a TXT record's strings are one value, concatenated.
    .map((a) => (Array.isArray(a.data) ? a.data : [a.data]).map((s) => s.toString()).join(''));
}

export class DnsPropagationCheck implements DnsPropagation {
  private resolverCache?: DnsServer;

  constructor(private readonly opts: PropagationOptions) {}

  private get resolver(): DnsServer {
    this.resolverCache ??= this.opts.resolver ?? systemResolver();
    return this.resolverCache;
  }

  async target(fqdn: string, signal?: AbortSignal): Promise<string> {
    let name = assertDnsName(fqdn);
    const seen = new Set([name]);
    for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
      const { rcode, packet } = await query(this.resolver, name, 'CNAME', { recursion: true, timeoutMs: QUERY_TIMEOUT_MS, signal });
      if (rcode === 3) return name; // NXDOMAIN: nothing there yet, the record goes here.
      if (rcode !== 0) throw new Error(`looking up the CNAME of ${name} at ${describe(this.resolver)}: ${rcodeName(rcode)}`);
      const cname = (packet.answers ?? []).find((a): a is dnsPacket.StringAnswer => a.type === 'CNAME' && sameName(a.name, name));
      if (!cname) return name;
      const next = assertDnsName(cname.data);
      if (seen.has(next)) throw new Error(`the CNAME chain of ${fqdn} loops back to ${next}`);
      seen.add(next);
      name = next;
    }
    throw new Error(`the CNAME chain of ${fqdn} is longer than ${MAX_CNAME_HOPS} hops`);
  }

  async wait(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const name = assertDnsName(fqdn);
    const deadline = Date.now() + this.opts.timeoutMs;
    const timeLeft = () => Math.max(1, Math.min(QUERY_TIMEOUT_MS, deadline - Date.now()));
    const servers = await this.authoritative(name, timeLeft, signal);
    const pending = new Map<string, { ns: Authoritative; last: string }>(servers.map((ns) => [ns.label, { ns, last: 'not asked yet' }]));
    for (;;) {
      await Promise.all([...pending.values()].map(async (entry) => {
        try {
          const { rcode, authoritative, packet } = await query(entry.ns.server, name, 'TXT', { recursion: false, timeoutMs: timeLeft(), signal });
          const values = txtValues(packet.answers ?? [], name);
          // Only an authoritative answer counts: a server that is not (lame delegation) may say anything.
          if (rcode === 0 && authoritative && values.includes(value)) pending.delete(entry.ns.label);
          else if (rcode !== 0) entry.last = rcodeName(rcode);
          else if (!authoritative) entry.last = 'answered without authority';
          else entry.last = values.length ? `other values only (${values.length})` : 'no TXT yet';
        } catch (err) {
          if (signal?.aborted) throw err;
          entry.last = (err as Error).message;
        }
      }));
      if (pending.size === 0) return;
      if (Date.now() + this.opts.intervalMs >= deadline) {
        const missing = [...pending.values()].map((e) => `${e.ns.label}: ${e.last}`).join('; ');
        throw new Error(`TXT ${name} did not reach every authoritative server within ${this.opts.timeoutMs} ms: ${missing}`);
      }
      await sleep(this.opts.intervalMs, signal);
    }
  }

  /** The servers to ask: the configured ones, or every address of every NS of the zone (A, else AAAA). */
  private async authoritative(name: string, timeLeft: () => number, signal?: AbortSignal): Promise<Authoritative[]> {
    if (this.opts.nameservers?.length) return this.opts.nameservers.map((server) => ({ label: describe(server), server }));
    const resolver = this.resolver;
    const zone = await findZone(resolver, name, { recursion: true, timeoutMs: timeLeft(), signal });
    const ns = await query(resolver, zone, 'NS', { recursion: true, timeoutMs: timeLeft(), signal });
    const hosts = [...new Set((ns.packet.answers ?? [])
      .filter((a): a is dnsPacket.StringAnswer => a.type === 'NS' && sameName(a.name, zone))
      .map((a) => a.data.toLowerCase().replace(/\.$/, '')))];
    if (hosts.length === 0) throw new Error(`zone ${zone} has no NS records at ${describe(resolver)} (${rcodeName(ns.rcode)})`);
    const port = this.opts.port ?? 53;
    const out = new Map<string, Authoritative>();
    for (const host of hosts.slice(0, 16)) {
      let addresses: string[] = [];
      for (const type of ['A', 'AAAA'] as const) {
        const a = await query(resolver, host, type, { recursion: true, timeoutMs: timeLeft(), signal });
        addresses = (a.packet.answers ?? []).filter((r): r is dnsPacket.StringAnswer => r.type === type && sameName(r.name, host)).map((r) => r.data);
        // AAAA only when there is no A: hosts without an IPv6 route are common, and would wait in vain.
        if (addresses.length) break;
      }
      if (addresses.length === 0) throw new Error(`NS ${host} of zone ${zone} has no address at ${describe(resolver)}`);
      for (const address of addresses) {
        const server = { host: address, port };
        out.set(describe(server), { label: `${host} (${describe(server)})`, server });
      }
    }
    return [...out.values()];
  }
}
