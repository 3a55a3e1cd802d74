// The idle timer of a tunnel (an HTTP/1.1 Upgrade, or an HTTP/2 extended CONNECT WebSocket, once
// bridged to the upstream): no byte in either direction for `idleMs` closes both sides. Without it
// a tunnel nobody uses holds a client socket and an upstream connection for ever.
//
// nginx (ngx_http_upstream_process_upgraded) re-arms proxy_read_timeout on the upstream each time
// either side moves data, and closes when it runs out: in effect "idle both ways", the rule here.
// Counting only upstream→client bytes would cut a client that streams to a quiet server (an upload
// over a WebSocket) while it is busy. A client that stops reading is send_timeout's (the connection
// guard's send progress), not this timer's.
//
// Checked by the connection guard's sweep: a data event costs one field write (the next sweep
// dates it), so the timer fires up to one sweep period late.
import type { Readable } from 'node:stream';
import type { Watched } from './connection-guard.js';

export class TunnelIdle implements Watched {
  private last = performance.now();
  private movedSinceSweep = false;
  private done = false;

  constructor(
    private readonly sides: readonly Readable[],
    private readonly idleMs: number,
    private readonly expire: () => void,
  ) {
    for (const side of sides) {
      side.on('data', this.touch);
      side.once('close', this.stop);
    }
  }

  check(now: number): boolean {
    if (this.done) return false;
    if (this.movedSinceSweep) {
      this.movedSinceSweep = false;
      this.last = now;
    }
    if (now - this.last < this.idleMs) return true;
    this.stop();
    this.expire();
    return false;
  }

  private readonly touch = (): void => {
    this.movedSinceSweep = true;
  };

  readonly stop = (): void => {
    if (this.done) return;
    this.done = true;
    for (const side of this.sides) {
      side.off('data', this.touch);
      side.off('close', this.stop);
    }
  };
}
