// Host names as certificates see them (RFC 6125 §6.4, as tightened by RFC 9525 §6.3): case-insensitive,
// a trailing dot ignored, a wildcard only as the whole left-most label and covering exactly one label,
// IP addresses compared exactly. Site matching (nginx `server_name`, any depth) is the router's business.
import { isIP } from 'node:net';
import type { SiteConfig } from '../config/types.js';

/** Lower-case, no trailing dot; IPv6 unbracketed and in its canonical compressed form. */
export function normalizeName(name: string): string {
  let n = name.trim().toLowerCase();
  if (n.startsWith('[') && n.endsWith(']')) n = n.slice(1, -1);
  // Only a name with a colon can be IPv6: spares the per-request 421 check net.isIP's regexes.
  if (n.includes(':') && isIP(n) === 6) return canonicalIpv6(n);
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

function canonicalIpv6(ip: string): string {
  try {
    // WHATWG URL serialises IPv6 hosts canonically (RFC 5952): `0:0:0:0:0:0:0:1` → `::1`.
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip; // zone ids (`fe80::1%eth0`) are not URL hosts; compare them as written
  }
}

export function isIpName(name: string): boolean {
  // An IPv6 address has a colon and an IPv4 address ends in a digit; most host names have neither,
  // and then net.isIP's regexes are skipped.
  if (!name.includes(':') && !DIGIT_AT_END.test(name)) return false;
  return isIP(name) !== 0;
}

const DIGIT_AT_END = /\d$/;

/** The wildcard that would cover `host` (`a.example.com` → `*.example.com`), or undefined. */
export function wildcardFor(host: string): string | undefined {
  if (isIpName(host)) return undefined;
  const dot = host.indexOf('.');
  if (dot <= 0 || dot === host.length - 1) return undefined;
  return `*${host.slice(dot)}`;
}

/** Does certificate name `pattern` (a SAN entry) cover `host`? Both must be normalised. */
export function nameCovers(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  return wildcardFor(host) === pattern;
}

export function namesCover(patterns: readonly string[], host: string): boolean {
  const h = normalizeName(host);
  return patterns.some((p) => nameCovers(p, h));
}

const DNS_NAME = /^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/;

/**
 * The names a site's certificate must hold, from its `hosts`. nginx forms are translated where a
 * certificate can express them (`.example.com` → `example.com` + `*.example.com`) and skipped where it
 * cannot (`~regex`, `www.example.*`, the catch-all `_`).
 */
export function certNamesForSite(site: Pick<SiteConfig, 'hosts'>): string[] {
  const out: string[] = [];
  const add = (n: string): void => {
    const name = normalizeName(n);
    if (name === '_' || name === '') return;
    if (!isIpName(name) && !DNS_NAME.test(name)) return;
    if (!out.includes(name)) out.push(name);
  };
  for (const host of site.hosts) {
    if (host.startsWith('~')) continue;
    if (host.startsWith('.')) {
      add(host.slice(1));
      add(`*${host}`);
    } else {
      add(host);
    }
  }
  return out;
}

/**
 * Names from `X509Certificate.subjectAltName` (DNS and IP entries), normalised. Node quotes values that
 * contain separators (`DNS:"a, b"`, JSON escaping) since the CVE-2021-44532 fix, so this is a small parser
 * rather than a split on commas.
 */
export function parseSubjectAltName(san: string | undefined): string[] {
  const out: string[] = [];
  if (!san) return out;
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(':', i);
    if (colon < 0) break;
    const type = san.slice(i, colon);
    let j = colon + 1;
    let value: string;
    if (san[j] === '"') {
      let k = j + 1;
      while (k < san.length && san[k] !== '"') k += san[k] === '\\' ? 2 : 1;
      value = JSON.parse(san.slice(j, k + 1)) as string;
      j = k + 1;
    } else {
      const end = san.indexOf(', ', j);
      j = end < 0 ? san.length : end;
      value = san.slice(colon + 1, j);
    }
    if (type === 'DNS' || type === 'IP Address') {
      const name = normalizeName(value);
      if (!out.includes(name)) out.push(name);
    }
    i = j + 2;
  }
  return out;
}
