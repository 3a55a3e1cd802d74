// Who may tell us the client's address (README "Configuration reference" trustedProxies). Compiled once per config.
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

/**
 * The client address as the nearest trusted proxy saw it: walk X-Forwarded-For from the right,
 * skipping trusted hops (what nginx's realip module does with real_ip_recursive on).
 */
export function clientAddress(remote: string, xff: string | undefined, trust: TrustCheck): string {
  if (!xff || !trust(remote)) return remote;
  const hops = xff.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = (hops[i] ?? '').trim();
    if (hop !== '' && !trust(hop)) return hop;
  }
  return (hops[0] ?? '').trim() || remote;
}
