// Where requests go: the *_pass directives as gatehouse `proxy:` values, the `upstream` blocks they
// name (whose server scheme only the using directive tells: `proxy_pass http://app` vs
// `fastcgi_pass app`), and the zones that limit_req and proxy_cache refer to.
import type { RawRateLimit, RawRoute, RawTlsProtocol, RawUpstream } from '../../schema.js';
import type { SourcePos } from '../../types.js';
import type { NginxArg, NginxDirective } from '../ast.js';
import { AdaptCtx, Refused } from './context.js';
import { durationText, nginxMs } from './values.js';

/** `*_connect_timeout` / `*_send_timeout`: settings of the upstream a location proxies to. */
export const UPSTREAM_TIMERS: ReadonlySet<string> = new Set(
  ['proxy', 'fastcgi', 'uwsgi', 'scgi', 'grpc'].flatMap((f) => [`${f}_connect_timeout`, `${f}_send_timeout`]),
);

/** Outside a location there is no upstream to give them to. */
export function upstreamTimerOutsideLocation(ctx: AdaptCtx, d: NginxDirective, level: string): void {
  ctx.warn(d.pos, `"${d.name}" ${level} has no effect: write it in the locations that proxy to a named upstream (gatehouse's default: connect 5s, send 60s)`);
}

interface UpstreamBlock {
  d: NginxDirective;
  raw: Omit<RawUpstream, 'servers'>;
  /** `host:port` or `unix:/path`, with their options; `pos` is the address's. */
  servers: Array<{ address: string; weight?: number; backup?: boolean; pos: SourcePos }>;
  scheme?: string;
  schemePos?: SourcePos;
}

interface Pending {
  d: NginxDirective;
  route: RawRoute;
}

export class AdaptState {
  readonly upstreams = new Map<string, UpstreamBlock>();
  readonly limitZones = new Map<string, { rate: string; pos: SourcePos }>();
  readonly cacheZones = new Set<string>();
  private readonly pending: Pending[] = [];

  constructor(readonly ctx: AdaptCtx) {}

  ms(arg: NginxArg, what: string): number {
    return nginxMs(this.ctx, arg.text, arg.pos, what);
  }

  /** `limit_req zone=NAME [burst=N] [nodelay | delay=N]`. */
  limitReq(d: NginxDirective): RawRateLimit {
    const a = this.ctx.args(d, 1, 3);
    let zone: string | undefined;
    let burst: number | undefined;
    let nodelay = false;
    for (const w of a) {
      const [k, v] = w.text.split('=', 2) as [string, string | undefined];
      if (k === 'zone' && v) zone = v;
      else if (k === 'burst' && v && /^\d+$/.test(v)) burst = Number(v);
      else if (k === 'nodelay' && v === undefined) nodelay = true;
      else if (k === 'delay' && v) nodelay = false;
      else {
        this.ctx.error(w.pos, `invalid parameter "${w.text}"`);
        throw new Refused();
      }
    }
    const z = zone !== undefined ? this.limitZones.get(zone) : undefined;
    if (!z) {
      this.ctx.error(d.pos, zone === undefined ? 'limit_req needs zone=NAME' : `unknown limit_req_zone "${zone}"`);
      throw new Refused();
    }
    if (!nodelay) this.ctx.warn(d.pos, 'limit_req without nodelay: nginx delays requests over the rate up to the burst; gatehouse answers them at once and refuses (429) only past the burst');
    return burst !== undefined ? { rate: z.rate, burst } : { rate: z.rate };
  }

  /** `limit_req_zone KEY zone=NAME:SIZE rate=R`. */
  limitReqZone(d: NginxDirective): void {
    const a = this.ctx.args(d, 3, 4);
    const key = a[0]!.text;
    if (key !== '$binary_remote_addr' && key !== '$remote_addr') {
      this.ctx.error(a[0]!.pos, `limit_req_zone keyed by "${key}" is not supported: gatehouse limits per client address ($binary_remote_addr)`);
      throw new Refused();
    }
    let name: string | undefined;
    let rate: string | undefined;
    for (const w of a.slice(1)) {
      if (w.text.startsWith('zone=')) name = w.text.slice(5).split(':')[0];
      else if (w.text.startsWith('rate=')) rate = w.text.slice(5);
      else if (w.text !== 'sync') {
        this.ctx.error(w.pos, `invalid parameter "${w.text}"`);
        throw new Refused();
      }
    }
    if (!name || !rate || !/^\d+r\/[sm]$/.test(rate)) {
      this.ctx.error(d.pos, 'limit_req_zone needs zone=NAME:SIZE and rate=Nr/s (or Nr/m)');
      throw new Refused();
    }
    this.limitZones.set(name, { rate, pos: d.pos });
  }

