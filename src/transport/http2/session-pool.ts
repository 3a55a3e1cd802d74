// The HTTP/2 sessions to one upstream server: one multiplexed session normally, another when every
// open one is at the server's SETTINGS_MAX_CONCURRENT_STREAMS, never one that received GOAWAY.
//
// Built on Node's http2.connect rather than http2-wrapper's Agent, which does not fit a proxy's
// upstreams (checked against 2.2.4): it keeps handing out sessions that received GOAWAY
// (szmarczak/http2-wrapper#89, still open); it keys sessions by the certificate's origin set, so an
// h2c session is never reused (its origin set is computed as `https://undefined:PORT`), a
// `tls.servername` other than the address is refused ("Origin differs from servername"), and
// `tls.insecure` against a certificate for another name fails ("Requested origin does not match
// server"); and it stringifies every connect option (a CA bundle too) on each request.
import http2, { type ClientHttp2Session } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { internalError } from '../internal-error.js';
import type { ClientTlsFiles } from '../client-tls.js';
import { UpstreamError } from '../types.js';
import { systemSocketError } from '../socket-errors.js';

export interface H2ConnectOptions {
  host: string;
  port: number;
  /** TLS with ALPN h2 (`h2://`); otherwise cleartext with prior knowledge (`h2c://`). */
  secure: boolean;
  /** issue 19: trust, client certificate and protocol versions (transport/client-tls.ts). */
  tlsFiles?: ClientTlsFiles;
  servername?: string;
  insecure: boolean;
  connectTimeoutMs: number;
  /** An idle session (no open stream) is closed after this long. */
  idleTimeoutMs: number;
  /** Sessions opened at most at once to this server; further requests wait for a free stream. */
  maxSessions: number;
}

export interface SessionLease {
  readonly session: ClientHttp2Session;
  /** Marks the session as not to be used for new streams (it refused one, or is closing). */
  retire(): void;
  /** GOAWAY's last stream id, once the server sent one: streams above it were not processed (RFC 9113 §6.8). */
  readonly goawayLastStreamId: number | undefined;
}

export interface Waiter {
  resolve(lease: SessionLease): void;
  reject(err: Error): void;
  /** Set by the caller when it no longer wants a session (client went away). */
  cancelled?: boolean;
}

interface Entry extends SessionLease {
  session: ClientHttp2Session;
  socket: net.Socket;
  disposed: Promise<void>;
  markDisposed(): void;
  ready: boolean;
  retired: boolean;
  active: number;
  maxStreams: number;
  goawayLastStreamId: number | undefined;
}

const SETTINGS: http2.Settings = { enablePush: false, initialWindowSize: 1 << 20 };
// nodejs/node#38426: the default 64 KiB connection window throttles every stream of a session.
const CONNECTION_WINDOW = 8 << 20;

export class H2SessionPool {
  private readonly entries: Entry[] = [];
  private readonly waiting: Waiter[] = [];
  private connecting = 0;
  private closed = false;

  constructor(private readonly opts: H2ConnectOptions) {}

  acquire(waiter: Waiter): void {
    if (this.closed) {
      waiter.reject(new UpstreamError('EUNAVAILABLE', 'upstream transport closed'));
      return;
    }
    const entry = this.free();
    if (entry) {
      this.lend(entry, waiter);
      return;
    }
    this.waiting.push(waiter);
    this.grow();
  }

  private free(): Entry | undefined {
    for (const e of this.entries) {
      if (e.ready && !e.retired && e.active < e.maxStreams && !e.session.closed && !e.session.destroyed) return e;
    }
    return undefined;
  }

  /** The caller opens its stream synchronously in resolve() and hands it to track(). */
  private lend(entry: Entry, waiter: Waiter): void {
    waiter.resolve(entry);
  }

