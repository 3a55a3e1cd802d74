// nginx's client timers, kept by gatehouse itself (README "Security defaults"). Node's own
// headersTimeout and requestTimeout are checked only by an interval that server.listen() starts,
// and gatehouse's protocol servers never listen: they get sockets through emit('connection').
//
// One sweep every GUARD_PERIOD_MS looks at every open connection, so a timer costs a few field
// writes on the paths that arm it and nothing per request otherwise (no setTimeout per request or
// per chunk). Timers fire up to one period late. What each connection is held to:
// - from accept to its first request head: client_header_timeout. That bounds the TLS handshake
//   too (nginx's post_accept_timeout), whatever the client drips in the meantime. Later request
//   heads on HTTP/1.1 are Node's (started by ProtocolServers), and keep-alive is Node's too;
// - output it does not take (send_timeout): the socket's, or an HTTP/2 stream's, unsent bytes must
//   go down between two sweeps within `sendMs`;
// - a request body being read (client_body_timeout): a chunk within `bodyMs` of the last one,
//   while the reader is not holding the body back itself;
// - HTTP/2 only, keepalive_timeout: a session with no open stream for `keepaliveMs` is closed.
import type { Duplex, Readable } from 'node:stream';
import type { ClientTimeouts } from '../config/types.js';

export const GUARD_PERIOD_MS = 500;

/** Something that holds a deadline of its own, checked at each sweep (a body being read). */
export interface Watched {
  /** Called at each sweep with the sweep's clock; returns false once it no longer needs watching. */
  check(now: number): boolean;
}

/**
 * Output waiting for a client that takes nothing: `pending()` bytes wait, and some of them must go
 * down within `sendMs`. Progress is `sent()` growing: the bytes whose writes completed. The number
 * waiting says nothing by itself: a writer that refills on 'drain' keeps it level however fast the
 * client reads, and a client that reads nothing keeps it level too.
 */
export class SendProgress {
  private lastSent = -1;
  private since = 0;

  constructor(
    private readonly pending: () => number,
    private readonly sent: () => number,
  ) {}

  /** True when nothing went out for `sendMs` while something was waiting. */
  stalled(now: number, sendMs: number): boolean {
    const sent = this.sent();
    if (this.pending() === 0 || sent !== this.lastSent) {
      this.since = now;
      this.lastSent = sent;
      return false;
    }
    return now - this.since >= sendMs;
  }
}

/**
 * A socket's send progress. bytesWritten counts what was handed to the socket, the queued part
 * included; writableLength what is queued or being written: their difference is what the kernel took.
 */
export function socketSendProgress(socket: Duplex): SendProgress {
  const bytesWritten = (): number => (socket as Duplex & { bytesWritten?: number }).bytesWritten ?? 0;
  return new SendProgress(
    () => socket.writableLength,
    () => bytesWritten() - socket.writableLength,
  );
}

class Sweep {
  private readonly guards = new Set<ConnectionGuard>();
  private timer: NodeJS.Timeout | undefined;

  add(guard: ConnectionGuard): void {
    this.guards.add(guard);
    if (this.timer === undefined) {
      this.timer = setInterval(this.tick, GUARD_PERIOD_MS).unref();
    }
  }

