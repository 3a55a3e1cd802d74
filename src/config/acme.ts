// `acme:`: the CA that `tls: acme` sites get their certificates from.
import { acmeDnsConfig } from './acme-dns.js';
import type { Ctx } from './context.js';
import type { Path } from './source.js';
import type { RawAcme, RawAcmeIssuer } from './schema.js';
import type { AcmeConfig, AcmeIssuerConfig } from './types.js';
import { parseDuration } from './units.js';

export const DIRECTORIES: Record<string, string> = {
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
  zerossl: 'https://acme.zerossl.com/v2/DV90',
};

const DIRECTORY_NAMES = Object.keys(DIRECTORIES).join(', ');

/** The short name of a known directory URL (`letsencrypt`…), else the URL itself: what `certs` shows. */
export function directoryLabel(url: string): string {
  return Object.keys(DIRECTORIES).find((k) => DIRECTORIES[k] === url) ?? url;
}

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
  if (ok('directory')) directory = directoryUrl(ctx, ['acme', 'directory'], a.directory as string, a.eab !== undefined) ?? directory;
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
  if (a.issuers !== undefined && ctx.shaped(['acme', 'issuers'])) {
    if (a.directory !== undefined) {
      ctx.error(['acme', 'issuers'], 'acme.directory and acme.issuers cannot both be set: keep one (acme.issuers lists every CA, the first is tried first)', 'key');
    }
    const issuers = a.issuers.map((raw, i) => issuerConfig(ctx, i, raw, acme)).filter((x): x is AcmeIssuerConfig => x !== undefined);
    if (issuers.length === a.issuers.length) {
      acme.issuers = issuers;
      acme.directory = issuers[0]!.directory;
    }
    issuers.forEach((issuer, i) => {
      if (a.dns === undefined && a.issuers![i]!.challenges !== undefined && issuer.challenges.includes('dns-01')) {
        ctx.error(['acme', 'issuers', i, 'challenges'], 'dns-01 needs acme.dns: a provider (rfc2136, exec or cloudflare) that writes the _acme-challenge TXT records');
      }
    });
  }
  if (ok('onDemand')) {
    const ask = ctx.attempt(['acme', 'onDemand', 'ask'], () => httpUrl((a.onDemand as { ask: string }).ask, 'acme.onDemand.ask'));
    if (ask !== undefined) acme.onDemand = { ask };
  }
  return acme;
}

/**
 * A directory as written: a known name or an http(s) URL. ZeroSSL issues only to accounts bound to one of
 * its own (EAB, RFC 8555 §7.3.4), so without `eab` every order would fail: said here, not at the CA.
 */
function directoryUrl(ctx: Ctx, at: Path, written: string, hasEab: boolean): string | undefined {
  const d = written.trim();
  const url = DIRECTORIES[d] ?? ctx.attempt(at, () => httpUrl(d, `${at.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('').slice(1)} (${DIRECTORY_NAMES} or a URL)`));
  if (url === DIRECTORIES.zerossl && !hasEab) {
    ctx.error(at, 'ZeroSSL requires an external account binding: set eab { kid, hmac } from your ZeroSSL account (Developer page)');
  }
  return url;
}

/** One `acme.issuers` entry; a key it leaves out is the top-level `acme` value (already in `top`). */
function issuerConfig(ctx: Ctx, i: number, raw: RawAcmeIssuer, top: AcmeConfig): AcmeIssuerConfig | undefined {
  const at = ['acme', 'issuers', i];
  if (!ctx.shaped(at)) return undefined;
  const ok = (key: keyof RawAcmeIssuer): boolean => raw[key] !== undefined && ctx.clean([...at, key]);
  if (!ok('directory')) return undefined;
  const eab = ok('eab') ? { kid: raw.eab!.kid, hmac: raw.eab!.hmac } : top.eab;
  const directory = directoryUrl(ctx, [...at, 'directory'], raw.directory, eab !== undefined);
  if (directory === undefined) return undefined;
  const issuer: AcmeIssuerConfig = {
    directory,
    challenges: ok('challenges') ? [...raw.challenges!] : [...top.challenges],
    key: ok('key') ? raw.key! : top.key,
  };
  const trust = ok('trust') ? ctx.resolve(raw.trust!) : top.trust;
  if (trust !== undefined) issuer.trust = trust;
  const email = ok('email') ? raw.email : top.email;
  if (email !== undefined) issuer.email = email;
  if (eab) issuer.eab = eab;
  const profile = ok('profile') ? raw.profile : top.profile;
  if (profile !== undefined) issuer.profile = profile;
  return issuer;
}