  cachePath(d: NginxDirective): void {
    const a = this.ctx.args(d, 2, 16);
    const zone = a.find((w) => w.text.startsWith('keys_zone='));
    if (!zone) {
      this.ctx.error(d.pos, `"${d.name}" must have "keys_zone" parameter`);
      throw new Refused();
    }
    this.cacheZones.add(zone.text.slice('keys_zone='.length).split(':')[0]!);
  }

  upstreamTimeout(d: NginxDirective, route: RawRoute): void {
    this.ctx.args(d, 1);
    this.pending.push({ d, route });
  }

  upstreamTls(d: NginxDirective, route: RawRoute): void {
    const protocols = d.name.endsWith('_ssl_protocols');
    const [first] = this.ctx.args(d, 1, protocols ? 8 : 1);
    // nginx 1.21+ allows variables in the client certificate's path (one file per request); gatehouse reads one pair.
    if (!protocols && first!.text.includes('$')) {
      this.ctx.error(first!.pos, `"${d.name}" with variables is not supported: name one file`);
      throw new Refused();
    }
    this.pending.push({ d, route });
  }

  /** `upstream NAME { server ...; least_conn; ... }`, read before the locations that use it. */
  upstream(d: NginxDirective): void {
    const [nameArg] = this.ctx.args(d, 1);
    const name = nameArg!.text;
    if (this.upstreams.has(name)) {
      this.ctx.error(d.pos, `duplicate upstream "${name}"`);
      throw new Refused();
    }
    const block: UpstreamBlock = { d, raw: {}, servers: [] };
    let failSeen: { maxFails?: number; failTimeout?: string } | undefined;
    for (const x of d.block ?? []) {
      try {
        switch (x.name) {
          case 'server': {
            const server = this.upstreamServer(x);
            if (server.fails) {
              if (failSeen && (failSeen.maxFails !== server.fails.maxFails || failSeen.failTimeout !== server.fails.failTimeout)) {
                this.ctx.warn(x.pos, 'max_fails/fail_timeout differ between servers: gatehouse applies the first server\'s to the whole upstream');
              } else failSeen ??= server.fails;
            }
            if (server.entry) block.servers.push(server.entry);
            break;
          }
          case 'least_conn':
            this.ctx.args(x, 0);
            block.raw.balance = 'least-conn';
            break;
          case 'ip_hash':
            this.ctx.args(x, 0);
            block.raw.balance = 'ip-hash';
            break;
          case 'hash': {
            const a = this.ctx.args(x, 1, 2);
            if (a[0]!.text !== '$remote_addr' && a[0]!.text !== '$binary_remote_addr') {
              this.ctx.warn(x.pos, `hash "${a[0]!.text}": gatehouse has no hash on other keys; it balances by client address (ip-hash), which keeps a client on one server but not a URL`);
            }
            block.raw.balance = 'ip-hash';
            break;
          }
          case 'random':
            this.ctx.args(x, 0, 2);
            block.raw.balance = 'random-two';
            break;
          case 'keepalive': {
            const [n] = this.ctx.args(x, 1);
            block.raw.keepalive = Number(n!.text);
            break;
          }
          case 'keepalive_timeout':
          case 'keepalive_requests':
          case 'keepalive_time':
          case 'zone':
            break;
          default:
            this.ctx.other(x, `upstream ${name}`);
        }
      } catch (err) {
        if (!(err instanceof Refused)) throw err;
      }
    }
    if (failSeen?.maxFails !== undefined) block.raw.maxFails = failSeen.maxFails;
    if (failSeen?.failTimeout !== undefined) block.raw.failTimeout = failSeen.failTimeout;
    if (block.servers.length === 0) this.ctx.error(d.pos, `no servers are inside upstream "${name}"`);
    this.upstreams.set(name, block);
  }

