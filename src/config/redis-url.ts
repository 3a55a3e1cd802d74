// `storage: redis://[user:pass@]host:port/db?prefix=NAME` (and `rediss://` for TLS), parsed once here so
// that `gatehouse check` and the storage agree on what a URL means (README "Configuration reference" and "Several machines").
//
// Several deployments can share one Redis in two ways: a database number (`/1`, `/2`; not on Redis
// Cluster or most managed offerings, which only have db 0) or a key prefix (`?prefix=staging`), which puts
// every key, lock and notification channel of this storage under `staging:`. Only `prefix` is accepted as a
// query parameter: a misspelt option must not be silently ignored.

export interface RedisTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls: boolean;
  /** Namespace of every key and channel, without the trailing `:`. */
  prefix: string;
  /** The URL without credentials, for logs and `gatehouse certs`. */
  display: string;
}

export const DEFAULT_PREFIX = 'gatehouse';
const PREFIX = /^[A-Za-z0-9._-]{1,64}$/;
const PARAMS = new Set(['prefix']);

/** Throws an Error whose message says what is wrong and how to write it. */
export function parseRedisUrl(text: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`storage "${redact(text)}" is not a valid URL (redis://[user:password@]host:port/db)`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss') throw new Error(`storage "${redact(text)}": the scheme must be redis:// or rediss://`);
  const shown = `${scheme}://${url.host}${url.pathname}`;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new Error(`storage "${shown}": the URL has no host`);
  const port = url.port === '' ? 6379 : Number(url.port);

  const path = url.pathname.replace(/^\/+|\/+$/g, '');
  if (path !== '' && !/^\d{1,5}$/.test(path)) throw new Error(`storage "${shown}": the path must be a database number, e.g. /0`);
  const db = path === '' ? 0 : Number(path);

  for (const name of url.searchParams.keys()) {
    if (!PARAMS.has(name)) throw new Error(`storage "${shown}": unknown parameter "${name}" (known: ${[...PARAMS].join(', ')})`);
  }
  const prefix = url.searchParams.get('prefix') ?? DEFAULT_PREFIX;
  if (!PREFIX.test(prefix)) throw new Error(`storage "${shown}": prefix "${prefix}" must be 1-64 characters of A-Z a-z 0-9 . _ -`);

  const target: RedisTarget = {
    host,
    port,
    db,
    tls: scheme === 'rediss',
    prefix,
    display: `${scheme}://${url.host}/${db}${prefix === DEFAULT_PREFIX ? '' : `?prefix=${prefix}`}`,
  };
  if (url.username) target.username = decodeURIComponent(url.username);
  if (url.password) target.password = decodeURIComponent(url.password);
  return target;
}

/** Never echo a password, even from a URL too broken to parse. */
function redact(text: string): string {
  return text.replace(/\/\/[^@/]*@/, '//***@');
}
