// The body of a request that came through Node's 'upgrade' event but is served as a plain request
// (the route does not tunnel its protocol). Node's parser stopped after the head (its
// on_headers_complete answered llhttp "upgrade: no body, the rest is the new protocol"), so the
// body is raw bytes: the `head` Node had already read, then the socket. Exactly Content-Length
// bytes are the body (RFC 9112 §6.3); what follows is never parsed, since the connection closes
// after the response, so it cannot run as a request of its own (smuggling).
import { Readable } from 'node:stream';
import type { Duplex } from 'node:stream';

export class UpgradeBody extends Readable {
  private remaining: number;
  private started = false;

  constructor(
    private readonly socket: Duplex,
    private head: Buffer,
    length: number,
    /** Runs once, at the first read: the body is wanted (100-continue, client_body_timeout). */
    private readonly onStart: () => void,
  ) {
    super();
    this.remaining = length;
  }

  override _read(): void {
    if (this.started) {
      this.socket.resume();
      return;
    }
    this.started = true;
    this.onStart();
    const head = this.head;
    this.head = Buffer.alloc(0);
    if (head.length > 0 && !this.accept(head)) return;
    if (this.remaining === 0) return;
    this.socket.on('data', this.onData);
    this.socket.once('end', this.onEnd);
    this.socket.once('close', this.onEnd);
    this.socket.resume();
  }

  /** Pushes what of `chunk` belongs to the body; false once the body is complete. */
  private accept(chunk: Buffer): boolean {
    const part = chunk.length > this.remaining ? chunk.subarray(0, this.remaining) : chunk;
    this.remaining -= part.length;
    const more = this.push(part);
    if (this.remaining === 0) {
      this.finish();
      this.push(null);
      return false;
    }
    if (!more) this.socket.pause();
    return true;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.accept(chunk);
  };

  private readonly onEnd = (): void => {
    this.finish();
    this.destroy(new Error('the client closed the connection before the end of the request body'));
  };

  /** Stops reading the socket; the exchange discards anything else the client sends. */
  private finish(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.pause();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.finish();
    cb(err);
  }
}
