// Connections to one HTTP/1.1 server with nginx's `keepalive N` semantics: as many connections as
// there are concurrent requests (never a queue), and at most N of them kept open while idle; a
// connection that goes idle when N are already idle is closed. undici's Pool has no such cap —
// its `connections` limits concurrency (requests queue behind it) and idle sockets live until the
// keep-alive timeout — so each connection here is one undici Client (pipelining 1 = one socket),
// and idle Clients sit on a LIFO stack: the most recently used socket is the least likely to have
// been closed by the server's own idle timeout.
//
// The cap is applied to connections that stay idle for EXCESS_IDLE_MS, not at the instant a response
// ends: Node delivers a burst of responses in one event-loop turn, before the requests that will reuse
// those connections arrive, so closing at once made every burst above N open new connections (measured:
// 16,446 connects for 20,000 requests at 512 concurrent streams). nginx, which interleaves the two,
// rarely sees more than N idle at once.
import { Client, buildConnector, type Dispatcher } from 'undici';

export type ClientOptions = Omit<Client.Options, 'connect'>;

const EXCESS_IDLE_MS = 250;

export class KeepAlivePool {
  /** LIFO: the top is the most recently used; the bottom ones are closed first. */
  private readonly idle: Client[] = [];
  private readonly idleSince = new WeakMap<Client, number>();
  private trimTimer: NodeJS.Timeout | undefined;
  private readonly open = new Set<Client>();
  private readonly connect: buildConnector.connector;
  private closed = false;

  constructor(
    private readonly origin: string,
    private readonly options: ClientOptions,
    connect: buildConnector.BuildOptions,
    /** Idle connections kept (README "Configuration reference" `keepalive`); 0 closes each connection after its response. */
    private readonly maxIdle: number,
  ) {
    // One connector for all Clients, so TLS sessions are resumed across connections (as in undici's Pool).
    // The TLS name is the pool's, never a request's: undici's connector then uses `connect.servername`,
    // else the upstream's host unless it is an address (no IP in SNI, RFC 6066 §3; the certificate is
    // checked against the address), as nginx's proxy_ssl_name $proxy_host. A request's servername
    // would otherwise come from the forwarded Host header.
    const base = buildConnector(connect);
    this.connect = (opts, callback) => base({ ...opts, servername: undefined }, callback);
  }

  /** Sends on an idle connection, or a new one; the handler's end, error or upgrade gives it back. */
  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    const client = this.idle.pop() ?? this.newClient();
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.release(client);
    };
    // Written out rather than `{ ...handler, ... }`: the handlers here have these fields and no others.
    client.dispatch(opts, {
      // Always present: undici reads a handler without onRequestStart as its legacy (onConnect) kind.
      onRequestStart: (c, context) => handler.onRequestStart?.(c, context),
      onResponseStart: handler.onResponseStart?.bind(handler),
      onResponseData: handler.onResponseData?.bind(handler),
      onResponseEnd: (c, trailers) => {
        release();
        handler.onResponseEnd?.(c, trailers);
      },
      onResponseError: (c, err) => {
        release();
        handler.onResponseError?.(c, err);
      },
      onRequestUpgrade: (c, status, headers, socket) => {
        // The socket now belongs to the tunnel; the Client opens a new one for its next request.
        release();
        handler.onRequestUpgrade?.(c, status, headers, socket);
      },
    });
  }

  /** Connections open now, busy or idle (for tests and stats). */
  get size(): number {
    return this.open.size;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.idle.length = 0;
    if (this.trimTimer) clearTimeout(this.trimTimer);
    await Promise.all([...this.open].map((c) => c.close()));
  }

  private newClient(): Client {
    const client = new Client(this.origin, { ...this.options, pipelining: 1, connect: this.connect });
    this.open.add(client);
    return client;
  }

  private release(client: Client): void {
    if (client.closed || client.destroyed) {
      this.open.delete(client);
    } else if (!this.closed && this.maxIdle > 0) {
      this.idle.push(client);
      this.idleSince.set(client, performance.now());
      if (this.idle.length > this.maxIdle) this.scheduleTrim();
    } else {
      this.open.delete(client);
      void client.close();
    }
  }

  private scheduleTrim(): void {
    if (this.trimTimer) return;
    this.trimTimer = setTimeout(() => {
      this.trimTimer = undefined;
      this.trimExcessIdle();
    }, EXCESS_IDLE_MS);
    this.trimTimer.unref();
  }

  /** Closes least recently used idle connections above the cap that have been idle long enough. */
  private trimExcessIdle(): void {
    const now = performance.now();
    while (this.idle.length > this.maxIdle) {
      const oldest = this.idle[0]!;
      if (now - (this.idleSince.get(oldest) ?? 0) < EXCESS_IDLE_MS) break;
      this.idle.shift();
      this.open.delete(oldest);
      void oldest.close();
    }
    if (this.idle.length > this.maxIdle) this.scheduleTrim();
  }
}