  delete(guard: ConnectionGuard): void {
    this.guards.delete(guard);
    if (this.guards.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  get size(): number {
    return this.guards.size;
  }

  private readonly tick = (): void => {
    const now = performance.now();
    for (const guard of this.guards) guard.check(now);
  };
}

export const sweep = new Sweep();

/** What a guard does when a timer runs out; set by whoever owns the socket at that stage. */
export interface GuardActions {
  /** No complete request head within client_header_timeout of accept. */
  firstRequestTimeout(): void;
  /** An HTTP/2 session idle for keepalive_timeout (no open stream). */
  idle?(): void;
}

export class ConnectionGuard {
  /** The outermost socket: the raw one until the TLS hand-off, then the TLS socket. */
  private socket: Duplex;
  /** Deadline (sweep clock) for the first request head; 0 once one came. */
  private firstBy: number;
  private readonly acceptedAt: number;
  private actions: GuardActions;
  private send: SendProgress;
  private readonly watched = new Set<Watched>();
  /** HTTP/2: open streams, and since when there has been none. */
  private streams = 0;
  private idleSince = 0;
  private closed = false;

  constructor(
    socket: Duplex,
    /** The connection's timers: the top level's until a site is known (by SNI, or the default site). */
    public timeouts: ClientTimeouts,
  ) {
    this.socket = socket;
    this.acceptedAt = performance.now();
    this.firstBy = this.acceptedAt + timeouts.headerMs;
    this.actions = { firstRequestTimeout: () => this.socket.destroy() };
    this.send = socketSendProgress(socket);
    sweep.add(this);
    socket.once('close', () => this.close());
  }

  /**
   * The socket now belongs to the TLS layer or an HTTP server, and the connection's site is known
   * (by SNI, else the default site): its timers apply from now on, still counted from accept.
   */
  handOver(socket: Duplex, timeouts: ClientTimeouts): void {
    if (this.closed) return;
    if (socket !== this.socket) {
      socket.once('close', () => this.close());
      this.socket = socket;
      this.send = socketSendProgress(socket);
    }
    this.timeouts = timeouts;
    if (this.firstBy !== 0) this.firstBy = this.acceptedAt + timeouts.headerMs;
  }

  /** What to do when a timer runs out, for the protocol the socket now speaks. */
  setActions(actions: GuardActions): void {
    this.actions = actions;
  }

  /** HTTP/2: streams open on the session (a graceful close waits for them). */
  get openStreams(): number {
    return this.streams;
  }

  /** A complete request head (HTTP/1.x request or HTTP/2 stream) arrived. */
  requestSeen(): void {
    this.firstBy = 0;
  }

  /** HTTP/2: a stream opened or closed (for keepalive_timeout, which counts only idle sessions). */
  streamOpened(): void {
    this.streams++;
  }

  streamClosed(): void {
    if (--this.streams === 0) this.idleSince = performance.now();
  }

  /** HTTP/2 sessions start idle. */
  startIdle(): void {
    this.idleSince = performance.now();
  }

  watch(w: Watched): void {
    if (!this.closed) this.watched.add(w);
  }

  unwatch(w: Watched): void {
    this.watched.delete(w);
  }

  check(now: number): void {
    if (this.firstBy !== 0 && now >= this.firstBy) {
      this.firstBy = 0;
      this.actions.firstRequestTimeout();
      return;
    }
    if (this.send.stalled(now, this.timeouts.sendMs)) {
      this.socket.destroy();
      return;
    }
    for (const w of this.watched) if (!w.check(now)) this.watched.delete(w);
    if (this.actions.idle && this.streams === 0 && this.idleSince !== 0 && now - this.idleSince >= this.timeouts.keepaliveMs) {
      this.idleSince = 0;
      this.actions.idle();
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watched.clear();
    sweep.delete(this);
  }
}

/**
 * client_body_timeout for one request body: once its reader has started, the client must send a
 * chunk within `bodyMs` of the previous one (or of the start). While the reader holds the body
 * back (a slow upstream: pipe() paused the source) the client is not waiting on us, so no time counts.
 */
export class BodyProgress implements Watched {
  private lastRead = performance.now();
  /** A chunk came since the last sweep: the sweep dates it, so a chunk costs a field write, not a clock read. */
  private readSinceSweep = false;
  private held = false;
  private done = false;

  constructor(
    private readonly source: Readable,
    private readonly bodyMs: number,
    private readonly expire: () => void,
  ) {
    source.on('data', this.onData);
    source.on('pause', this.onPause);
    source.on('resume', this.onResume);
    source.once('end', this.stop);
    source.once('close', this.stop);
  }

  check(now: number): boolean {
    if (this.done) return false;
    if (this.readSinceSweep) {
      this.readSinceSweep = false;
      this.lastRead = now;
    }
    if (this.held || now - this.lastRead < this.bodyMs) return true;
    this.stop();
    this.expire();
    return false;
  }

  private readonly onData = (): void => {
    this.readSinceSweep = true;
  };

  private readonly onPause = (): void => {
    this.held = true;
  };

  private readonly onResume = (): void => {
    this.held = false;
    this.lastRead = performance.now();
  };

  readonly stop = (): void => {
    if (this.done) return;
    this.done = true;
    this.source.off('data', this.onData);
    this.source.off('pause', this.onPause);
    this.source.off('resume', this.onResume);
  };
}

const GUARD = Symbol('gatehouse.guard');
type GuardedSocket = Duplex & { [GUARD]?: ConnectionGuard };

/** The guard of a connection, from any of its sockets that was tagged with it. */
export function guardOf(socket: Duplex | null | undefined): ConnectionGuard | undefined {
  return socket ? (socket as GuardedSocket)[GUARD] : undefined;
}

export function tagGuard(socket: Duplex, guard: ConnectionGuard): void {
  (socket as GuardedSocket)[GUARD] = guard;
}
