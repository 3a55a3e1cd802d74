// Streams a request body into an upstream socket with back-pressure both ways: the body is paused
// while the socket's buffer is full, and exactly the announced number of bytes is sent (a body
// that ends short or runs long is an EBODY failure, never a silently truncated request).
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { UpstreamError } from '../types.js';

export interface PumpHandlers {
  /** All `length` bytes are written (into the socket's buffer). */
  onDone(): void;
  onError(err: UpstreamError): void;
  /** Called on each chunk written, to keep a send timeout alive. */
  onProgress?(): void;
}

/** Returns a function that detaches the pump (the body is then left alone). */
export function pumpBody(
  body: Readable,
  length: number,
  socket: Socket,
  frame: (chunk: Buffer) => Buffer[],
  handlers: PumpHandlers,
): () => void {
  let sent = 0;
  let detached = false;
  const onData = (chunk: Buffer): void => {
    sent += chunk.length;
    if (sent > length) {
      fail(new UpstreamError('EBODY', `request body is longer than its Content-Length ${length}`));
      return;
    }
    const pieces = frame(chunk);
    let ok = true;
    socket.cork();
    for (const piece of pieces) ok = socket.write(piece);
    socket.uncork();
    handlers.onProgress?.();
    if (!ok) {
      body.pause();
      socket.once('drain', onDrain);
    }
  };
  const onDrain = (): void => {
    if (detached) return;
    handlers.onProgress?.();
    body.resume();
  };
  const onEnd = (): void => {
    if (detached) return;
    if (sent !== length) {
      fail(new UpstreamError('EBODY', `request body ended after ${sent} of ${length} bytes`));
      return;
    }
    detach();
    handlers.onDone();
  };
  const onError = (err: Error): void => {
    fail(err instanceof UpstreamError ? err : new UpstreamError('EBODY', `reading the request body: ${err.message}`, { cause: err }));
  };
  const fail = (err: UpstreamError): void => {
    if (detached) return;
    detach();
    handlers.onError(err);
  };
  const detach = (): void => {
    detached = true;
    body.off('data', onData);
    body.off('end', onEnd);
    body.off('error', onError);
    body.on('error', () => undefined);
    socket.off('drain', onDrain);
  };
  body.on('data', onData);
  body.once('end', onEnd);
  body.once('error', onError);
  body.resume();
  return detach;
}
