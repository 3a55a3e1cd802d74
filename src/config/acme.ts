// `acme:`: the CA that `tls: acme` sites get their certificates from.
import { acmeDnsConfig } from './acme-dns.js';
import type { Ctx } from './context.js';
import type { RawAcme } from './schema.js';
import type { AcmeConfig } from './types.js';
import { parseDuration } from './units.js';

export const DIRECTORIES: Record<string, string> = {
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
};

/** An http(s) URL, or throws with a message naming `what`. */
export function httpUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${what} "${value}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${what} "${value}" must be an http:// or https:// URL`);
  return url.href;
}

/**
 * Defaults: Let's Encrypt, both challenges, an ECDSA P-256 key (smaller handshakes, and what
 * certbot and Caddy default to), renewal time left to the renewer (a third of the lifetime, or ARI).
 * Returned when the section is written or when some site needs ACME; undefined otherwise.
 */
export function acmeConfig(ctx: Ctx, raw: RawAcme | undefined, needed: boolean): AcmeConfig | undefined {
  if (raw === undefined && !needed) return undefined;
  const a = raw !== undefined && ctx.shaped(['acme']) ? raw : {};
  const ok = (key: keyof RawAcme): boolean => a[key] !== undefined && ctx.clean(['acme', key]);
  let directory = DIRECTORIES.letsencrypt as string;
  if (ok('directory')) {
    const d = (a.directory as string).trim();
    directory = DIRECTORIES[d] ?? ctx.attempt(['acme', 'directory'], () => httpUrl(d, 'acme.directory (letsencrypt, letsencrypt-staging or a URL)')) ?? directory;
  }
  const dns = a.dns !== undefined ? acmeDnsConfig(ctx, a.dns) : undefined;
  // issue 19: as in Caddy, naming a DNS provider without listing challenges means "use DNS-01": it is
  // the one challenge that works whatever the ports and for wildcards.
  const defaultChallenges: AcmeConfig['challenges'] = a.dns !== undefined ? ['dns-01'] : ['http-01', 'tls-alpn-01'];
  const acme: AcmeConfig = {
    directory,
    challenges: ok('challenges') ? [...(a.challenges as AcmeConfig['challenges'])] : defaultChallenges,
    key: ok('key') ? (a.key as AcmeConfig['key']) : 'ecdsa-p256',
  };
  if (dns) acme.dns = dns;
  if (ok('challenges') && a.dns === undefined && acme.challenges.includes('dns-01')) {
    ctx.error(['acme', 'challenges'], 'dns-01 needs acme.dns: a provider (rfc2136, exec or cloudflare) that writes the _acme-challenge TXT records');
  }
  if (ok('challenges') && a.dns !== undefined && !acme.challenges.includes('dns-01')) {
    ctx.warn(['acme', 'dns'], 'acme.dns is not used: acme.challenges does not list dns-01', 'key');
  }
  if (ok('email')) acme.email = a.email as string;
  if (ok('trust')) acme.trust = ctx.resolve(a.trust as string);
  if (ok('renewBefore')) acme.renewBeforeMs = parseDuration(a.renewBefore as string | number);
  if (ok('eab')) acme.eab = { kid: (a.eab as { kid: string }).kid, hmac: (a.eab as { hmac: string }).hmac };
  if (ok('profile')) acme.profile = a.profile as string;
  if (ok('onDemand')) {
    const ask = ctx.attempt(['acme', 'onDemand', 'ask'], () => httpUrl((a.onDemand as { ask: string }).ask, 'acme.onDemand.ask'));
    if (ask !== undefined) acme.onDemand = { ask };
  }
  return acme;
}