  /** Called by the transport for each stream it opened on a lease, when the stream closed. */
  track(lease: SessionLease, stream: http2.ClientHttp2Stream): void {
    const entry = lease as Entry;
    entry.active++;
    stream.once('close', () => {
      entry.active--;
      if (entry.retired && entry.active === 0) this.dispose(entry);
      this.drain();
    });
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      const waiter = this.waiting[0] as Waiter;
      if (waiter.cancelled) {
        this.waiting.shift();
        continue;
      }
      const entry = this.free();
      if (!entry) break;
      this.waiting.shift();
      this.lend(entry, waiter);
    }
    if (this.waiting.length > 0) this.grow();
  }

  /** Opens a session when requests wait and none is on its way (one at a time, up to maxSessions). */
  private grow(): void {
    if (this.connecting > 0 || this.closed) return;
    let live = 0;
    for (const e of this.entries) if (!e.retired) live++;
    if (live >= this.opts.maxSessions) return;
    this.connecting++;
    this.connect().then(
      (entry) => {
        this.connecting--;
        if (this.closed) {
          entry.session.destroy();
          return;
        }
        this.entries.push(entry);
        this.drain();
      },
      (err: Error) => {
        this.connecting--;
        // Waiting requests fail only when no live session will free a stream for them.
        if (!this.entries.some((e) => !e.retired && !e.session.closed && !e.session.destroyed)) {
          for (const w of this.waiting.splice(0)) if (!w.cancelled) w.reject(err);
        } else {
          this.drain();
        }
      },
    );
  }

  private connect(): Promise<Entry> {
    const o = this.opts;
    return new Promise<Entry>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
        session.destroy();
      };
      const timer = setTimeout(
        () => fail(new UpstreamError('ECONNECTTIMEOUT', `upstream connect timed out after ${o.connectTimeoutMs} ms`)),
        o.connectTimeoutMs,
      );
      const host = o.host.startsWith('[') ? o.host.slice(1, -1) : o.host;
      const socket = o.secure
        ? tls.connect({
            host,
            port: o.port,
            ALPNProtocols: ['h2'],
            rejectUnauthorized: !o.insecure,
            // RFC 6066 §3: no IP addresses in SNI; the certificate is still checked against the IP.
            ...(o.servername ? { servername: o.servername } : net.isIP(host) ? {} : { servername: host }),
            ...o.tlsFiles,
          })
        : net.connect({ host, port: o.port });
      socket.setNoDelay(true);
      if (o.secure) {
        socket.once('secureConnect', () => {
          const alpn = (socket as tls.TLSSocket).alpnProtocol;
          if (alpn !== 'h2') fail(new UpstreamError('EPROTO', `upstream did not negotiate h2 (ALPN: ${alpn || 'none'})`));
        });
      }
      socket.once('error', (err) => fail(mapConnectError(err)));
      const authority = `${o.secure ? 'https' : 'http'}://${o.host}:${o.port}`;
      // A backend's response fields are limited by size, not by Node's default count of 128 (see listener/protocol-servers.ts).
      const session = http2.connect(authority, { settings: SETTINGS, maxHeaderListPairs: 2000, createConnection: () => socket });
      let markDisposed = (): void => undefined;
      const entry: Entry = {
        session,
        socket,
        disposed: new Promise<void>((r) => (markDisposed = r)),
        markDisposed: () => markDisposed(),
        ready: false,
        retired: false,
        active: 0,
        maxStreams: 100,
        goawayLastStreamId: undefined,
        retire: () => {
          entry.retired = true;
          if (entry.active === 0) this.dispose(entry);
        },
      };
      session.on('error', (err) => fail(mapConnectError(err)));
      session.once('close', () => {
        fail(new UpstreamError('ECONNECT', 'upstream closed the connection before HTTP/2 settings'));
        entry.retired = true;
        this.dispose(entry);
      });
      session.on('remoteSettings', (settings) => {
        entry.maxStreams = settings.maxConcurrentStreams ?? 0xffffffff;
        if (settled) {
          this.drain();
          return;
        }
        settled = true;
        clearTimeout(timer);
        entry.ready = true;
        session.setLocalWindowSize(CONNECTION_WINDOW);
        resolve(entry);
      });
      // RFC 9113 §6.8: no new streams after GOAWAY; streams above lastStreamID may be retried.
      session.on('goaway', (_code: number, lastStreamID: number) => {
        entry.goawayLastStreamId = lastStreamID;
        entry.retire();
        this.drain();
      });
      session.setTimeout(o.idleTimeoutMs, () => {
        if (entry.active === 0) entry.retire();
      });
    });
  }

  /**
   * Ends a session that has no open stream. Not close(): after GOAWAY Node half-closes the socket
   * and waits for the server to close its side, which a server need not do (Node's own does not),
   * so the session and its socket would linger; the socket is destroyed shortly after.
   */
  private dispose(entry: Entry): void {
    const i = this.entries.indexOf(entry);
    if (i !== -1) this.entries.splice(i, 1);
    if (!entry.session.destroyed) entry.session.destroy();
    if (!entry.socket.destroyed) setTimeout(() => entry.socket.destroy(), 1000).unref();
    entry.markDisposed();
    if (!this.closed) this.drain();
  }

  /** Stops new requests; open streams finish, then each session ends. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) if (!w.cancelled) w.reject(new UpstreamError('EUNAVAILABLE', 'upstream transport closed'));
    const all = this.entries.map((e) => e.disposed);
    for (const e of [...this.entries]) e.retire();
    await Promise.all(all);
  }
}

export function mapConnectError(err: Error): Error {
  if (err instanceof UpstreamError) return err;
  const internal = internalError(err);
  if (internal) return internal;
  const code = (err as { code?: string }).code ?? '';
  const system = systemSocketError(err, code);
  if (system) return system;
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /certificate|self.signed|issuer/i.test(`${code} ${err.message}`)) {
    return new UpstreamError('EPROTO', `upstream TLS failed: ${err.message}`, { cause: err });
  }
  return new UpstreamError('EPROTO', `upstream HTTP/2 session failed: ${err.message}`, { cause: err });
}
