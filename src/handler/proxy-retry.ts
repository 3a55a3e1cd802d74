// When a failed upstream attempt may go to another server (README "Configuration reference" `retries`), and which failures
// count against a server's health. Follows nginx's default `proxy_next_upstream error timeout` and
// its rule since 1.9.13: a non-idempotent request (POST, PATCH, LOCK…) is passed on only when it
// provably never reached a server — a connect failure. Nothing is retried once the response head
// went to the client, and a request body only while not one byte of it was read (BodyGate).
import { Readable } from 'node:stream';
import type { UpstreamError } from '../transport/types.js';
import { IDEMPOTENT } from '../http/methods.js';

type Code = UpstreamError['code'];

/** Nothing was sent: the connection never opened. */
const NOT_SENT = new Set<Code>(['ECONNECT', 'ECONNECTTIMEOUT']);

/** nginx "error timeout" (+ invalid_header, which nginx always treats as an error). */
const SERVER_FAULTS = new Set<Code>(['ECONNECT', 'ECONNECTTIMEOUT', 'ERESET', 'ETIMEOUT', 'EPROTO']);

/**
 * Failures that count towards maxFails. A client's bad or aborted body (EBODY), a transport closed
 * by a reload (EUNAVAILABLE) and gatehouse's own failure (EINTERNAL) say nothing about the server; 5xx answers are answers (nginx
 * counts them only with `proxy_next_upstream http_50x`).
 */
export function countsAsServerFailure(code: Code): boolean {
  return SERVER_FAULTS.has(code);
}

export interface AttemptOutcome {
  code: Code;
  method: string;
  /** The response head (or part of it) already went to the client. */
  headersSent: boolean;
  /** Some of the request body was read for this attempt, so it cannot be sent again. */
  bodyRead: boolean;
  /** Servers tried so far, this one included. */
  attempts: number;
  retries: number;
}

export function mayRetry(o: AttemptOutcome): boolean {
  if (o.headersSent || o.bodyRead || o.attempts > o.retries) return false;
  if (NOT_SENT.has(o.code)) return true;
  return SERVER_FAULTS.has(o.code) && IDEMPOTENT.has(o.method);
}

/**
 * An answer whose status is in the route's `retryStatuses` (nginx's proxy_next_upstream http_*):
 * the same rules as a failure, with nginx's non_idempotent off (a POST is never sent again).
 */
export function mayRetryStatus(o: Omit<AttemptOutcome, 'code'>): boolean {
  return !o.headersSent && !o.bodyRead && o.attempts <= o.retries && IDEMPOTENT.has(o.method);
}

/**
 * The request body as one attempt sees it: it reads nothing from the client until the transport
 * first asks for data, so when an attempt fails before that (connect refused, timed out) the
 * client's stream is untouched and the next attempt gets a fresh gate over it. A transport that
 * destroys its body on failure destroys only the gate.
 */
export class BodyGate extends Readable {
  private started = false;
  private readonly onData = (chunk: Buffer): void => {
    if (!this.push(chunk)) this.source.pause();
  };
  private readonly onEnd = (): void => {
    this.push(null);
  };
  private readonly onError = (err: Error): void => {
    this.destroy(err);
  };

  constructor(private readonly source: Readable) {
    super();
  }

  get bodyRead(): boolean {
    return this.started;
  }

  override _read(): void {
    if (!this.started) {
      this.started = true;
      this.source.on('data', this.onData);
      this.source.once('end', this.onEnd);
      this.source.once('error', this.onError);
    }
    this.source.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
    this.source.off('error', this.onError);
    cb(err);
  }
}
