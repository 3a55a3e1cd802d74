// The HTTP/1.x and HTTP/2 servers that sit behind a listener. They never listen on a port
// themselves: listeners hand them sockets (TLS or plain) with `emit('connection', socket)`, so one
// TLS server can choose by ALPN and the HTTP/2 side uses the core stream API only.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { ClientAuthConfig, ClientTimeouts, Config } from '../config/types.js';
import type { Snapshot } from '../server/types.js';
import { ConnectionGuard, guardOf, tagGuard } from './connection-guard.js';
import { closeSession } from './h2-session-close.js';
import { lingeringError } from './lingering-error.js';
import { logRefused } from './refused-log.js';
import { connectionInfo } from './connection-info.js';
import { H2Exchange } from './h2-exchange.js';
import { H1Exchange } from './h1-exchange.js';
import { type ConnectionInfo, type Exchange } from '../http/exchange.js';
import { H2WebSocketExchange, isWebSocketConnect } from './h2-websocket.js';
import { trackConnection } from '../observe/metrics.js';

export interface ProtocolHandlers {
  current(): Snapshot;
  /** Handles one exchange; `secure` tells the listener kind. */
  onExchange(snap: Snapshot, ex: Exchange): void;
  onUpgrade(snap: Snapshot, req: IncomingMessage, socket: Duplex, head: Buffer, conn: ConnectionInfo): void;
}

const CONN_INFO = Symbol('gatehouse.conn');
/** The port of the listener that accepted a socket (see accept()). */
const LISTENER_PORT = Symbol('gatehouse.listenerPort');

type TaggedSocket = Socket & { [CONN_INFO]?: ConnectionInfo; [LISTENER_PORT]?: number };

function infoFor(socket: Socket, secure: boolean): ConnectionInfo {
  const tagged = socket as TaggedSocket;
  let info = tagged[CONN_INFO];
  if (!info) {
    info = connectionInfo(socket, secure, tagged[LISTENER_PORT]);
    tagged[CONN_INFO] = info;
  }
  return info;
}

const noop = (): void => undefined;

/** nginx's large_client_header_buffers is 4 x 8k: past this a request gets 431, over HTTP/1.1 and HTTP/2. */
const MAX_HEADER_BYTES = 32 * 1024;
/**
 * Advertised as SETTINGS_MAX_HEADER_LIST_SIZE. Past it Node's HTTP/2 layer refuses the stream
 * (RST_STREAM REFUSED_STREAM, no response) and closes the session, so the 431 is given below it:
 * between the two limits the client gets a 431 and the connection keeps serving.
 */
const MAX_HEADER_LIST_BYTES = 2 * MAX_HEADER_BYTES;
const MAX_HEADER_FIELDS = 2000;

/** A header list's size as SETTINGS_MAX_HEADER_LIST_SIZE counts it: name + value + 32 per field (RFC 9113 §6.5.2). */
function headerListSize(headers: http2.IncomingHttpHeaders): number {
  let size = 0;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === 'string') size += name.length + value.length + 32;
    else if (Array.isArray(value)) for (const v of value) size += name.length + v.length + 32;
    else size += name.length + String(value).length + 32;
  }
  return size;
}

/**
 * How often Node's HTTP/1.1 servers look for request heads over client_header_timeout (its default,
 * 30 s, would let a 60 s timeout run to 90 s). It walks only connections in the middle of a head.
 */
const HEADER_CHECK_MS = 1_000;
/** The timers an HTTP/1.x server holds for all its connections. */
const clientAuthSeen = new WeakMap<Config, boolean>();

/** Whether any site asks for client certificates, once per config. */
function hasClientAuth(config: Config): boolean {
  let has = clientAuthSeen.get(config);
  if (has === undefined) clientAuthSeen.set(config, (has = config.sites.some((s) => s.tls.clientAuth !== undefined)));
  return has;
}

function h1Profile(timeouts: ClientTimeouts): string {
  return `${timeouts.headerMs}/${timeouts.keepaliveMs}`;
}

/** The timer profiles a config uses, computed once per config (a server idles out per connection). */
const profiles = new WeakMap<Config, ReadonlySet<string>>();
function profilesOf(config: Config): ReadonlySet<string> {
  let set = profiles.get(config);
  if (set === undefined) {
    set = new Set([h1Profile(config.timeouts), ...config.sites.map((site) => h1Profile(site.timeouts))]);
    profiles.set(config, set);
  }
  return set;
}

