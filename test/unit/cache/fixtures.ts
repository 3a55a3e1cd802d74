// Shared by the cache unit tests: variants built from real CachePolicy objects, and an Exchange
// that records what a client would have received.
import type { IncomingHttpHeaders } from 'node:http';
import CachePolicy from 'http-cache-semantics';
import type { ConnectionInfo, Exchange, ResponseHeaders } from '../../../src/http/exchange.js';
import { POLICY_OPTIONS, secondaryKey, varyFields, type Variant } from '../../../src/cache/variant.js';

export function variant(body: string, resHeaders: CachePolicy.Headers = { 'cache-control': 'max-age=60' }, reqHeaders: CachePolicy.Headers = {}): Variant {
  const req = { url: 'https://a.test/x', method: 'GET', headers: { host: 'a.test', ...reqHeaders } };
  const vary = varyFields(resHeaders.vary);
  return {
    secondary: secondaryKey(vary, req.headers) ?? '',
    vary,
    status: 200,
    policy: new CachePolicy(req, { status: 200, headers: resHeaders }, POLICY_OPTIONS),
    cappedUntil: Date.now() + 60_000,
    body: Buffer.from(body),
  };
}

export const CONN: ConnectionInfo = {
  remoteAddress: '127.0.0.1',
  remotePort: 50000,
  localAddress: '127.0.0.1',
  localPort: 8443,
  secure: true,
  tlsVersion: 'TLSv1.3',
  servername: 'a.test',
  cert: undefined,
};

/** A client whose buffer holds `capacity` writes before it asks the writer to wait for drain. */
export class RecordingClient implements Exchange {
  readonly protocol = 'HTTP/1.1' as const;
  readonly method = 'GET';
  readonly rawTarget = '/x';
  readonly authority = 'a.test';
  readonly headers: IncomingHttpHeaders = { host: 'a.test' };
  readonly conn = CONN;
  readonly body = undefined;
  readonly startedAt = 0;
  headersSent = false;
  bytesSent = 0;
  status = 0;
  closed = false;
  aborted = false;
  sentHeaders: ResponseHeaders | undefined;
  chunks: Buffer[] = [];
  trailers: IncomingHttpHeaders | undefined;
  private drains: Array<() => void> = [];
  private closes: Array<(aborted: boolean) => void> = [];

  constructor(private capacity = Infinity) {}

  respond(status: number, headers: ResponseHeaders, body?: string | Buffer): void {
    this.status = status;
    this.headersSent = true;
    this.sentHeaders = headers;
    if (body !== undefined) {
      this.chunks.push(Buffer.from(body));
      this.close(false);
    }
  }
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.bytesSent += chunk.length;
    return this.chunks.length < this.capacity;
  }
  end(trailers?: IncomingHttpHeaders): void {
    this.trailers = trailers;
    this.close(false);
  }
  onDrain(cb: () => void): void {
    this.drains.push(cb);
  }
  onClose(cb: (aborted: boolean) => void): void {
    this.closes.push(cb);
  }
  abort(): void {
    this.aborted = true;
    this.close(true);
  }
  /** The client reads its buffer: writers waiting for drain go on. */
  drain(): void {
    this.capacity = Infinity;
    const cbs = this.drains;
    this.drains = [];
    for (const cb of cbs) cb();
  }
  /** The client goes away. */
  close(aborted: boolean): void {
    if (this.closed) return;
    this.closed = true;
    for (const cb of this.closes) cb(aborted);
  }
  get received(): string {
    return Buffer.concat(this.chunks).toString();
  }
}
