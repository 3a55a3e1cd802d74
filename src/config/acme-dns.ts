// issue 19: `acme.dns`, how DNS-01 records are written (README "DNS-01 and wildcard certificates"). The
// schema accepts every provider's keys in one object; here each provider gets its own and only its own,
// with the error at the key. Secrets (tsig.secret, apiToken) are checked without ever being quoted.
import { isIP } from 'node:net';
import type { Ctx } from './context.js';
import type { Path } from './source.js';
import type { RawAcmeDns } from './schema.js';
import type { AcmeDnsConfig, AcmeDnsProviderConfig, DnsServerAddress } from './types.js';
import { parseDuration } from './units.js';

export const CLOUDFLARE_ENDPOINT = 'https://api.cloudflare.com/client/v4';

const PROVIDER_KEYS: Record<RawAcmeDns['provider'], ReadonlyArray<keyof RawAcmeDns>> = {
  rfc2136: ['server', 'zone', 'tsig'],
  exec: ['command'],
  cloudflare: ['apiToken', 'zoneId', 'endpoint'],
};

const DEFAULTS = { propagationTimeoutMs: 120_000, propagationIntervalMs: 2_000, ttl: 60 };

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address; port 53 when none is written. */
export function dnsServerAddress(value: string): DnsServerAddress {
  const v = value.trim();
  let host = v;
  let port = '53';
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (bracket) {
    host = bracket[1]!;
    port = bracket[2] ?? port;
  } else if (isIP(v) !== 6 && v.includes(':')) {
    host = v.slice(0, v.lastIndexOf(':'));
    port = v.slice(v.lastIndexOf(':') + 1);
  }
  const n = Number(port);
  if (!/^\d{1,5}$/.test(port) || n < 1 || n > 65535) throw new Error(`"${value}": the port must be 1 to 65535`);
  if (bracket && isIP(host) !== 6) throw new Error(`"${value}": only an IPv6 address goes in brackets`);
  if (!isIP(host) && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(host)) {
    throw new Error(`"${value}" is not HOST or HOST:PORT`);
  }
  return { host, port: n };
}

/** A zone or record name: letters, digits, `-`, `_`, dots; at most 253 characters. */
function dnsName(value: string, what: string): string {
  const v = value.trim().toLowerCase().replace(/\.$/, '');
  if (v.length === 0 || v.length > 253 || !/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(v)) {
    throw new Error(`${what} "${value}" is not a DNS name`);
  }
  return v;
}

/** RFC 8945 §6: the shared secret is base64; checked here so a typo fails `check`, not the first renewal. */
function tsigSecret(value: string): string {
  const v = value.replace(/\s+/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v) || v.length === 0) {
    throw new Error('acme.dns.tsig.secret is not base64 (as tsig-keygen or `dnssec-keygen -a HMAC-SHA256` prints it)');
  }
  if (Buffer.from(v, 'base64').length < 16) throw new Error('acme.dns.tsig.secret is shorter than 16 bytes: generate one with tsig-keygen');
  return v;
}

