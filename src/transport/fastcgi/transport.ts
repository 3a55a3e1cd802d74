// FastCGI upstreams (php-fpm and friends) over TCP or a unix socket. One request per connection at
// a time: php-fpm answers FCGI_GET_VALUES with FCGI_MPXS_CONNS=0, so there is no multiplexing, and
// requestId is always 1. With `keepalive` > 0 every request asks for FCGI_KEEP_CONN and a connection
// is reused after a clean FCGI_END_REQUEST (call.ts says when); with 0 each request has
// its own connection, closed by the server, as with nginx's default.
//
// A kept connection pins a php-fpm worker: the worker waits on it for the next request and accepts
// no other connection meanwhile. So the transport keeps no more connections than the server has
// workers, as far as it can tell (worker-estimate.ts), and requests beyond that wait here
// for the next free connection instead of in php-fpm's backlog — where they would wait for ever
// behind idle kept connections. When a new connection is seen waiting in the backlog anyway, the
// connection that just finished is closed rather than kept, which frees a worker to accept it.

import type { Socket } from 'node:net';
import type { UpstreamConfig } from '../../config/types.js';
import type { CgiTransportOptions } from '../cgi/options.js';
import { FastCgiCall, type ConnectionHandler, type FastCgiConnections } from './call.js';
import { IdleSockets } from '../cgi/idle-pool.js';
import { connectSocket, parseEndpoint, type Endpoint } from '../cgi/socket.js';
import { WorkerEstimate, type FreshConnection } from './worker-estimate.js';
import { UpstreamError, type ResponseSink, type Transport, type UpstreamCall, type UpstreamRequest } from '../types.js';

/**
 * How long a kept connection may wait for its next request. Short on purpose: an idle kept
 * connection pins a php-fpm worker, and another process sharing the pool (a pm2 cluster, another
 * server) can wait for it this long when every worker is pinned. Under load a connection is taken
 * again within milliseconds, so a short wait loses no reuse.
 */
const IDLE_MS = 500;

/**
 * A kept connection is closed once this old, at the end of a request. Other processes may share the
 * php-fpm pool (the workers of a pm2 cluster, another server), and their new connections wait in
 * the backlog until some worker is freed: retiring connections rotates the workers among everyone
 * (nginx has keepalive_time for the same reason), at the cost of one new connection per
 * connection and interval.
 */
const MAX_CONNECTION_AGE_MS = 500;

/** How often queued requests are checked against their deadlines. */
const QUEUE_CHECK_MS = 100;

/** A kept connection was handed over at once: there is nothing to give up. */
const HANDED_OVER = { cancel: (): void => undefined };

/** A request waiting for a connection; cancel() gives up (the handler is then never called). */
class Waiter {
  connecting: Socket | undefined;
  cancelled = false;
  probe = false;

  constructor(
    readonly handler: ConnectionHandler,
    /** performance.now() past which a queued request gives up. */
    readonly deadline: number,
    /** A probe that never sent its request: the estimate may probe again. */
    private readonly probeGone: () => void,
  ) {}

  cancel(): void {
    this.cancelled = true;
    if (this.connecting && this.probe) this.probeGone();
    this.connecting?.destroy();
  }
}

export class FastCgiTransport implements Transport, FastCgiConnections {
  readonly address: string;
  readonly keepConn: boolean;
  readonly timeouts: UpstreamConfig['timeouts'];
  private readonly endpoint: Endpoint;
  private readonly idle: IdleSockets;
  private readonly workers: WorkerEstimate;
  /** Connections open to the server: connecting, serving a request, or idle. */
  private open = 0;
  private readonly queue: Waiter[] = [];
  private readonly fresh = new Set<FreshConnection>();
  /** When each connection was opened (performance.now()). */
  private readonly openedAt = new WeakMap<Socket, number>();
  private queueTimer: NodeJS.Timeout | undefined;
  /** Kept connections still to close, one per new connection seen waiting in the backlog. */
  private freesOwed = 0;
  private closed = false;

  constructor(address: string, options: CgiTransportOptions) {
    this.address = address;
    this.endpoint = parseEndpoint(address);
    this.timeouts = options.timeouts;
    this.keepConn = options.keepalive > 0;
    this.idle = new IdleSockets(IDLE_MS);
    this.workers = new WorkerEstimate(options.keepalive);
  }

  request(req: UpstreamRequest, sink: ResponseSink): UpstreamCall {
    const call = new FastCgiCall(this, req, sink);
    call.start();
    return call;
  }

  /** How many workers the server is believed to have: the cap on connections to it. */
  get workerEstimate(): number {
    return this.workers.value;
  }

