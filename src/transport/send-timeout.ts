// nginx's proxy_send_timeout for a body that a consumer (undici, or H2Call in http2.ts) writes to
// the upstream socket or HTTP/2 stream:
// "set only between two successive write operations, not for the whole request. If the proxied
// server does not receive anything within this time, the connection is closed."
//
// undici pauses the body when socket.write() returns false and resumes it on the socket's 'drain',
// so "paused by its consumer" means exactly "bytes are waiting that the server has not taken". A
// client that is slow to send leaves the body flowing with nothing waiting: that is not a send
// timeout. A server that keeps reading drains the socket and so ends each wait, at the kernel's
// granularity: a TCP socket is reported writable again only once about a third of its send buffer
// is free (the same wake-up nginx's write events wait for), so a server reading less than that per
// `send` period looks stalled.
//
// H2Call pauses the body the same way when its ClientHttp2Stream's write() returns false and resumes
// it on 'drain': there the bytes wait for the server's flow-control window, not for the kernel, and
// a wait ends once the server's WINDOW_UPDATEs have let every waiting byte out.
//
// A fast upload pauses at almost every chunk, so a pause only notes the time; one timer per period
// re-checks when it fires instead of a setTimeout/clearTimeout per pause.
import type { Readable } from 'node:stream';
import { UpstreamError } from './types.js';

export class SendWatchdog {
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() at the latest pause: when the current wait for the server began. */
  private pausedAt = 0;
  private stopped = false;

  constructor(
    private readonly body: Readable,
    private readonly ms: number,
    private readonly onTimeout: (err: UpstreamError) => void,
  ) {
    body.on('pause', this.onPause);
  }

  /** A timer is pending (for tests). */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** The call ended or was aborted: never fires after this. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.body.off('pause', this.onPause);
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private readonly onPause = (): void => {
    this.pausedAt = performance.now();
    if (!this.timer && !this.stopped) this.arm(this.ms);
  };

  private arm(ms: number): void {
    this.timer = setTimeout(this.check, ms);
    this.timer.unref();
  }

  private readonly check = (): void => {
    this.timer = undefined;
    const body = this.body;
    // Flowing again (the server took what was waiting), or nothing left to send: the next pause re-arms.
    if (this.stopped || body.readableFlowing !== false || body.destroyed || body.readableEnded) return;
    const waited = performance.now() - this.pausedAt;
    if (waited < this.ms) {
      this.arm(Math.max(1, Math.ceil(this.ms - waited)));
      return;
    }
    this.stop();
    this.onTimeout(new UpstreamError('ETIMEOUT', `upstream send timed out: the server took none of the request body for ${this.ms} ms`));
  };
}
