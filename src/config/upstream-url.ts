// Upstream URLs, parsed here only: a route's `proxy:` value (where it points and its nginx
// proxy_pass URI part) and an upstream's server URLs.
const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, h2c: 80, h2: 443 };
/** FastCGI, uwsgi and SCGI have no standard port (nginx: "no port in upstream"), and may be unix sockets. */
export const CGI_SCHEMES = new Set(['fastcgi', 'uwsgi', 'scgi']);
/** Schemes that may name a unix socket (`http+unix:/run/app.sock`): HTTP/1.1 (also over TLS) and the CGI-style ones. */
const UNIX_SCHEMES = new Set(['http', 'https', ...CGI_SCHEMES]);
const UNIX_LIST = 'http, https, fastcgi, uwsgi and scgi';
const ALL_SCHEMES = 'http://, https://, h2c://, h2://, fastcgi://, uwsgi://, scgi:// or SCHEME+unix:/path';
const SCHEMES = new Set(['http', 'https', 'h2c', 'h2', 'fastcgi', 'uwsgi', 'scgi']);

/** Where a `proxy:` points, parsed once. */
export interface ProxyTarget {
  /** `http`, `https`, `h2c`, `h2`, `fastcgi`, `uwsgi`, `scgi`. */
  scheme: string;
  /** Named upstream (from `upstreams:`), or undefined when the target is a literal address. */
  upstream?: string;
  /** `host:port` for a literal address (port defaulted from scheme), the absolute unix socket path for `+unix`. */
  address?: string;
  /** The host as written (used for `$proxy_host` and the nginx-adapter `Host` header); `localhost` for a unix socket, as nginx's. */
  proxyHost: string;
  /** The URI part of proxy_pass, or undefined when there is none (nginx semantics differ). */
  uri?: string;
}

/**
 * `upstreamNames` are the names declared under `upstreams:`. A bare name (`app`) or a URL whose
 * host is such a name (`http://app/v2/`) points at that upstream. Throws with a config-ready message.
 */
export function parseProxyTarget(value: string, upstreamNames: ReadonlySet<string>): ProxyTarget {
  const text = value.trim();
  if (upstreamNames.has(text)) return { scheme: 'http', upstream: text, proxyHost: text };
  // `scheme://…`, or `scheme+unix:/path` (also `scheme+unix:///path`), as README "Configuration reference" writes it.
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
    if (!UNIX_SCHEMES.has(scheme)) {
      throw new Error(`"${scheme}+unix:" is not supported; unix sockets work with ${UNIX_LIST}`);
    }
    // scheme+unix:/run/app.sock or scheme+unix:///run/app.sock.
    const path = rest.replace(/^\/\/(?=\/)/, '');
    if (CGI_SCHEMES.has(scheme)) {
      // An address only; routes.ts refuses a URI part for these schemes.
      if (!path.startsWith('/')) throw new Error(`unix socket path in "${text}" must be absolute`);
      return { scheme, address: path, proxyHost: 'localhost' };
    }
    // nginx's ngx_parse_unix_domain_url for proxy_pass http://unix:/path:/uri: the socket path ends at
    // the first ":", the URI part follows it; an empty one is none (ngx_http_proxy_pass, vars.uri.len 0).
    const colon = path.indexOf(':');
    const socket = colon === -1 ? path : path.slice(0, colon);
    const uri = colon === -1 || colon === path.length - 1 ? undefined : path.slice(colon + 1);
    if (!socket.startsWith('/')) throw new Error(`unix socket path in "${text}" must be absolute`);
    if (uri !== undefined && !uri.startsWith('/')) {
      throw new Error(`the URI part of "${text}" must start with "/" (${scheme}+unix:/path.sock:/uri)`);
    }
    // $proxy_host is "localhost" for a unix socket (ngx_http_proxy_set_vars: host_header "localhost").
    return { scheme, address: socket, proxyHost: 'localhost', ...(uri !== undefined ? { uri } : {}) };
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

/**
 * `scheme://host[:port]`, normalised to always carry the port; `http+unix:/path` (also https,
 * fastcgi, uwsgi, scgi, and the `+unix:///path` spelling) as `scheme+unix:/path`. Throws with a
 * config-ready message.
 */
export function parseServerUrl(text: string): string {
  const unix = /^([a-z0-9]+)\+unix:(?:\/\/(?=\/))?(.*)$/i.exec(text.trim());
  if (unix) {
    const scheme = (unix[1] ?? '').toLowerCase();
    const path = unix[2] ?? '';
    if (!UNIX_SCHEMES.has(scheme)) throw new Error(`upstream server "${text}": unix sockets work with ${UNIX_LIST}`);
    if (!path.startsWith('/')) throw new Error(`upstream server "${text}": the unix socket path must be absolute`);
    // nginx's `server unix:/path` has no URI part either; a ":/uri" belongs in the route's proxy.
    if (/:\//.test(path)) throw new Error(`upstream server "${text}" cannot have a path; put it in the route's proxy (http://NAME/path/)`);
    return `${scheme}+unix:${path}`;
  }
  const m = /^([a-z0-9+]+):\/\/([^/?#]*)(.*)$/i.exec(text.trim());
  if (!m) throw new Error(`upstream server "${text}" must be a URL like http://127.0.0.1:8080`);
  const scheme = (m[1] ?? '').toLowerCase();
  const cgi = CGI_SCHEMES.has(scheme);
  const port = DEFAULT_PORTS[scheme];
  if (port === undefined && !cgi) throw new Error(`upstream server "${text}" must use ${ALL_SCHEMES}`);
  if ((m[3] ?? '') !== '' && m[3] !== '/') {
    throw new Error(`upstream server "${text}" cannot have a path; put it in the route's proxy (http://NAME/path/)`);
  }
  const hp = /^(\[[0-9a-f:.]+\]|[^:[\]@\s]+)(?::(\d{1,5}))?$/i.exec(m[2] ?? '');
  if (!hp) throw new Error(`upstream server "${text}" needs a host (and optionally a port)`);
  if (hp[2] === undefined && port === undefined) throw new Error(`upstream server "${text}" needs a port (${scheme}:// has no default one)`);
  const p = hp[2] !== undefined ? Number(hp[2]) : (port as number);
  if (p < 1 || p > 65535) throw new Error(`upstream server "${text}" has port ${p} out of range`);
  return `${scheme}://${(hp[1] ?? '').toLowerCase()}:${p}`;
}

/**
 * A server URL as parseServerUrl() normalised it: `fastcgi+unix:/run/php.sock` (or `http+unix:…`)
 * gives the socket path as the address, `http://127.0.0.1:8080` gives `127.0.0.1:8080`.
 */
export function splitServerUrl(url: string): { scheme: string; address: string } {
  const m = /^([a-z0-9]+)(\+unix:|:\/\/)(.*)$/i.exec(url);
  return { scheme: (m?.[1] ?? '').toLowerCase(), address: m?.[3] ?? '' };
}

/** `fastcgi` for `fastcgi://…` and `fastcgi+unix:/…`, `http` for `http://…` and `http+unix:/…`: the protocol the servers speak. */
export function serverScheme(url: string): string {
  return splitServerUrl(url).scheme;
}
