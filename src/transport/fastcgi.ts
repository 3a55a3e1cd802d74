// FastCGI upstreams (php-fpm and friends) over TCP or a unix socket. One request per connection at
// a time: php-fpm answers FCGI_GET_VALUES with FCGI_MPXS_CONNS=0, so there is no multiplexing, and
// requestId is always 1. With `keepalive` > 0 requests ask for FCGI_KEEP_CONN and a connection is
// kept for the next request after a clean FCGI_END_REQUEST (cgi-fastcgi-call.ts says when).
//
// A kept connection pins a php-fpm worker: the worker waits on it for the next request and accepts
// no other connection meanwhile. So when more requests are in flight than php-fpm has workers, a
// new connection can sit in php-fpm's listen backlog while the workers idle on connections kept
// here, and it would wait for ever. To rule that out, a finished connection is closed, not kept,
// while any request on a new connection is still waiting for its first byte: closing frees the
// worker, which then accepts the waiting connection.
//
// Under overload a new connection does not ask for FCGI_KEEP_CONN at all (keepFresh()): php-fpm
// then closes it itself right after FCGI_END_REQUEST and accepts the next connection at once. With
// FCGI_KEEP_CONN the worker would wait for this process to read the response and close, a round
// trip through a busy event loop per request (measured: 0.25x nginx's requests/s at 16 clients
// on 4 workers, scripts/bench/cgi.mjs). So under light load connections are reused; under
// overload the transport is nginx's default, one connection per request closed by php-fpm.
import type { Socket } from 'node:net';
import type { UpstreamConfig } from '../config/types.js';
import { FastCgiCall } from './cgi-fastcgi-call.js';
import { IdleSockets } from './cgi-idle-pool.js';
import { connectSocket, parseEndpoint, type Endpoint } from './cgi-socket.js';
import type { ResponseSink, Transport, UpstreamCall, UpstreamError, UpstreamRequest } from './types.js';

export interface CgiTransportOptions {
  timeouts: UpstreamConfig['timeouts'];
  keepalive: number;
}

/**
 * How long a kept connection may wait for its next request. Short on purpose: an idle kept
 * connection pins a php-fpm worker, and another process sharing the pool (a pm2 cluster, another
 * server) can wait for it this long when every worker is pinned. Under load a connection is taken
 * again within milliseconds, so a short wait loses no reuse.
 */
const IDLE_MS = 500;

export class FastCgiTransport implements Transport {
  readonly address: string;
  readonly keepConn: boolean;
  readonly timeouts: UpstreamConfig['timeouts'];
  private readonly endpoint: Endpoint;
  private readonly idle: IdleSockets;
  /** Requests on new connections that have not received a byte yet (maybe still in the backlog). */
  private waitingFresh = 0;
  private closed = false;

  constructor(address: string, options: CgiTransportOptions) {
    this.address = address;
    this.endpoint = parseEndpoint(address);
    this.timeouts = options.timeouts;
    this.keepConn = options.keepalive > 0;
    this.idle = new IdleSockets(options.keepalive, IDLE_MS);
  }

  request(req: UpstreamRequest, sink: ResponseSink): UpstreamCall {
    const call = new FastCgiCall(this, req, sink);
    call.start();
    return call;
  }

  /** A kept connection, or undefined. */
  takeIdle(): Socket | undefined {
    return this.idle.take();
  }

  connect(done: (err: UpstreamError | undefined, socket: Socket) => void): Socket {
    return connectSocket(this.endpoint, this.timeouts.connectMs, done);
  }

  /** A connection whose request ended cleanly with FCGI_KEEP_CONN. */
  release(socket: Socket): void {
    if (this.waitingFresh > 0 || this.closed) socket.destroy();
    else this.idle.put(socket);
  }

  /** Whether a new connection should ask for FCGI_KEEP_CONN: not while others wait in the backlog. */
  keepFresh(): boolean {
    return this.keepConn && this.waitingFresh === 0 && !this.closed;
  }

  freshStarted(): void {
    this.waitingFresh += 1;
  }

  freshAnswered(): void {
    this.waitingFresh -= 1;
  }

  /** Closes kept connections; requests in flight finish, and their connections are closed then. */
  async close(): Promise<void> {
    this.closed = true;
    this.idle.closeAll();
  }
}
