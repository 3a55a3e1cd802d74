// The lifecycle the CGI-style calls share (FastCGI, and uwsgi/SCGI in cgi-stream.ts): the body is
// made ready first (read whole when its length is unknown, since these protocols need
// CONTENT_LENGTH up front: cgi-body.ts), then one socket that is paused and resumed with the
// client's back-pressure; an abort tears down at most once.
import type { Socket } from 'node:net';
import { immediateBody, prepareBody, type PreparedBody } from './cgi-body.js';
import { cgiOptions, type CgiUpstreamOptions } from './cgi-options.js';
import { upstreamError } from './cgi-socket.js';
import type { ResponseSink, UpstreamCall, UpstreamError, UpstreamRequest } from './types.js';

export abstract class CgiCall implements UpstreamCall {
  protected done = false;
  protected paused = false;
  /** Only while a body of unknown length is being read. */
  protected reading: AbortController | undefined;
  protected socket: Socket | undefined;
  protected readonly opts: CgiUpstreamOptions;

  constructor(
    protected readonly req: UpstreamRequest,
    protected readonly sink: ResponseSink,
  ) {
    this.opts = cgiOptions(req.cgi);
  }

  /** Synchronous up to the first write when the body needs no reading. */
  start(): void {
    const now = immediateBody(this.req.body, this.opts.declaredLength);
    if (now) {
      this.useBody(now);
      return;
    }
    this.reading = new AbortController();
    prepareBody(this.req.body, this.opts.declaredLength, this.reading.signal).then(
      (body) => {
        this.reading = undefined;
        if (this.done) body.dispose();
        else this.useBody(body);
      },
      (err: unknown) => this.fail(upstreamError(err)),
    );
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    this.teardown();
  }

  pause(): void {
    this.paused = true;
    this.socket?.pause();
    this.socket?.setTimeout(0);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.done || !this.socket) return;
    this.socket.setTimeout(this.timeoutMs());
    this.socket.resume();
  }

  /** The body is ready: connect and send. */
  protected abstract useBody(body: PreparedBody): void;
  protected abstract fail(err: UpstreamError): void;
  protected abstract teardown(): void;
  protected abstract timeoutMs(): number;
}
