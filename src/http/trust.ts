// Who may tell us the client's address (SPEC §2 trustedProxies). Compiled once per config.
import ipaddr from 'ipaddr.js';

export type TrustCheck = (address: string) => boolean;

export function compileTrust(entries: readonly string[]): TrustCheck {
  if (entries.length === 0) return () => false;
  const ranges = entries.map((e) => (e.includes('/') ? ipaddr.parseCIDR(e) : toRange(e)));
  const cache = new Map<string, boolean>();
  return (address) => {
    let hit = cache.get(address);
    if (hit !== undefined) return hit;
    hit = false;
    if (ipaddr.isValid(address)) {
      const ip = ipaddr.process(address); // ::ffff:a.b.c.d is matched as IPv4
      hit = ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));
    }
    if (cache.size > 10_000) cache.clear();
    cache.set(address, hit);
    return hit;
  };
}

function toRange(address: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  const ip = ipaddr.process(address);
  return [ip, ip.kind() === 'ipv4' ? 32 : 128];
}
