// The one JSON schema of the native config (README "Configuration reference"): structure and types only. Defaults and the
// checks that need more than one value (duplicate hosts, unknown upstreams...) are in the
// normalising steps. Pieces are shared as JS constants rather than `$ref`s, except the route (which
// nests): `schema-errors.ts` groups an `anyOf`'s errors by schemaPath prefix plus instancePath, which
// holds inside the route's own `$defs` entry too, as no `anyOf` has a route inside it.
//
// Two annotation keywords of our own:
//   expect: how to describe a valid value in a message ("a port, \"host:port\" ...").
//   unit:   duration | size | rate, checked with the parsers in units.ts.

const text = { type: 'string', minLength: 1 };
const bool = { type: 'boolean' };
const count = { type: 'integer', minimum: 0 };
const duration = { type: ['string', 'number'], unit: 'duration', expect: 'a duration like 30s, 5m or 12h' };
const size = { type: ['string', 'integer'], unit: 'size', expect: 'a size like 512, 64k, 10m or 1g' };
const rate = { type: 'string', unit: 'rate', expect: 'a rate like 10r/s or 30r/m' };
const textList = { type: ['string', 'array'], items: text, expect: 'a string or a list of strings' };
// issue 19: TLS policy (config/tls-policy.ts checks each name against Node's OpenSSL).
const tlsProtocols = { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] } };
const tlsPolicy = {
  protocols: tlsProtocols,
  ciphers: { type: 'array', minItems: 1, uniqueItems: true, items: text },
  curves: { type: 'array', minItems: 1, uniqueItems: true, items: text },
  preferServerCiphers: bool,
};

const listenOne = { type: ['integer', 'string'], expect: 'a port, "host:port" or "[::]:port"' };
// issue 19: a listener entry may be an object to read PROXY protocol headers (config/listen-entry.ts).
const listenEntry = {
  type: ['integer', 'string', 'object'],
  expect: 'a port, "host:port", "[::]:port" or { address: ADDRESS, proxyProtocol: true, trusted: [CIDRs] }',
  additionalProperties: false,
  required: ['address'],
  properties: { address: listenOne, proxyProtocol: bool, trusted: textList },
};
const listenList = { ...listenEntry, type: ['integer', 'string', 'object', 'array'], items: listenEntry, expect: 'a port, "host:port", "[::]:port", { address, proxyProtocol, trusted } or a list of them' };
// issue 18: a site's ports, nginx's `listen` per server (config/site-ports.ts).
const portNumber = { type: 'integer', minimum: 0, maximum: 65535, expect: 'a port number' };
const sitePorts = { type: ['integer', 'array'], items: portNumber, minItems: 1, minimum: 0, maximum: 65535, expect: 'a port of the top-level listen, or a list of them' };

const headerOps = {
  type: 'object',
  additionalProperties: false,
  properties: {
    set: { type: 'object', additionalProperties: { type: ['string', 'number'], expect: 'a header value' } },
    remove: textList,
  },
};
// issue 17: add_header (`add`) in the response part.
const addHeader = {
  type: ['string', 'number', 'object'],
  expect: 'a header value, or { value, always: true }',
  additionalProperties: false,
  required: ['value'],
  properties: { value: { type: ['string', 'number'], expect: 'a header value' }, always: bool },
};
const responseHeaderOps = { ...headerOps, properties: { ...headerOps.properties, add: { type: 'object', additionalProperties: addHeader } } };
const headers = { type: 'object', additionalProperties: false, properties: { request: headerOps, response: responseHeaderOps } };