  /**
   * A kept connection (the handler runs at once), a new one, or a place in the queue. `replace`:
   * the caller's kept connection turned out dead, so it takes a new one in its place.
   */
  acquire(replace: boolean, handler: ConnectionHandler, readTimeoutMs?: number): { cancel(): void } {
    if (!replace) {
      const kept = this.idle.take();
      if (kept) {
        handler(undefined, kept, undefined);
        return HANDED_OVER;
      }
    }
    const now = performance.now();
    const waiter = new Waiter(handler, now + (readTimeoutMs ?? this.timeouts.readMs), this.probeGone);
    if (!replace) {
      if (this.keepConn && this.open >= this.workers.value) {
        if (this.workers.probeDue(now)) {
          this.workers.probeStarted(now);
          waiter.probe = true;
          this.openFor(waiter);
          return waiter;
        }
        this.queue.push(waiter);
        this.armQueueTimer();
        return waiter;
      }
    }
    this.openFor(waiter);
    return waiter;
  }

  /** The new connection got its first byte (`answered`), or failed or was given up before. */
  freshEnded(f: FreshConnection, answered: boolean): void {
    if (this.fresh.delete(f)) this.workers.ended(f, answered);
  }

  /** A connection whose request (started at `startedAt`) ended cleanly with FCGI_KEEP_CONN. */
  release(socket: Socket, startedAt: number): void {
    const now = performance.now();
    if (now - (this.openedAt.get(socket) ?? 0) > MAX_CONNECTION_AGE_MS) {
      socket.destroy();
      return;
    }
    if (this.fresh.size > 0) {
      const { newly, pending } = this.workers.stuck(this.fresh, startedAt, now, this.open);
      // Each connection waiting in the backlog needs one worker freed: close one kept connection
      // for each, not one per release for as long as any waits (it may be accepted already).
      this.freesOwed = Math.min(this.freesOwed + newly, pending);
      if (this.freesOwed > 0) {
        this.freesOwed -= 1;
        socket.destroy();
        return;
      }
    } else {
      this.freesOwed = 0;
    }
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      if (next.cancelled) continue;
      next.handler(undefined, socket, undefined);
      return;
    }
    if (this.closed) socket.destroy();
    else this.idle.put(socket);
  }

  private openFor(waiter: Waiter): void {
    this.open += 1;
    const socket = connectSocket(this.endpoint, this.timeouts.connectMs, (err, s) => {
      waiter.connecting = undefined;
      if (waiter.cancelled) {
        s.destroy();
        return;
      }
      if (err) {
        if (waiter.probe) this.probeGone();
        waiter.handler(err, undefined, undefined);
        return;
      }
      // The caller writes its request at once: the wait for the first byte starts now.
      const fresh: FreshConnection = { sentAt: performance.now(), probe: waiter.probe, seenStuck: false };
      this.fresh.add(fresh);
      waiter.handler(undefined, s, fresh);
    });
    waiter.connecting = socket;
    this.openedAt.set(socket, performance.now());
    socket.once('close', this.onConnectionClosed);
  }

  private readonly probeGone = (): void => this.workers.probeAbandoned();

  private readonly onConnectionClosed = (): void => {
    this.open -= 1;
    this.drainQueue();
  };

  /** Requests waiting while connections are under the estimate (one closed, or the estimate grew). */
  private drainQueue(): void {
    while (this.queue.length > 0 && this.open < this.workers.value) {
      const next = this.queue.shift()!;
      if (!next.cancelled) this.openFor(next);
    }
  }

  /**
   * A request waits for a connection no longer than its read timeout (the route's `timeout`, else
   * the upstream's): the same bound it would have met waiting in php-fpm's backlog for its answer.
   * Checked every QUEUE_CHECK_MS at most, so a timeout is late by up to that much.
   */
  private armQueueTimer(): void {
    if (this.queueTimer) return;
    this.queueTimer = setInterval(() => {
      const now = performance.now();
      const expired = this.queue.filter((w) => w.deadline <= now);
      if (expired.length > 0) {
        this.queue.splice(0, this.queue.length, ...this.queue.filter((w) => w.deadline > now && !w.cancelled));
        for (const w of expired) {
          if (!w.cancelled) w.handler(new UpstreamError('ETIMEOUT', 'upstream timed out: no FastCGI connection became free'), undefined, undefined);
        }
      }
      if (this.queue.length === 0) {
        clearInterval(this.queueTimer);
        this.queueTimer = undefined;
      }
    }, QUEUE_CHECK_MS);
    this.queueTimer.unref();
  }

  /** Closes kept connections; requests in flight and queued finish, and their connections close then. */
  async close(): Promise<void> {
    this.closed = true;
    this.idle.closeAll();
  }
}
