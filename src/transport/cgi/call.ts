// The lifecycle the CGI-style calls share (FastCGI, and uwsgi/SCGI in stream.ts): the body is
// made ready first (read whole when its length is unknown, since these protocols need
// CONTENT_LENGTH up front: body.ts), then one socket that is paused and resumed with the
// client's back-pressure; an abort tears down at most once.
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { immediateBody, prepareBody, type PreparedBody } from './body.js';
import { cgiOptions, type CgiUpstreamOptions } from './options.js';
import { pumpBody } from './pump.js';
import { upstreamError } from './socket.js';
import { UpstreamError, type ResponseSink, type UpstreamCall, type UpstreamRequest } from '../types.js';

export abstract class CgiCall implements UpstreamCall {
  protected done = false;
  protected paused = false;
  /** Only while a body of unknown length is being read. */
  protected reading: AbortController | undefined;
  protected socket: Socket | undefined;
  protected readonly opts: CgiUpstreamOptions;
  /** True once the whole request (head and body) is written; the read timeout applies from then on. */
  protected requestSent = false;
  /** Stops the body pump while the request body is going out. */
  protected detachPump: (() => void) | undefined;

  constructor(
    protected readonly req: UpstreamRequest,
    protected readonly sink: ResponseSink,
  ) {
    this.opts = cgiOptions(req.cgi);
  }

  /** Synchronous up to the first write when the body needs no reading. */
  start(): void {
    const now = immediateBody(this.req.body, this.opts.declaredLength, this.opts.buffer?.whole);
    if (now) {
      this.useBody(now);
      return;
    }
    this.reading = new AbortController();
    prepareBody(this.req.body, this.opts.declaredLength, this.reading.signal, this.opts.buffer).then(
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

  /** nginx's *_send_timeout while the request goes out, *_read_timeout after it. */
  protected timeoutMs(): number {
    const t = this.timeouts();
    return this.requestSent ? (this.req.readTimeoutMs ?? t.readMs) : t.sendMs;
  }

  /**
   * Writes the request head, then the body framed by `frame` under the socket's back-pressure,
   * then `end` (e.g. FastCGI's empty STDIN record) once the body is through.
   */
  protected sendRequest(socket: Socket, head: Buffer, body: Readable | undefined, length: number, frame: (chunk: Buffer) => Buffer[], end?: Buffer): void {
    socket.setTimeout(this.timeoutMs());
    socket.write(head);
    if (length === 0 || !body) {
      this.markSent();
      return;
    }
    this.detachPump = pumpBody(body, length, socket, frame, {
      onDone: () => {
        this.detachPump = undefined;
        if (end) socket.write(end);
        this.markSent();
      },
      onError: (err) => this.fail(err),
    });
    if (this.paused) socket.pause();
  }

  protected readonly onError = (err: Error): void => {
    this.fail(upstreamError(err));
  };

  protected readonly onTimeout = (): void => {
    this.fail(new UpstreamError('ETIMEOUT', this.requestSent ? 'upstream timed out' : 'upstream timed out reading the request'));
  };

  private markSent(): void {
    this.requestSent = true;
    if (!this.paused) this.socket?.setTimeout(this.timeoutMs());
  }

  /**
   * The server ended the response: a head that never completed is a 502 (nginx: "upstream
   * prematurely closed connection while reading response header"). False when it failed the call.
   */
  protected headEnded(head: { finish(): unknown }): boolean {
    try {
      head.finish();
      return true;
    } catch (err) {
      this.fail(upstreamError(err));
      return false;
    }
  }

  /** The body is ready: connect and send. */
  protected abstract useBody(body: PreparedBody): void;
  protected abstract fail(err: UpstreamError): void;
  protected abstract teardown(): void;
  protected abstract timeouts(): { sendMs: number; readMs: number };
}