// issue 17: error pages and response headers, keys of a site and of a route (config/error-pages.ts,
// config/response-headers.ts).
const proxyRedirectRule = {
  type: ['string', 'object'],
  expect: 'default, or { from: PREFIX-OR-~REGEX, to: REPLACEMENT }',
  additionalProperties: false,
  required: ['from', 'to'],
  properties: { from: text, to: { type: 'string', expect: 'the replacement text' } },
};
const responseKeys = {
  errorPages: {
    type: 'object',
    expect: 'a map of statuses to pages, like { 404: /404.html, "502 504": /50x.html }',
    additionalProperties: { type: 'string', minLength: 1, expect: 'a URI, @name, a URL, or "=CODE" before one of them' },
  },
  interceptErrors: bool,
  // issue 18: nginx's proxy_next_upstream http_* (handler/proxy.ts).
  retryStatuses: { type: 'array', uniqueItems: true, items: { type: 'integer', enum: [403, 404, 429, 500, 502, 503, 504] }, expect: 'a list of 403, 404, 429, 500, 502, 503, 504' },
  expires: { type: ['string', 'number'], expect: 'off, epoch, max, a duration like 30d or -1h, or "modified 1h"' },
  proxyRedirect: { type: ['string', 'array'], items: proxyRedirectRule, expect: 'default, off, or a list of { from, to } rules' },
  proxyHideHeaders: textList,
  proxyPassHeaders: textList,
  // issue 18: nginx's charset and charset_types (config/charset.ts).
  charset: { type: 'string', minLength: 1, expect: 'a charset name like utf-8, or off' },
  charsetTypes: { ...textList, expect: 'media types like text/html, or *' },
};
const rateLimit = {
  type: 'object',
  additionalProperties: false,
  required: ['rate'],
  properties: { rate, burst: count },
};

const clientTimeouts = {
  type: 'object',
  additionalProperties: false,
  properties: { header: duration, body: duration, send: duration, keepalive: duration },
};

// issue 17: rewrite — a step is a `rewrite` string or one of rewrite/set/return/if(+then)/break.
const rewriteStepKeys = {
  rewrite: text,
  set: { type: 'object', additionalProperties: { type: ['string', 'number'], expect: 'a value (text with variables)' } },
  return: { type: ['integer', 'string'], expect: 'CODE, "CODE TEXT-OR-URL" or a URL' },
  if: text,
  break: { type: 'boolean', enum: [true], expect: 'true' },
};
// Inside `then` the keys are checked by config/rewrite.ts, which explains why a proxy or root
// cannot be there (nginx's "if is evil") instead of calling it an unknown key.
const rewriteInner = {
  type: ['string', 'object'],
  expect: 'a "REGEX REPLACEMENT [FLAG]" string or one of rewrite, set, return, break',
  properties: rewriteStepKeys,
};
const rewriteSteps = {
  type: 'array',
  expect: 'a list of steps: "REGEX REPLACEMENT [FLAG]", { set }, { return }, { if, then }, { break: true }',
  items: { ...rewriteInner, expect: 'a "REGEX REPLACEMENT [FLAG]" string or one of rewrite, set, return, if, break', additionalProperties: false, properties: { ...rewriteStepKeys, then: { type: 'array', items: rewriteInner } } },
};
const mapBlock = {
  type: 'object',
  additionalProperties: false,
  required: ['from'],
  properties: {
    from: text,
    default: { type: ['string', 'number'], expect: 'a value' },
    hostnames: bool,
    values: { type: 'object', additionalProperties: { type: ['string', 'number'], expect: 'a value' } },
  },
};

// issue 17: access
const accessRule = {
  type: 'object',
  additionalProperties: false,
  expect: '{ allow: ADDRESS } or { deny: ADDRESS } (an address, a CIDR, all or unix:)',
  properties: { allow: text, deny: text },
};
const accessKeys = {
  access: { type: 'array', items: accessRule, expect: 'a list of { allow: ADDRESS } and { deny: ADDRESS }' },
  auth: {
    expect: '{ realm: TEXT, htpasswd: FILE } or off',
    anyOf: [
      { type: 'string', enum: ['off'], expect: '{ realm: TEXT, htpasswd: FILE } or off' },
      { type: 'object', additionalProperties: false, required: ['htpasswd'], properties: { realm: { type: 'string' }, htpasswd: text } },
    ],
  },
  satisfy: { type: 'string', enum: ['all', 'any'] },
  forwardAuth: {
    expect: '{ url: URL, copyHeaders, set, timeout } or off',
    anyOf: [
      { type: 'string', enum: ['off'], expect: '{ url: URL, copyHeaders, set, timeout } or off' },
      {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: text,
          copyHeaders: { type: 'array', items: text, expect: 'a list of header names' },
          set: { type: 'object', additionalProperties: { type: 'string', expect: 'a value with variables like $upstream_http_remote_user' } },
          timeout: duration,
        },
      },
    ],
  },
};