  private upstreamServer(x: NginxDirective): { entry?: UpstreamBlock['servers'][number]; fails?: { maxFails?: number; failTimeout?: string } } {
    const a = this.ctx.args(x, 1, 12);
    const address = a[0]!.text.replace(/^unix:\/\/\//, 'unix:/');
    const entry: UpstreamBlock['servers'][number] = { address, pos: a[0]!.pos };
    const fails: { maxFails?: number; failTimeout?: string } = {};
    let down = false;
    for (const w of a.slice(1)) {
      const [k, v] = w.text.split('=', 2) as [string, string | undefined];
      if (k === 'weight' && v && /^\d+$/.test(v)) entry.weight = Number(v);
      else if (k === 'max_fails' && v && /^\d+$/.test(v)) fails.maxFails = Number(v);
      else if (k === 'fail_timeout' && v) fails.failTimeout = durationText(nginxMs(this.ctx, v, w.pos, 'fail_timeout'));
      else if (k === 'backup' && v === undefined) entry.backup = true;
      else if (k === 'down' && v === undefined) down = true;
      else if (k === 'max_conns' || k === 'slow_start' || k === 'resolve' || k === 'route' || k === 'service') this.ctx.warn(w.pos, `server parameter "${k}" has no effect in gatehouse`);
      else {
        this.ctx.error(w.pos, `invalid parameter "${w.text}"`);
        throw new Refused();
      }
    }
    if (down) this.ctx.warn(x.pos, `server ${address} is marked down: it is left out`);
    const out: { entry?: UpstreamBlock['servers'][number]; fails?: { maxFails?: number; failTimeout?: string } } = {};
    if (!down) out.entry = entry;
    if (fails.maxFails !== undefined || fails.failTimeout !== undefined) out.fails = fails;
    return out;
  }

  /** Records the protocol a *_pass speaks to upstream `name`; one per upstream. */
  use(name: string, scheme: string, pos: SourcePos): void {
    const block = this.upstreams.get(name)!;
    if (block.scheme !== undefined && block.scheme !== scheme) {
      this.ctx.error(pos, `upstream "${name}" is used as ${block.scheme} at ${block.schemePos!.line}:${block.schemePos!.col} and as ${scheme} here; gatehouse needs one protocol per upstream: copy the upstream under a second name`);
      return;
    }
    block.scheme = scheme;
    block.schemePos = pos;
  }

  /** The raw `upstreams:` of every block, with the scheme its use gave it; then the per-route settings that belong to it. */
  finish(): Record<string, RawUpstream> {
    const out: Record<string, RawUpstream> = {};
    for (const [name, block] of this.upstreams) {
      if (block.servers.length === 0) continue;
      const scheme = block.scheme ?? 'http';
      const servers = block.servers.map((s, i) => {
        // The native pipeline's error about this server (a relative socket path, a bad port) points at its address.
        this.ctx.from(['upstreams', name, 'servers', i], s.pos);
        const url = s.address.startsWith('unix:') ? `${scheme}+unix:${s.address.slice(5)}` : `${scheme}://${s.address}`;
        if (s.weight === undefined && !s.backup) return url;
        return { url, ...(s.weight !== undefined ? { weight: s.weight } : {}), ...(s.backup ? { backup: true } : {}) };
      });
      // proxy_next_upstream_tries 0 (nginx's default): every server may be tried, backups included.
      out[name] = { servers, ...(servers.length > 1 ? { retries: servers.length - 1 } : {}), ...block.raw };
      this.ctx.from(['upstreams', name], block.d.pos);
    }
    for (const { d, route } of this.pending) {
      const name = upstreamOf(route.proxy, this.upstreams);
      const up = name !== undefined ? out[name] : undefined;
      if (!up) {
        this.ctx.warn(d.pos, `"${d.name}" applies only where the location proxies to a named upstream; gatehouse's default is used (connect 5s, send 60s, certificates verified against the system CAs, no client certificate)`);
        continue;
      }
      const value = d.args[0]!.text;
      if (d.name.endsWith('_connect_timeout')) up.timeouts = { ...up.timeouts, connect: durationText(nginxMs(this.ctx, value, d.args[0]!.pos, d.name)) };
      else if (d.name.endsWith('_send_timeout')) up.timeouts = { ...up.timeouts, send: durationText(nginxMs(this.ctx, value, d.args[0]!.pos, d.name)) };
      else if (d.name.endsWith('_ssl_trusted_certificate')) up.tls = { ...up.tls, ca: value };
      else if (d.name.endsWith('_ssl_name')) up.tls = { ...up.tls, servername: value };
      else if (d.name.endsWith('_ssl_certificate')) up.tls = { ...up.tls, cert: value };
      else if (d.name.endsWith('_ssl_certificate_key')) up.tls = { ...up.tls, key: value };
      else if (d.name.endsWith('_ssl_protocols')) this.upstreamProtocols(d, name!, up);
    }
    return out;
  }

  /** proxy_ssl_protocols: TLSv1.2 and TLSv1.3 are kept (tls.protocols), older ones dropped with a warning. */
  private upstreamProtocols(d: NginxDirective, name: string, up: RawUpstream): void {
    const asked = d.args.map((a) => a.text);
    const kept = asked.filter((p) => p === 'TLSv1.2' || p === 'TLSv1.3') as RawTlsProtocol[];
    const dropped = asked.filter((p) => p !== 'TLSv1.2' && p !== 'TLSv1.3');
    if (dropped.length > 0) this.ctx.warn(d.pos, `${d.name} ${dropped.join(' ')}: gatehouse speaks TLSv1.2 and TLSv1.3 only to upstreams`);
    if (kept.length === 0) return;
    up.tls = { ...up.tls, protocols: kept };
    this.ctx.from(['upstreams', name, 'tls', 'protocols'], d.pos);
  }
}

function upstreamOf(proxy: string | undefined, upstreams: Map<string, UpstreamBlock>): string | undefined {
  if (proxy === undefined) return undefined;
  if (upstreams.has(proxy)) return proxy;
  const m = /^[a-z0-9]+:\/\/([^/:]+)/.exec(proxy);
  return m && upstreams.has(m[1]!) ? m[1] : undefined;
}

/** A *_pass directive as a `proxy:` value, and proxy_pass's URI part (undefined when it has none). */
export function passTarget(ctx: AdaptCtx, state: AdaptState, d: NginxDirective): { proxy: string; uri?: string } {
  const [arg] = ctx.args(d, 1);
  const text = arg!.text;
  if (text.includes('$')) {
    ctx.error(arg!.pos, `"${d.name}" with variables is not supported: name the backend's address or an upstream`);
    throw new Refused();
  }
  if (d.name === 'proxy_pass') return proxyPass(ctx, state, arg!);
  const family = d.name.slice(0, d.name.indexOf('_'));
  let rest = text;
  let scheme = family;
  if (family === 'grpc') {
    scheme = 'h2c';
    if (rest.startsWith('grpcs://')) {
      scheme = 'h2';
      rest = rest.slice(8);
    } else if (rest.startsWith('grpc://')) rest = rest.slice(7);
  } else if (rest.startsWith(`${family}://`)) rest = rest.slice(family.length + 3);
  else if (/^s?uwsgi:\/\/|^suwsgi/.test(rest)) {
    ctx.error(arg!.pos, 'uwsgi over TLS (suwsgi) is not supported');
    throw new Refused();
  }
  if (state.upstreams.has(rest)) {
    state.use(rest, scheme, d.pos);
    return { proxy: rest };
  }
  if (rest.startsWith('unix:')) return { proxy: `${scheme}+unix:${rest.slice(5).replace(/^\/\/(?=\/)/, '')}` };
  return { proxy: `${scheme}://${rest}` };
}

function proxyPass(ctx: AdaptCtx, state: AdaptState, arg: NginxArg): { proxy: string; uri?: string } {
  const m = /^(https?):\/\/(.*)$/i.exec(arg.text);
  if (!m) {
    ctx.error(arg.pos, `invalid URL prefix in "${arg.text}"`);
    throw new Refused();
  }
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (rest.startsWith('unix:')) {
    // ngx_parse_unix_domain_url: the socket path ends at the first ":" after "unix:", the URI follows it.
    const colon = rest.indexOf(':', 5);
    const socket = colon === -1 ? rest.slice(5) : rest.slice(5, colon);
    const uri = colon === -1 ? undefined : rest.slice(colon + 1);
    return uri === undefined ? { proxy: `${scheme}+unix:${socket}` } : { proxy: `${scheme}+unix:${socket}:${uri}`, uri };
  }
  const slash = rest.indexOf('/');
  const host = slash === -1 ? rest : rest.slice(0, slash);
  const uri = slash === -1 ? undefined : rest.slice(slash);
  if (state.upstreams.has(host)) {
    state.use(host, scheme, arg.pos);
    return uri === undefined ? { proxy: scheme === 'http' ? host : `${scheme}://${host}` } : { proxy: `${scheme}://${host}${uri}`, uri };
  }
  return uri === undefined ? { proxy: `${scheme}://${host}` } : { proxy: `${scheme}://${host}${uri}`, uri };
}
