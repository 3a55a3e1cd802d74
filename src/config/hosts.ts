// Site host names (nginx `server_name`): exact names, `*.name` wildcards, IP addresses and `~regex`.
import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';

export type HostKind = 'name' | 'wildcard' | 'ip' | 'regex';

export interface ParsedHost {
  /** Lower-case and without a trailing dot; IPv6 without brackets; a regex as written (with `~`). */
  host: string;
  kind: HostKind;
}

const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const DNS_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/** Throws with a config-ready message. */
export function parseHost(text: string, nginxNames = false): ParsedHost {
  const raw = text.trim();
  if (raw.startsWith('~')) {
    // Not lower-cased: that would change the pattern (`\D` is not `\d`). Hosts reach the router
    // lower-cased, so a pattern should be written in lower case, as with nginx.
    const source = raw.slice(1);
    if (source === '') throw new Error(`host "${raw}" has an empty regex`);
    try {
      new RegExp(source);
    } catch (err) {
      throw new Error(`host regex ${JSON.stringify(source)} does not compile: ${(err as Error).message}`, { cause: err });
    }
    return { host: raw, kind: 'regex' };
  }
  const bare = raw.replace(/^\[(.*)\]$/, '$1');
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return { host: bare, kind: 'ip' };
  if (ipaddr.IPv6.isValid(bare)) return { host: ipaddr.IPv6.parse(bare).toString(), kind: 'ip' };
  // issue 18: in an nginx config `_` is kept as nginx reads it, a name no request carries.
  if (raw === '_' && nginxNames) return { host: '_', kind: 'name' };
  if (raw === '_') throw new Error(`host "_" is nginx's catch-all idiom; mark the site "default: true" instead`);
  let name = raw.toLowerCase().replace(/\.$/, '');
  const wildcard = name.startsWith('*.');
  if (wildcard) name = name.slice(2);
  // Internationalised names are matched in their A-label form, which is what SNI and Host carry.
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(name)) name = domainToASCII(name) || name;
  if (name.startsWith('.')) {
    throw new Error(`host "${raw}": nginx's ".${name.slice(1)}" form is not supported; list "${name.slice(1)}" and "*.${name.slice(1)}"`);
  }
  if (name.includes('*')) throw new Error(`host "${raw}": a wildcard is only allowed as the first label ("*.example.com")`);
  if (name.length > 253 || !DNS_NAME.test(name)) throw new Error(`host "${raw}" is not a valid DNS name or IP address`);
  return { host: wildcard ? `*.${name}` : name, kind: wildcard ? 'wildcard' : 'name' };
}

/**
 * Suffixes no public CA will issue for: RFC 6761 `.localhost` and `.test`, `.internal` (ICANN's private
 * TLD), mDNS `.local` (RFC 6762), the common `.lan`, and RFC 8375 `home.arpa`. The internal CA's root
 * permits exactly these (tls/name-constraints.ts).
 */
export const LOCAL_SUFFIXES: readonly string[] = Object.freeze(['localhost', 'test', 'internal', 'local', 'lan', 'home.arpa']);

/** Names under LOCAL_SUFFIXES (and `localhost`) and IP addresses: these get a certificate from the internal CA by default. */
export function isLocalHost(h: ParsedHost): boolean {
  if (h.kind === 'ip') return true;
  if (h.kind === 'regex') return false;
  const name = h.kind === 'wildcard' ? h.host.slice(2) : h.host;
  return name === 'localhost' || LOCAL_SUFFIXES.some((suffix) => name.endsWith(`.${suffix}`));
}
