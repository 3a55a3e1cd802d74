// DNS-01 through RFC 2136 dynamic update, signed with TSIG (RFC 8945): BIND, Knot, PowerDNS and most
// self-hosted DNS. present adds one TXT RR to the RRset (§2.5.1, others stay: a wildcard and its base need
// two values at one name); cleanup deletes that RR only (§2.5.4, class NONE), which succeeds when it is gone.
import dnsPacket from 'dns-packet';
import type { DnsProvider } from './provider.js';
import { signRequest, verifyResponse, TsigError, type TsigKey } from './tsig.js';
import { assertDnsName, describe, exchangeTcp, randomId, rcodeName, rcodeOf, typeCode, type DnsServer } from './transport.js';
import { canonicalName } from './wire.js';
import { findZone, inZone } from './zone.js';

export interface Rfc2136Options {
  server: DnsServer;
  /** The zone to update; found by SOA queries to `server` when absent. */
  zone?: string;
  tsig?: TsigKey;
  /** TTL of the TXT record written. */
  ttl: number;
  /** Per exchange with the server. */
  timeoutMs: number;
}

const OPCODE_UPDATE = 5;
const CLASS_NONE = 254;
/** ACME values are 43 characters; anything far longer is not one. */
const MAX_VALUE = 1024;

export class Rfc2136Provider implements DnsProvider {
  constructor(private readonly opts: Rfc2136Options) {}

  present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.update('add', fqdn, value, signal);
  }

  cleanup(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.update('delete', fqdn, value, signal);
  }

  private async zoneFor(name: string, signal?: AbortSignal): Promise<string> {
    if (this.opts.zone === undefined) return findZone(this.opts.server, name, { recursion: false, timeoutMs: this.opts.timeoutMs, signal });
    const zone = assertDnsName(this.opts.zone);
    if (!inZone(name, zone)) throw new Error(`${name} is not inside the configured zone ${zone}: fix acme.dns zone`);
    return zone;
  }

  private async update(op: 'add' | 'delete', fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const name = assertDnsName(fqdn);
    if (value.length === 0 || value.length > MAX_VALUE) throw new Error(`TXT value for ${name} must be 1 to ${MAX_VALUE} characters`);
    const zone = await this.zoneFor(name, signal);
    const id = randomId();
    // A TXT string holds at most 255 octets (RFC 1035 §3.3.14); the delete must split exactly as the add did,
    // since the server matches the RDATA octet for octet.
    const chunks = value.match(/[\s\S]{1,255}/g) ?? [];
    const message = dnsPacket.encode({
      type: 'query',
      id,
      flags: OPCODE_UPDATE << 11,
      // §2.3: the zone section is one "question": ZNAME, type SOA, class IN.
      questions: [{ name: zone, type: 'SOA', class: 'IN' }],
      // §2.5: the update section travels in the authority section's place.
      authorities: [{ type: 'TXT', name, class: 'IN', ttl: op === 'add' ? this.opts.ttl : 0, data: chunks }],
    });
    if (op === 'delete') {
      // §2.5.4 "Delete An RR From An RRset" is class NONE, which dns-packet cannot encode; it writes names
      // uncompressed, so the class sits at a fixed offset: header, zone section, the RR's name and type.
      message.writeUInt16BE(CLASS_NONE, 12 + canonicalName(zone).length + 4 + canonicalName(name).length + 2);
    }
    const signed = this.opts.tsig ? signRequest(message, this.opts.tsig) : { wire: message, mac: Buffer.alloc(0) };
    // TCP for every update (RFC 7766 requires servers to take it): an off-path attacker cannot inject an
    // answer as it can over UDP, a lost datagram cannot leave us unsure whether the update was applied, and
    // one code path needs no truncation fallback.
    const answer = await exchangeTcp(this.opts.server, signed.wire, { id, name: zone, type: typeCode('SOA') }, this.opts.timeoutMs, signal);
    if (this.opts.tsig) {
      try {
        verifyResponse(answer, this.opts.tsig, signed.mac);
      } catch (err) {
        if (err instanceof TsigError) throw new Error(`DNS update of ${name} at ${describe(this.opts.server)}: ${err.message}`, { cause: err });
        throw err;
      }
    }
    const rcode = rcodeOf(answer);
    if (rcode !== 0) throw new Error(`DNS update of ${name} (zone ${zone}) at ${describe(this.opts.server)} failed: ${rcodeName(rcode)}: ${this.hint(rcode, zone)}`);
  }

  /** What to fix, per RFC 2136 §2.2 RCODE. */
  private hint(rcode: number, zone: string): string {
    const key = this.opts.tsig ? `key ${this.opts.tsig.name}` : 'unsigned updates (no tsig key is configured)';
    switch (rcode) {
      case 5:
        if (!this.opts.tsig) return `the server refused the update: it probably requires a TSIG key (set acme.dns tsig), or check allow-update / update-policy on zone ${zone}`;
        return `the server refused the update: check allow-update / update-policy for ${key} on zone ${zone}`;
      case 9:
        return `the server is not authoritative for zone ${zone}, or did not accept ${key}: check the zone and the key`;
      case 10:
        return `the name is not inside zone ${zone}: check the zone`;
      case 4:
        return 'the server does not implement dynamic update (RFC 2136)';
      case 2:
        return 'the server failed to apply it (its log says why: journal not writable, zone not loaded…)';
      case 1:
        return 'the server could not parse the update';
      default:
        return 'unexpected answer to an update without prerequisites';
    }
  }
}
