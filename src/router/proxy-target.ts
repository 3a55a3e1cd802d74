// Parsing of a route's `proxy:` value into where it points and its nginx proxy_pass URI part.
import type { ProxyTarget } from './types.js';

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, h2c: 80, h2: 443 };
const SCHEMES = new Set(['http', 'https', 'h2c', 'h2', 'fastcgi', 'uwsgi', 'scgi']);

/**
 * `upstreamNames` are the names declared under `upstreams:`. A bare name (`app`) or a URL whose
 * host is such a name (`http://app/v2/`) points at that upstream. Throws with a config-ready message.
 */
export function parseProxyTarget(value: string, upstreamNames: ReadonlySet<string>): ProxyTarget {
  const text = value.trim();
  if (upstreamNames.has(text)) return { scheme: 'http', upstream: text, proxyHost: text };
  // `scheme://…`, or `scheme+unix:/path` (also `scheme+unix:///path`), as SPEC §2 writes it.
  const m = /^([a-z0-9]+)(\+unix:|:\/\/)(.*)$/i.exec(text);
  if (!m) {
    throw new Error(`proxy "${text}" is neither an upstream name nor a URL like http://127.0.0.1:8080`);
  }
  const scheme = (m[1] ?? '').toLowerCase();
  const unix = m[2] === '+unix:';
  const rest = m[3] ?? '';
  if (!SCHEMES.has(scheme)) {
    throw new Error(`proxy scheme "${scheme}" is not supported (use ${[...SCHEMES].join(', ')})`);
  }
  if (unix) {
    if (scheme !== 'fastcgi' && scheme !== 'uwsgi' && scheme !== 'scgi') {
      throw new Error(`"${scheme}+unix:" is not supported; unix sockets work with fastcgi, uwsgi and scgi`);
    }
    // fastcgi+unix:/run/php.sock or fastcgi+unix:///run/php.sock; no URI part is possible.
    const path = text.slice(text.indexOf(':') + 1).replace(/^\/\/(?=\/)/, '');
    if (!path.startsWith('/')) throw new Error(`unix socket path in "${text}" must be absolute`);
    return { scheme, address: path, proxyHost: 'localhost' };
  }
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const uri = slash === -1 ? undefined : rest.slice(slash);
  if (authority === '') throw new Error(`proxy "${text}" has no host`);
  if (/[@?#\s]/.test(authority)) throw new Error(`proxy "${text}" has an invalid host part "${authority}"`);
  if (upstreamNames.has(authority)) {
    return { scheme, upstream: authority, proxyHost: authority, ...(uri !== undefined ? { uri } : {}) };
  }
  const hp = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(authority);
  if (!hp) throw new Error(`proxy "${text}" has an invalid host:port "${authority}"`);
  const host = hp[1] ?? '';
  const port = hp[2] !== undefined ? Number(hp[2]) : DEFAULT_PORTS[scheme];
  if (port === undefined) throw new Error(`proxy "${text}" needs a port for scheme ${scheme}`);
  if (port < 1 || port > 65535) throw new Error(`proxy "${text}" has port ${port} out of range`);
  const explicitPort = hp[2] !== undefined;
  return {
    scheme,
    address: `${host}:${port}`,
    proxyHost: explicitPort ? `${host}:${port}` : host,
    ...(uri !== undefined ? { uri } : {}),
  };
}
