// The answer to a request Node's HTTP/1.1 parser rejected, written so that the client reads it.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

const noop = (): void => undefined;

/**
 * A request Node's parser rejected: answer (431 for headers over the limit, 408 for a slow one,
 * else 400), then keep reading and discarding for a moment before closing. Closing at once while
 * the client is still sending makes the kernel answer with RST, which can destroy the response in
 * flight (nginx's lingering_close does the same).
 *
 * Node parses pipelined requests as they arrive, so the bad one can surface while the response to an
 * earlier, valid one is still being written. nginx would read the bad request only after that
 * response; so do we: the error answer waits for every response in flight, and is never written
 * into the middle of one. When the bad bytes are the body of the request being answered, that answer
 * can never come: 400 at once, or a cut connection if its response has started.
 */
export function lingeringError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  socket.on('error', noop);
  socket.on('data', noop);
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const answer = (): void => {
    if (socket.destroyed || !socket.writable) return;
    // Node sets _httpMessage to the response being written, then to the next queued one.
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (inFlight && !inFlight.writableFinished) {
      if (inFlight.req.complete) {
        inFlight.once('finish', () => setImmediate(answer));
        return;
      }
      // The bad bytes are this request's own body (a malformed chunk): it can never be answered.
      if (inFlight.headersSent) {
        socket.destroy();
        return;
      }
    }
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    setTimeout(() => socket.destroy(), 2000).unref();
  };
  answer();
}