// FastCGI / uwsgi / SCGI parameters of the user (nginx fastcgi_param, uwsgi_param, scgi_param):
// NAME: VALUE, or NAME: { value, ifNotEmpty } for nginx's `if_not_empty` (config/cgi-params.ts).
const cgiParam = {
  type: ['string', 'number', 'object'],
  expect: 'a value (text with variables), or { value, ifNotEmpty: true }',
  additionalProperties: false,
  required: ['value'],
  properties: { value: { type: ['string', 'number'], expect: 'a value (text with variables)' }, ifNotEmpty: bool },
};
const cgiParams = { type: 'object', expect: 'a map of parameter names to values', additionalProperties: cgiParam };

// issue 17: logs. `accessLog: off | NAME | { file: PATH, format: NAME }` (nginx access_log).
const accessLog = {
  type: ['string', 'object'],
  expect: 'off, a log format name, or { file: PATH, format: NAME }',
  minLength: 1,
  additionalProperties: false,
  properties: { file: text, format: text },
};

const route = {
  type: 'object',
  additionalProperties: false,
  required: ['location'],
  properties: {
    location: text,
    proxy: text,
    root: text,
    index: { ...textList, minItems: 1 },
    tryFiles: { type: 'array', items: text, minItems: 2, expect: 'a list: files to try, then a fallback' },
    symlinks: { type: 'string', enum: ['inside', 'follow', 'refuse'] },
    return: { type: ['integer', 'string'], expect: 'CODE, "CODE TEXT-OR-URL" or a URL' },
    headers,
    cache: duration,
    maxBody: size,
    rateLimit,
    timeout: duration,
    requestBuffering: bool,
    tunnelIdle: duration,
    // issue 17: rewrite
    rewrite: rewriteSteps,
    // issue 17: access
    ...accessKeys,
    // issue 17: error pages and response headers
    ...responseKeys,
    upgrade: {
      expect: 'a list of protocols (like [websocket]), or off',
      anyOf: [
        { type: 'string', enum: ['off'], expect: 'a list of protocols (like [websocket]), or off' },
        { type: 'array', uniqueItems: true, items: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+(/[!#$%&'*+.^_`|~0-9A-Za-z-]+)?$", expect: 'a protocol token like websocket' } },
      ],
    },
    // issue 17: logs
    accessLog,
    // issue 17: nest (alias, internal; nested `routes` are added by nestedRoutes below)
    alias: text,
    internal: bool,
    params: cgiParams,
    splitPathInfo: { type: ['boolean', 'string'], minLength: 1, expect: 'true, false, or a regex with two captures like ^(.+\\.php)(/.+)$' },
  },
};

// issue 17: nest. nginx nests locations to any depth; the route schema refers to itself through one
// `$ref` (compiled once: unrolled copies made every start pay for each level). The depth bound,
// MAX_NESTING levels of `routes:` inside a route, is checked in routes.ts.
export const MAX_NESTING = 6;
const routeList = { type: 'array', items: { $ref: '#/$defs/route' } };
(route.properties as Record<string, unknown>).routes = routeList;

/** issue 19: mTLS — nginx's ssl_verify_client, ssl_client_certificate and ssl_verify_depth (config/client-auth.ts). */
const clientAuth = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ca: text,
    mode: { type: 'string', enum: ['require', 'optional', 'optional_no_ca'] },
    depth: { type: 'integer', minimum: 0, maximum: 100 },
  },
};

const site = {
  type: 'object',
  additionalProperties: false,
  required: ['hosts'],
  properties: {
    hosts: { ...textList, minItems: 1 },
    listen: sitePorts,
    default: { type: ['boolean', 'array'], items: portNumber, minItems: 1, expect: 'true, false, or a list of the site\'s ports' },
    tls: {
      expect: 'acme, internal, off, { cert: FILE, key: FILE } or { issuer: acme|internal, ... }',
      anyOf: [
        { type: 'string', enum: ['acme', 'internal', 'off'], expect: 'acme, internal, off, { cert: FILE, key: FILE } or { issuer: acme|internal, ... }' },
        // issue 19: the object form carries the handshake settings beside the certificate's source.
        {
          type: 'object',
          additionalProperties: false,
          properties: { issuer: { type: 'string', enum: ['acme', 'internal'] }, cert: text, key: text, clientAuth, ...tlsPolicy },
        },
      ],
    },
    redirect: { type: 'string', enum: ['https', 'off'] },
    hsts: duration,
    compress: {
      expect: 'a list of br, gzip, zstd, or off',
      anyOf: [
        { type: 'string', enum: ['off'], expect: 'a list of br, gzip, zstd, or off' },
        { type: 'array', uniqueItems: true, items: { type: 'string', enum: ['br', 'gzip', 'zstd'] } },
      ],
    },
    headers,
    rateLimit,
    maxBody: size,
    timeouts: clientTimeouts,
    underscoresInHeaders: bool,
    compressAuthenticated: bool,
    // issue 18: nginx's gzip filter rules (middleware/compress-nginx.ts).
    compressRules: {
      type: 'object',
      additionalProperties: false,
      properties: { types: textList, minLength: size, vary: bool, proxied: bool },
    },
    // issue 17: logs
    accessLog,
    routes: routeList,
    // issue 17: nest (site-level defaults, inherited by the routes: config/inherit.ts)
    root: text,
    index: { ...textList, minItems: 1 },
    // issue 17: rewrite
    rewrite: rewriteSteps,
    // issue 17: access
    ...accessKeys,
    // issue 17: error pages and response headers
    ...responseKeys,
    params: cgiParams,
  },
};

const server = {
  type: ['string', 'object'],
  expect: 'a URL or { url, weight, backup }',
  additionalProperties: false,
  required: ['url'],
  properties: { url: text, weight: { type: 'integer', minimum: 1 }, backup: bool },
};

const upstream = {
  type: 'object',
  additionalProperties: false,
  required: ['servers'],
  properties: {
    servers: { type: ['string', 'array'], items: server, minItems: 1, expect: 'a URL or a list of servers' },
    balance: { type: 'string', enum: ['round-robin', 'least-conn', 'ip-hash', 'random-two'] },
    maxFails: count,
    failTimeout: duration,
    health: {
      type: 'object',
      additionalProperties: false,
      properties: {
        path: { type: 'string', pattern: '^/', expect: 'a path starting with "/"' },
        interval: duration,
        timeout: duration,
        status: { type: 'integer', minimum: 100, maximum: 599 },
      },
    },
    retries: count,
    timeouts: {
      type: 'object',
      additionalProperties: false,
      properties: { connect: duration, read: duration, send: duration },
    },
    keepalive: count,
    tls: {
      type: 'object',
      additionalProperties: false,
      properties: { ca: text, servername: text, insecure: bool, cert: text, key: text, protocols: tlsProtocols },
    },
  },
};

// issue 19: DNS-01. One object for every provider; which keys belong to which provider is checked in
// config/acme-dns.ts, where the message can name the provider (a oneOf here would only say "no match").
const dnsServer = { type: 'string', minLength: 1, expect: 'HOST or HOST:PORT' };
const acmeDns = {
  type: 'object',
  additionalProperties: false,
  required: ['provider'],
  properties: {
    provider: { type: 'string', enum: ['rfc2136', 'exec', 'cloudflare'] },
    server: dnsServer,
    zone: text,
    tsig: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'secret'],
      properties: { name: text, algorithm: { type: 'string', enum: ['hmac-sha256', 'hmac-sha512'] }, secret: { type: 'string', minLength: 1, expect: 'the base64 TSIG secret' } },
    },
    command: { type: ['string', 'array'], items: text, minItems: 1, minLength: 1, expect: 'a program path, or [program, args...]' },
    apiToken: { type: 'string', minLength: 1, expect: 'a Cloudflare API token (e.g. ${CF_API_TOKEN})' },
    zoneId: text,
    endpoint: text,
    resolver: dnsServer,
    nameservers: { type: 'array', minItems: 1, items: dnsServer, expect: 'a list of HOST or HOST:PORT' },
    propagationTimeout: duration,
    propagationInterval: duration,
    ttl: { type: 'integer', minimum: 1, maximum: 86400, expect: 'a TTL in seconds (1 to 86400)' },
  },
};