export class ProtocolServers {
  /**
   * HTTP/1.x servers by client timers (header and keep-alive timeouts are server-wide in Node): a
   * connection goes to the one for its site's timers, usually the only one. A server whose timers
   * no configuration uses any more is closed (its header check stops) once its last socket is gone.
   */
  private readonly h1s = new Map<string, { server: http.Server; sockets: number }>();
  readonly h2: http2.Http2Server | undefined;
  private readonly sessions = new Set<Http2Session>();
  private draining = false;

  constructor(
    private readonly handlers: ProtocolHandlers,
    readonly secure: boolean,
  ) {
    if (secure) {
      this.h2 = http2.createServer({
        maxSessionMemory: 32,
        // Fields are limited by size (above), as nginx does, not by count: Node's default of 128 pairs
        // refuses a browser that sends each cookie as its own field (RFC 9113 §8.2.3). 2000 is
        // Node's HTTP/1.1 maxHeadersCount.
        maxHeaderListPairs: MAX_HEADER_FIELDS,
        // enableConnectProtocol: WebSockets over HTTP/2 (RFC 8441 §3). The stream window is
        // nghttp2's default, 64 KiB (nginx's http2_body_preread_size): what a client may push per
        // stream before anything reads it, so 256 streams of unread bodies hold 16 MiB, not 256.
        settings: {
          maxConcurrentStreams: 256,
          initialWindowSize: 65_535,
          enableConnectProtocol: true,
          maxHeaderListSize: MAX_HEADER_LIST_BYTES,
        },
      });
      this.h2.on('session', (session: Http2Session) => this.onSession(session));
      this.h2.on('sessionError', noop);
      this.h2.on('stream', (stream: ServerHttp2Stream, headers) => this.onH2Stream(stream, headers));
    }
  }

  /** Hands `socket` to the HTTP/1.x server for `timeouts`. */
  private acceptH1(socket: Socket, timeouts: ClientTimeouts): void {
    const key = h1Profile(timeouts);
    let entry = this.h1s.get(key);
    if (entry === undefined) {
      entry = { server: this.createH1(timeouts), sockets: 0 };
      this.h1s.set(key, entry);
    }
    const held = entry;
    held.sockets++;
    socket.once('close', () => {
      if (--held.sockets === 0) this.retireUnused();
    });
    held.server.emit('connection', socket);
  }

  private retireUnused(): void {
    const inUse = profilesOf(this.handlers.current().config);
    for (const [key, entry] of this.h1s) {
      if (entry.sockets > 0 || inUse.has(key)) continue;
      entry.server.close();
      this.h1s.delete(key);
    }
  }