export function acmeDnsConfig(ctx: Ctx, raw: RawAcmeDns): AcmeDnsConfig | undefined {
  const at: Path = ['acme', 'dns'];
  if (!ctx.shaped(at) || !ctx.clean([...at, 'provider'])) return undefined;
  const ok = (key: keyof RawAcmeDns): boolean => raw[key] !== undefined && ctx.clean([...at, key]);
  const provider = raw.provider;
  let failed = false;
  for (const [other, keys] of Object.entries(PROVIDER_KEYS)) {
    if (other === provider) continue;
    for (const key of keys) {
      if (raw[key] === undefined || PROVIDER_KEYS[provider].includes(key)) continue;
      ctx.error([...at, key], `acme.dns.${key} belongs to provider ${other}, not ${provider}`, 'key');
      failed = true;
    }
  }
  const need = (key: keyof RawAcmeDns, what: string): boolean => {
    if (raw[key] !== undefined) return ok(key);
    ctx.error([...at, 'provider'], `provider ${provider} needs acme.dns.${key} (${what})`);
    return false;
  };
  const attempt = <T>(key: Path, fn: () => T): T | undefined => {
    const v = ctx.attempt([...at, ...key], fn);
    if (v === undefined) failed = true;
    return v;
  };

  let chosen: AcmeDnsProviderConfig | undefined;
  if (provider === 'rfc2136') {
    const server = need('server', 'the primary server that takes dynamic updates, HOST[:PORT]') ? attempt(['server'], () => dnsServerAddress(raw.server!)) : undefined;
    if (server) {
      chosen = { provider, server };
      if (ok('zone')) {
        const zone = attempt(['zone'], () => dnsName(raw.zone!, 'acme.dns.zone'));
        if (zone) chosen.zone = zone;
      }
      if (ok('tsig')) {
        const t = raw.tsig!;
        const name = attempt(['tsig', 'name'], () => dnsName(t.name, 'acme.dns.tsig.name'));
        const secret = attempt(['tsig', 'secret'], () => tsigSecret(t.secret));
        if (name && secret) chosen.tsig = { name, algorithm: t.algorithm ?? 'hmac-sha256', secret };
      }
    }
  } else if (provider === 'exec') {
    if (need('command', 'a program called with present|cleanup NAME VALUE')) {
      const list = typeof raw.command === 'string' ? [raw.command] : [...raw.command!];
      // A relative path is the config's, as every path in the file; a bare name is looked up in PATH.
      const program = list[0]!.includes('/') ? ctx.resolve(list[0]!) : list[0]!;
      chosen = { provider, command: [program, ...list.slice(1)] };
    }
  } else if (need('apiToken', 'a Cloudflare API token with Zone.DNS edit permission, e.g. ${CF_API_TOKEN}')) {
    // Sent as an HTTP header: printable ASCII only (never quoted, it is a secret).
    if (!/^[\x21-\x7e]+$/.test(raw.apiToken!)) {
      ctx.error([...at, 'apiToken'], 'acme.dns.apiToken has spaces or characters an API token never has');
      failed = true;
    } else {
      let endpoint = CLOUDFLARE_ENDPOINT;
      if (ok('endpoint')) endpoint = attempt(['endpoint'], () => httpsEndpoint(raw.endpoint!)) ?? endpoint;
      chosen = { provider, apiToken: raw.apiToken!, endpoint };
      if (ok('zoneId')) {
        if (/^[A-Za-z0-9]{1,64}$/.test(raw.zoneId!)) chosen.zoneId = raw.zoneId!;
        else {
          ctx.error([...at, 'zoneId'], `acme.dns.zoneId "${raw.zoneId}" is not a Cloudflare zone id (32 hex digits)`);
          failed = true;
        }
      }
    }
  }

  const out = { ...DEFAULTS } as Omit<AcmeDnsConfig, keyof AcmeDnsProviderConfig>;
  if (ok('resolver')) {
    const r = attempt(['resolver'], () => dnsServerAddress(raw.resolver!));
    if (r) out.resolver = r;
  }
  if (ok('nameservers')) {
    const list = raw.nameservers!.map((n, i) => attempt(['nameservers', i], () => dnsServerAddress(n)));
    if (list.every((n): n is DnsServerAddress => n !== undefined)) out.nameservers = list;
  }
  if (ok('propagationTimeout')) out.propagationTimeoutMs = parseDuration(raw.propagationTimeout!);
  if (ok('propagationInterval')) out.propagationIntervalMs = parseDuration(raw.propagationInterval!);
  if (ok('ttl')) out.ttl = raw.ttl!;
  if (out.propagationIntervalMs <= 0 || out.propagationIntervalMs > out.propagationTimeoutMs) {
    ctx.error([...at, raw.propagationInterval !== undefined ? 'propagationInterval' : 'propagationTimeout'],
      'acme.dns.propagationInterval must be above 0 and at most propagationTimeout');
    failed = true;
  }
  return chosen && !failed ? { ...chosen, ...out } : undefined;
}

/** The Cloudflare API base URL: https only (it carries the token), http allowed for loopback only. */
function httpsEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`acme.dns.endpoint "${value}" is not a URL`);
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new Error(`acme.dns.endpoint "${value}" must be https:// (http:// only on loopback): the API token travels in it`);
  }
  if (url.username || url.password || url.search || url.hash) throw new Error(`acme.dns.endpoint must be a plain base URL without credentials, query or fragment`);
  return url.href.replace(/\/+$/, '');
}