const acmeEmail = { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$', expect: 'an e-mail address' };
const acmeChallenges = { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: ['http-01', 'tls-alpn-01', 'dns-01'] } };
const acmeKey = { type: 'string', enum: ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-4096'] };
const acmeEab = { type: 'object', additionalProperties: false, required: ['kid', 'hmac'], properties: { kid: text, hmac: text } };

/** One CA of `acme.issuers`: the keys of `acme` that belong to a CA account (the same fragments). */
const acmeIssuer = {
  type: 'object',
  expect: '{ directory: URL|letsencrypt|letsencrypt-staging|zerossl, eab?, key?, challenges?, trust?, email?, profile? }',
  additionalProperties: false,
  required: ['directory'],
  properties: { directory: text, eab: acmeEab, key: acmeKey, challenges: acmeChallenges, trust: text, email: acmeEmail, profile: text },
};

const acme = {
  type: 'object',
  additionalProperties: false,
  properties: {
    email: acmeEmail,
    directory: text,
    issuers: { type: 'array', minItems: 1, items: acmeIssuer },
    trust: text,
    challenges: acmeChallenges,
    key: acmeKey,
    dns: acmeDns,
    renewBefore: duration,
    eab: acmeEab,
    profile: text,
    onDemand: { type: 'object', additionalProperties: false, required: ['ask'], properties: { ask: text } },
  },
};

const logTarget = { type: 'string', minLength: 1, expect: 'stdout, stderr, off or a file path' };

const cacheStore = {
  type: 'object',
  additionalProperties: false,
  properties: { memory: size, disk: text, diskSize: size, maxObject: size },
};

export const configSchema = {
  $defs: { route },
  type: 'object',
  expect: 'a map of settings (listen, sites, ...)',
  additionalProperties: false,
  required: ['sites'],
  properties: {
    listen: { type: 'object', additionalProperties: false, properties: { http: listenList, https: listenList } },
    admin: {
      type: ['integer', 'string', 'object'],
      expect: 'a port, "host:port", or { listen: ADDRESS, allow: [CIDRs] }',
      additionalProperties: false,
      required: ['listen'],
      properties: { listen: listenOne, allow: textList, hosts: textList },
    },
    // issue 18: `nginx` is what the nginx adapter writes: nginx's proxy defaults (README "What reaches the backend").
    defaults: { type: 'string', enum: ['gatehouse', 'nginx'] },
    drainTimeout: duration,
    storage: text,
    trustedProxies: textList,
    timeouts: clientTimeouts,
    maxBody: size,
    bodyBuffer: {
      type: 'object',
      additionalProperties: false,
      properties: { memory: size, tempDir: text, tempMax: size, tempTotal: size },
    },
    underscoresInHeaders: bool,
    // issue 18: nginx's types and default_type (handler/content-types.ts).
    mimeTypes: {
      type: 'object',
      additionalProperties: false,
      properties: {
        types: { type: 'object', additionalProperties: { ...textList, expect: 'extensions: a string or a list of strings' } },
        default: text,
      },
    },
    cache: cacheStore,
    log: {
      type: 'object',
      additionalProperties: false,
      properties: {
        access: logTarget,
        // issue 17: logs. combined, json or a name of formats (config/log-formats.ts checks which).
        format: { ...text, expect: 'combined, json or a name from log.formats' },
        formats: {
          type: 'object',
          additionalProperties: {
            type: ['string', 'object'],
            expect: "a template, or { format: TEMPLATE, escape: default|json|none }",
            minLength: 1,
            additionalProperties: false,
            required: ['format'],
            properties: { format: text, escape: { type: 'string', enum: ['default', 'json', 'none'] } },
          },
        },
        error: logTarget,
        level: { type: 'string', enum: ['error', 'warn', 'info', 'debug'] },
      },
    },
    acme,
    tls: { type: 'object', additionalProperties: false, properties: tlsPolicy },
    upstreams: { type: 'object', additionalProperties: upstream },
    // issue 17: rewrite
    maps: { type: 'object', expect: 'a map of $variable: { from, values, default }', additionalProperties: mapBlock },
    // Empty is a warning (normalize.ts), as nginx -t accepts an http block without servers; run refuses it.
    sites: { type: 'array', items: site },
  },
};

// The shapes the schema admits; semantic steps read values through these once `Ctx.clean` says so.

export type RawText = string | string[];
export interface RawHeaderOps { set?: Record<string, string | number>; remove?: RawText; add?: Record<string, RawAddHeader> }
// issue 17: error pages and response headers
export type RawAddHeader = string | number | { value: string | number; always?: boolean };
export type RawProxyRedirectRule = string | { from: string; to: string };
export interface RawResponseKeys {
  errorPages?: Record<string, string>;
  interceptErrors?: boolean;
  retryStatuses?: number[];
  expires?: string | number;
  proxyRedirect?: string | RawProxyRedirectRule[];
  proxyHideHeaders?: RawText;
  proxyPassHeaders?: RawText;
  charset?: string;
  charsetTypes?: RawText;
}
export interface RawHeaders { request?: RawHeaderOps; response?: RawHeaderOps }
export interface RawRateLimit { rate: string; burst?: number }
export interface RawTimeouts { header?: string | number; body?: string | number; send?: string | number; keepalive?: string | number }

// issue 17: rewrite
export interface RawRewriteObject {
  rewrite?: string;
  set?: Record<string, string | number>;
  return?: number | string;
  if?: string;
  then?: RawRewriteStep[];
  break?: true;
}
export type RawRewriteStep = string | RawRewriteObject;
export interface RawMap {
  from: string;
  default?: string | number;
  hostnames?: boolean;
  values?: Record<string, string | number>;
}

// issue 17: access
export interface RawAccess {
  access?: Array<{ allow?: string; deny?: string }>;
  auth?: 'off' | { realm?: string; htpasswd: string };
  satisfy?: 'all' | 'any';
  forwardAuth?: 'off' | { url: string; copyHeaders?: string[]; set?: Record<string, string>; timeout?: string | number };
}

export interface RawRoute extends RawAccess, RawResponseKeys {
  location: string;
  proxy?: string;
  root?: string;
  index?: RawText;
  tryFiles?: string[];
  symlinks?: 'inside' | 'follow' | 'refuse';
  return?: number | string;
  headers?: RawHeaders;
  cache?: string | number;
  maxBody?: string | number;
  rateLimit?: RawRateLimit;
  timeout?: string | number;
  requestBuffering?: boolean;
  upgrade?: 'off' | string[];
  tunnelIdle?: string | number;
  accessLog?: RawAccessLog;
  // issue 17: nest
  alias?: string;
  internal?: boolean;
  routes?: RawRoute[];
  // issue 17: rewrite
  rewrite?: RawRewriteStep[];
  params?: Record<string, RawCgiParam>;
  splitPathInfo?: boolean | string;
}

export type RawCgiParam = string | number | { value: string | number; ifNotEmpty?: boolean };
export type RawAccessLog = string | { file?: string; format?: string };
export type RawLogFormat = string | { format: string; escape?: 'default' | 'json' | 'none' };

export interface RawSite extends RawAccess, RawResponseKeys {
  hosts: RawText;
  listen?: number | number[];
  default?: boolean | number[];
  tls?: 'acme' | 'internal' | 'off' | RawSiteTls;
  redirect?: 'https' | 'off';
  hsts?: string | number;
  compress?: 'off' | Array<'br' | 'gzip' | 'zstd'>;
  headers?: RawHeaders;
  rateLimit?: RawRateLimit;
  maxBody?: string | number;
  timeouts?: RawTimeouts;
  underscoresInHeaders?: boolean;
  compressAuthenticated?: boolean;
  compressRules?: { types?: RawText; minLength?: string | number; vary?: boolean; proxied?: boolean };
  rewrite?: RawRewriteStep[];
  accessLog?: RawAccessLog;
  routes?: RawRoute[];
  // issue 17: nest
  root?: string;
  index?: RawText;
  params?: Record<string, RawCgiParam>;
}

/** issue 19: a site's `tls` as an object: where the certificate comes from, and the handshake settings. */
export interface RawSiteTls extends RawTlsPolicy {
  issuer?: 'acme' | 'internal';
  cert?: string;
  key?: string;
  clientAuth?: RawClientAuth;
}

/** issue 19: mTLS, as nginx's ssl_verify_client on|optional|optional_no_ca. */
export interface RawClientAuth {
  ca?: string;
  mode?: 'require' | 'optional' | 'optional_no_ca';
  depth?: number;
}

/** issue 19: protocols, TLS 1.2 ciphers and key-exchange groups; top-level `tls:` and a site's `tls`. */
export interface RawTlsPolicy {
  protocols?: RawTlsProtocol[];
  ciphers?: string[];
  curves?: string[];
  preferServerCiphers?: boolean;
}

export type RawTlsProtocol = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export type RawServer = string | { url: string; weight?: number; backup?: boolean };

export interface RawUpstream {
  servers: RawServer | RawServer[];
  balance?: 'round-robin' | 'least-conn' | 'ip-hash' | 'random-two';
  maxFails?: number;
  failTimeout?: string | number;
  health?: { path?: string; interval?: string | number; timeout?: string | number; status?: number };
  retries?: number;
  timeouts?: { connect?: string | number; read?: string | number; send?: string | number };
  keepalive?: number;
  tls?: { ca?: string; servername?: string; insecure?: boolean; cert?: string; key?: string; protocols?: RawTlsProtocol[] };
}

export interface RawAcmeDns {
  provider: 'rfc2136' | 'exec' | 'cloudflare';
  server?: string;
  zone?: string;
  tsig?: { name: string; algorithm?: 'hmac-sha256' | 'hmac-sha512'; secret: string };
  command?: string | string[];
  apiToken?: string;
  zoneId?: string;
  endpoint?: string;
  resolver?: string;
  nameservers?: string[];
  propagationTimeout?: string | number;
  propagationInterval?: string | number;
  ttl?: number;
}

/** One entry of `acme.issuers`; what it leaves out comes from the top-level `acme` keys. */
export interface RawAcmeIssuer {
  directory: string;
  eab?: { kid: string; hmac: string };
  key?: RawAcme['key'];
  challenges?: RawAcme['challenges'];
  trust?: string;
  email?: string;
  profile?: string;
}

export interface RawAcme {
  email?: string;
  directory?: string;
  issuers?: RawAcmeIssuer[];
  trust?: string;
  challenges?: Array<'http-01' | 'tls-alpn-01' | 'dns-01'>;
  key?: 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048' | 'rsa-4096';
  dns?: RawAcmeDns;
  renewBefore?: string | number;
  eab?: { kid: string; hmac: string };
  profile?: string;
  onDemand?: { ask: string };
}

export interface RawCacheStore {
  memory?: string | number;
  disk?: string;
  diskSize?: string | number;
  maxObject?: string | number;
}

export interface RawConfig {
  defaults?: 'gatehouse' | 'nginx';
  listen?: { http?: RawListen; https?: RawListen };
  admin?: string | number | { listen: string | number; allow?: RawText; hosts?: RawText };
  drainTimeout?: string | number;
  storage?: string;
  trustedProxies?: RawText;
  timeouts?: RawTimeouts;
  maxBody?: string | number;
  bodyBuffer?: { memory?: string | number; tempDir?: string; tempMax?: string | number; tempTotal?: string | number };
  underscoresInHeaders?: boolean;
  mimeTypes?: { types?: Record<string, RawText>; default?: string };
  cache?: RawCacheStore;
  log?: { access?: string; format?: string; formats?: Record<string, RawLogFormat>; error?: string; level?: 'error' | 'warn' | 'info' | 'debug' };
  acme?: RawAcme;
  tls?: RawTlsPolicy;
  upstreams?: Record<string, RawUpstream>;
  maps?: Record<string, RawMap>;
  sites: RawSite[];
}

/** issue 19: `{ address, proxyProtocol, trusted }` (README "Behind a load balancer"). */
export interface RawListenObject {
  address: string | number;
  proxyProtocol?: boolean;
  trusted?: RawText;
}
export type RawListenEntry = string | number | RawListenObject;
export type RawListen = RawListenEntry | RawListenEntry[];