  private createH1(timeouts: ClientTimeouts): http.Server {
    const h1 = http.createServer({
      // nginx's large_client_header_buffers is 4 x 8k; Node's parser answers 431 past this.
      maxHeaderSize: MAX_HEADER_BYTES,
      // keepalive_timeout, and client_header_timeout for every head after the first (which the
      // connection guard times from accept): from its first byte, as nginx does after keep-alive.
      keepAliveTimeout: timeouts.keepaliveMs,
      headersTimeout: timeouts.headerMs,
      connectionsCheckingInterval: HEADER_CHECK_MS,
      // Bodies are timed between two reads (client_body_timeout, connection-guard.ts), not as a whole.
      requestTimeout: 0,
      requireHostHeader: true,
    });
    h1.on('request', (req: IncomingMessage, res: ServerResponse) => this.onH1Request(req, res));
    // Without this listener Node answers every Expect: 100-continue with a 100 at once (see H1Exchange).
    h1.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => this.onH1Request(req, res, true));
    h1.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      logRefused(this.handlers.current(), err, infoFor(socket as Socket, this.secure));
      lingeringError(err, socket);
    });
    h1.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', noop);
      guardOf(req.socket)?.requestSeen();
      this.handlers.onUpgrade(this.handlers.current(), req, socket, head, infoFor(req.socket, this.secure));
    });
    // Node starts checking headersTimeout (and tracking connections, which closeIdleConnections
    // needs) on 'listening'; these servers never listen, they are handed sockets.
    h1.emit('listening');
    return h1;
  }

  private onSession(session: Http2Session): void {
    this.sessions.add(session);
    session.on('error', noop);
    session.once('close', () => this.sessions.delete(session));
    const guard = guardOf(session.socket);
    if (guard) {
      guard.setActions({
        // No stream within client_header_timeout of accept: nothing to answer, close.
        firstRequestTimeout: () => session.destroy(),
        idle: () => closeSession(session, this.handlers.current().config.drainTimeoutMs),
      });
      guard.startIdle();
    }
    if (this.draining) closeSession(session, this.handlers.current().config.drainTimeoutMs);
  }

  private onH1Request(req: IncomingMessage, res: ServerResponse, expectContinue = false): void {
    req.on('error', noop);
    res.on('error', noop);
    if (this.draining) res.shouldKeepAlive = false;
    const guard = guardOf(req.socket);
    guard?.requestSeen();
    const ex = new H1Exchange(req, res, infoFor(req.socket, this.secure), expectContinue, guard);
    this.handlers.onExchange(this.handlers.current(), ex);
  }

  private onH2Stream(stream: ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', noop);
    const socket = stream.session?.socket as Socket | undefined;
    if (!socket) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    const guard = guardOf(socket);
    guard?.requestSeen();
    if (headerListSize(headers) > MAX_HEADER_BYTES) {
      stream.respond({ ':status': 431, 'content-type': 'text/plain; charset=utf-8' });
      stream.end('431 Request Header Fields Too Large\n');
      return;
    }
    const conn = infoFor(socket, true);
    if (headers[':method'] === 'CONNECT') {
      if (isWebSocketConnect(headers)) {
        this.handlers.onExchange(this.handlers.current(), new H2WebSocketExchange(stream, headers, conn, guard));
        return;
      }
      // Plain CONNECT (a tunnel to :authority) and other :protocol values are not offered.
      stream.respond({ ':status': headers[':protocol'] === undefined ? 405 : 501 }, { endStream: true });
      return;
    }
    const ex = new H2Exchange(stream, headers, conn, guard);
    this.handlers.onExchange(this.handlers.current(), ex);
  }

  /**
   * Starts the client timers of a connection at accept, before its first byte is read (TLS
   * listeners call this before the ClientHello; accept() does it for plain sockets). Until the site
   * is known the top-level timers apply.
   */
  guard(socket: Socket): ConnectionGuard {
    const guard = new ConnectionGuard(socket, this.handlers.current().config.timeouts);
    tagGuard(socket, guard);
    return guard;
  }

  /**
   * issue 19: mTLS — the `tls.clientAuth` of the site a ClientHello's name chooses on this port (nginx
   * takes ssl_verify_client from the server SNI selected); undefined, without a lookup, when no site has one.
   */
  clientAuthFor(listenerPort: number | undefined, servername: string | undefined): ClientAuthConfig | undefined {
    const snap = this.handlers.current();
    if (!hasClientAuth(snap.config)) return undefined;
    const table = listenerPort === undefined ? snap.table : snap.table.forPort(listenerPort);
    return table.matchHost(servername ?? '').config.tls.clientAuth;
  }

  /**
   * Hands an accepted socket to the server for its protocol; `listenerPort` is the port it was
   * accepted on, `servername` the TLS name that chose the site whose timers apply (else the default site's).
   */
  accept(socket: Socket, protocol: 'h2' | 'http/1.1', listenerPort?: number, servername?: string): void {
    if (listenerPort !== undefined) (socket as TaggedSocket)[LISTENER_PORT] = listenerPort;
    trackConnection(socket, this.secure ? 'https' : 'http', protocol);
    const guard = guardOf(socket) ?? this.guard(socket);
    tagGuard(socket, guard);
    const table = this.handlers.current().table;
    const timeouts = (listenerPort === undefined ? table : table.forPort(listenerPort)).matchHost(servername ?? '').config.timeouts;
    guard.handOver(socket, timeouts);
    if (protocol === 'h2' && this.h2) {
      this.h2.emit('connection', socket);
      return;
    }
    // No request head within client_header_timeout of accept: 408, as for a late head later on.
    guard.setActions({ firstRequestTimeout: () => lingeringError(Object.assign(new Error('client header timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket) });
    this.acceptH1(socket, timeouts);
  }

  /**
   * Stops keep-alive: HTTP/1.1 connections close after their next response (Connection: close),
   * HTTP/2 gets GOAWAY. Idle HTTP/1.1 connections are not cut here: a client may be sending its
   * next request at that moment, and would see a reset (pm2 reload under load counts them).
   */
  startDrain(): void {
    this.draining = true;
    const graceMs = this.handlers.current().config.drainTimeoutMs;
    for (const session of this.sessions) closeSession(session, graceMs);
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  /** Last resort at the end of the drain timeout. */
  destroyAll(): void {
    for (const { server } of this.h1s.values()) server.closeAllConnections();
    for (const session of this.sessions) session.destroy();
  }

  /** Stops the HTTP/1.1 servers' header checks (at the end of a drain). */
  close(): void {
    for (const { server } of this.h1s.values()) server.close();
  }
}
