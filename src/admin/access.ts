// Who may use the admin listener: loopback clients always (like Caddy's admin endpoint, which is
// meant for the local machine), plus the config's `admin.allow` CIDRs. Others get 403, whatever
// address the listener is bound to.
//
// And which Host and Origin it answers to. A loopback peer can still be a browser that an attacker's
// page drove there by DNS rebinding (security review F10): its requests carry the attacker's name in
// Host, and in Origin when the page fetches. So, as Caddy's admin endpoint does (enforce_origin,
// allowed origins), only names no attacker's DNS can stand behind are accepted: IP literals,
// `localhost` (RFC 6761 §6.3) and the operator's `admin.hosts`.
import ipaddr from 'ipaddr.js';
import { compileTrust, type TrustCheck } from '../http/trust.js';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

export function compileAdminAccess(allow: readonly string[] = []): TrustCheck {
  return compileTrust([...LOOPBACK, ...allow]);
}

/** RFC 9110 §7.2 Host = uri-host [ ":" port ], uri-host an IP-literal in brackets or a reg-name/IPv4. */
const HOST = /^(?:\[([^\]]*)\]|([^:[\]]*))(?::\d*)?$/;

/** The reason to refuse a request, or undefined when its Host and Origin are acceptable. */
export type AdminHostCheck = (headers: { host?: string | undefined; origin?: string | undefined }) => string | undefined;

export function compileAdminHosts(hosts: readonly string[] = []): AdminHostCheck {
  const names = new Set(['localhost', ...hosts]);
  const acceptable = (authority: string): boolean => {
    const m = HOST.exec(authority);
    if (!m) return false;
    if (m[1] !== undefined) return ipaddr.IPv6.isValid(m[1]);
    const host = m[2]!.toLowerCase().replace(/\.$/, '');
    return ipaddr.IPv4.isValidFourPartDecimal(host) || names.has(host);
  };
  return ({ host, origin }) => {
    // HTTP/1.0 clients (some scrapers) send no Host; a browser always does.
    if (host !== undefined && !acceptable(host)) return 'forbidden: the Host must be an IP address, localhost or a name in admin.hosts (DNS rebinding protection)\n';
    if (origin !== undefined && !acceptable(originHost(origin))) {
      return 'forbidden: the Origin host must be an IP address, localhost or a name in admin.hosts (DNS rebinding protection)\n';
    }
    return undefined;
  };
}

/** The host[:port] of an Origin (RFC 6454 §7); '' for `null` and anything that is not a URL. */
function originHost(origin: string): string {
  try {
    return new URL(origin).host;
  } catch {
    return '';
  }
}
