// What the HTTP/1.x and HTTP/2 exchanges share: their close callbacks, the slicing of bodies given
// whole, the client body timeout's error, and the hook on a body's first read.
import type { Readable } from 'node:stream';

export type CloseCallback = (aborted: boolean) => void;

/**
 * An exchange keeps its onClose callbacks itself behind one 'close' listener: a listener per
 * callback (once() wraps each in a bound function) was measurable per request at 1 KiB.
 */
export function addCloseCallback(list: CloseCallback[] | undefined, cb: CloseCallback): CloseCallback[] {
  if (list === undefined) return [cb];
  list.push(cb);
  return list;
}

export function runCloseCallbacks(list: CloseCallback[] | undefined, aborted: boolean): void {
  if (list !== undefined) for (const cb of list) cb(aborted);
}

export const noop = (): void => undefined;

/**
 * A body given whole (an error page, a cached response) goes to the socket in slices of this size:
 * send_timeout counts a completed write as progress, and one large write completes only when the
 * client has taken all of it.
 */
export const RESPOND_SLICE = 64 * 1024;

/** The reader of a request body gets this when client_body_timeout ran out (the client was answered 408). */
export class ClientBodyTimeout extends Error {
  readonly code = 'ECLIENTBODYTIMEOUT';
  constructor() {
    super('client timed out sending the request body');
  }
}

export const TIMED_OUT_BODY = '408 Request Timeout\n';

export function writeSliced(write: (chunk: Buffer) => unknown, buf: Buffer): void {
  for (let off = 0; off < buf.length; off += RESPOND_SLICE) write(buf.subarray(off, off + RESPOND_SLICE));
}

/** Runs `fn` once, just before a consumer first reads `stream` (undici's read(0) at dispatch counts). */
export function beforeFirstRead(stream: Readable, fn: () => void): void {
  const read = stream._read;
  stream._read = (size: number): void => {
    stream._read = read;
    fn();
    read.call(stream, size);
  };
}
