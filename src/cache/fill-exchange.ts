// The Exchange the proxy handler writes into when the cache asks the upstream: a tee. Each chunk
// goes on to the client at once (with the client's back-pressure) and is also kept for the store,
// up to the maximum object size; past it the copy is dropped and the response just streams.
// A revalidation may have no client at all (304, stale-if-error, stale-while-revalidate).
// When the client goes away mid-response the fill goes on for the cache's sake, unless nothing is
// being kept, in which case the upstream request is aborted as for any proxied request.
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { ConnectionInfo, Exchange, ResponseHeaders } from '../http/exchange.js';

export interface FillHead {
  /** Where the response streams to; undefined: nowhere (the cache answers the client itself). */
  client: Exchange | undefined;
  /** Whether the body is worth keeping (the response is storable). */
  keep: boolean;
}

export interface FillOutcome {
  status: number;
  headers: ResponseHeaders;
  /** The whole body when it was kept and the response ended cleanly without trailers. */
  body: Buffer | undefined;
}

export interface FillHooks {
  /** Sees the response head first; may add headers (Cache-Status) before the client gets them. */
  head(status: number, headers: ResponseHeaders): FillHead;
  /** Called once the body is known not to be kept (over maxObject): waiting requests stop waiting. */
  dropped(): void;
  /** Called once, at the end, clean or not. */
  done(outcome: FillOutcome): void;
}

export class FillExchange implements Exchange {
  readonly protocol: Exchange['protocol'];
  readonly rawTarget: string;
  readonly authority: string | undefined;
  readonly conn: ConnectionInfo;
  readonly body: Readable | undefined;
  readonly startedAt = performance.now();
  headersSent = false;
  bytesSent = 0;
  status = 0;
  closed = false;
  private client: Exchange | undefined;
  private keep = false;
  private chunks: Buffer[] = [];
  private size = 0;
  private headers_: ResponseHeaders = {};
  private readonly closeCbs: Array<(aborted: boolean) => void> = [];
  private drainCbs: Array<() => void> = [];

  constructor(
    base: Exchange,
    readonly method: string,
    readonly headers: IncomingHttpHeaders,
    private readonly maxObject: number,
    private readonly hooks: FillHooks,
  ) {
    this.protocol = base.protocol;
    this.rawTarget = base.rawTarget;
    this.authority = base.authority;
    this.conn = base.conn;
    this.body = base.body;
  }

  respond(status: number, headers: ResponseHeaders, body?: string | Buffer): void {
    this.status = status;
    this.headersSent = true;
    this.headers_ = headers;
    const declared = Number(headers['content-length']);
    const head = this.hooks.head(status, headers);
    this.keep = head.keep && !(declared > this.maxObject);
    if (head.keep && !this.keep) this.hooks.dropped();
    this.attach(head.client);
    if (body === undefined && !this.client && !this.keep) {
      // Nobody wants the body (a 304 answered by the cache, a stale-if-error): stop here, and
      // abort the upstream request unless the response has no body anyway.
      this.finish(status === 304 || status === 204 || declared === 0);
      return;
    }
    if (body === undefined) {
      this.client?.respond(status, headers);
      return;
    }
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    this.client?.respond(status, headers, buf);
    this.record(buf);
    this.finish(true);
  }

  private attach(client: Exchange | undefined): void {
    if (!client || client.closed) return;
    this.client = client;
    client.onClose((aborted) => {
      if (!aborted) return;
      this.client = undefined;
      // Nothing left to do for anyone: stop the upstream like an uncached proxy would.
      if (!this.keep) this.finish(false);
      else this.flushDrain();
    });
  }

  private record(chunk: Buffer): void {
    if (!this.keep) return;
    this.size += chunk.length;
    if (this.size > this.maxObject) {
      this.keep = false;
      this.chunks = [];
      this.hooks.dropped();
      if (!this.client) this.finish(false);
      return;
    }
    this.chunks.push(chunk);
  }

  write(chunk: Buffer): boolean {
    if (this.closed) return true;
    this.record(chunk);
    const client = this.client;
    if (!client || client.closed) return true;
    this.bytesSent += chunk.length;
    return client.write(chunk);
  }

  end(trailers?: IncomingHttpHeaders): void {
    // Trailers (gRPC status and the like) belong to one exchange: such a response is never kept.
    if (trailers !== undefined && Object.keys(trailers).length > 0) this.keep = false;
    this.client?.end(trailers);
    this.finish(true);
  }

  onDrain(cb: () => void): void {
    if (!this.client) {
      queueMicrotask(cb);
      return;
    }
    this.drainCbs.push(cb);
    this.client.onDrain(() => this.flushDrain());
  }

  private flushDrain(): void {
    const cbs = this.drainCbs;
    this.drainCbs = [];
    for (const cb of cbs) cb();
  }

  onClose(cb: (aborted: boolean) => void): void {
    this.closeCbs.push(cb);
  }

  abort(): void {
    this.client?.abort();
    this.finish(false);
  }

  private finish(clean: boolean): void {
    if (this.closed) return;
    this.closed = true;
    const body = clean && this.keep ? Buffer.concat(this.chunks, this.size) : undefined;
    this.chunks = [];
    this.hooks.done({ status: this.status, headers: this.headers_, body });
    for (const cb of this.closeCbs) cb(!clean);
  }
}
