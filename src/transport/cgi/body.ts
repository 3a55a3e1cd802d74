// The request body as the CGI-style protocols need it: with its length known up front, because
// FastCGI, uwsgi and SCGI carry CONTENT_LENGTH before the body and uWSGI reads exactly that many
// bytes (a chunked upload without it reaches the app empty, docs/php-and-python.md). By default
// every body is read whole before a backend connection is taken (nginx's *_request_buffering on),
// so a client that sends slowly costs a socket, never a php-fpm worker; with buffering off a body
// whose length the client declared is streamed as it arrives. A body of unknown length (chunked
// HTTP/1.1, HTTP/2 without content-length) is always read whole first.
//
// Reading whole: in memory up to a bound (nginx's client_body_buffer_size, 16k), then in a
// temporary file (client_body_temp_path) of at most `fileLimit` bytes (413 past it), all such
// files together at most `totalLimit` (507). The file is unlinked as soon as it is created, so it
// never outlives the request; its name carries the pid, so one left by a crash between the open
// and the unlink is removed at the next start (removeStaleBodies).
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { UpstreamError } from '../types.js';
import type { BodyOptions } from './options.js';

/** Bytes kept in memory before a body read whole goes to a temporary file, unless told otherwise. */
export const BODY_MEMORY_LIMIT = 16 * 1024;
const TEMP_PREFIX = 'gatehouse-body-';

/**
 * A body gatehouse will not hold: 413 when it is over the per-request cap, 507 (RFC 4918 §11.5)
 * when the temporary files of all requests together would pass theirs.
 */
export class BodyRefused extends UpstreamError {
  constructor(
    readonly status: 413 | 507,
    message: string,
  ) {
    super('EBODY', message);
  }
}

/** Bytes in temporary body files of this process, against `totalLimit`. */
let tempBytes = 0;

/** For tests and /status: the bytes the open temporary body files hold. */
export function tempBodyBytes(): number {
  return tempBytes;
}

export interface PreparedBody {
  length: number;
  /** The bytes to send, exactly `length` of them; undefined when there are none. */
  stream: Readable | undefined;
  /** True when the body can be sent again (no body, or held in memory). */
  replayable: boolean;
  /** A fresh stream over the same bytes, for a replayable body. */
  replay(): Readable | undefined;
  /** Stops reading and releases what the body holds (the temp file). Safe to call twice. */
  dispose(): void;
}

const NONE: PreparedBody = {
  length: 0,
  stream: undefined,
  replayable: true,
  replay: () => undefined,
  dispose: () => undefined,
};

/**
 * The body when it needs no reading first (none, or a declared length that may stream), else
 * undefined: then prepareBody() reads it. Synchronous, for the common case on the hot path.
 */
export function immediateBody(body: Readable | undefined, declared: number | undefined, whole = false): PreparedBody | undefined {
  if (!body || declared === 0) {
    body?.resume();
    return NONE;
  }
  if (declared === undefined || whole) return undefined;
  return {
    length: declared,
    stream: body,
    replayable: false,
    replay: () => undefined,
    dispose: () => {
      // Whatever the upstream did not take is read and dropped (nginx discards it too), so an
      // HTTP/1.1 client connection stays usable.
      body.removeAllListeners('data');
      body.on('error', () => undefined);
      body.resume();
    },
  };
}

export async function prepareBody(
  body: Readable | undefined,
  declared: number | undefined,
  signal: AbortSignal,
  options: BodyOptions = {},
): Promise<PreparedBody> {
  const now = immediateBody(body, declared, options.whole);
  if (now || !body) return now ?? NONE;
  return bufferBody(body, declared, signal, options);
}

/** The bytes a temporary file holds, counted against the process-wide cap until released. */
class TempFile {
  size = 0;
  private released = false;

  private constructor(readonly handle: fs.FileHandle) {}

  static async open(dir: string): Promise<TempFile> {
    const name = path.join(dir, `${TEMP_PREFIX}${process.pid}-${crypto.randomBytes(8).toString('hex')}`);
    const handle = await fs.open(name, 'wx+', 0o600);
    // Unlinked at once: the open handle keeps the data, and nothing is left behind whatever happens.
    await fs.unlink(name).catch(() => undefined);
    return new TempFile(handle);
  }

  async write(chunk: Buffer, options: BodyOptions): Promise<void> {
    const fileLimit = options.fileLimit ?? Infinity;
    if (this.size + chunk.length > fileLimit) {
      throw new BodyRefused(413, `request body over the ${fileLimit}-byte limit of a temporary body file (bodyBuffer.tempMax)`);
    }
    const totalLimit = options.totalLimit ?? Infinity;
    if (tempBytes + chunk.length > totalLimit) {
      throw new BodyRefused(507, `temporary body files would pass bodyBuffer.tempTotal (${totalLimit} bytes)`);
    }
    tempBytes += chunk.length;
    this.size += chunk.length;
    await writeAll(this.handle, chunk);
  }

  close(): void {
    if (this.released) return;
    this.released = true;
    tempBytes -= this.size;
    this.handle.close().catch(() => undefined);
  }
}

async function bufferBody(body: Readable, declared: number | undefined, signal: AbortSignal, options: BodyOptions): Promise<PreparedBody> {
  const limit = options.memoryLimit ?? BODY_MEMORY_LIMIT;
  let chunks: Buffer[] = [];
  let size = 0;
  let file: TempFile | undefined;
  const onAbort = (): void => {
    body.destroy(new UpstreamError('EBODY', 'request aborted'));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    // A declared length over the file cap is refused before anything is written.
    if (declared !== undefined && declared > limit && declared > (options.fileLimit ?? Infinity)) {
      throw new BodyRefused(413, `request body of ${declared} bytes is over the ${options.fileLimit}-byte limit of a temporary body file (bodyBuffer.tempMax)`);
    }
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (file) {
        await file.write(chunk, options);
      } else if (size > limit) {
        file = await TempFile.open(options.tmpDir ?? os.tmpdir());
        for (const c of chunks) await file.write(c, options);
        chunks = [];
        await file.write(chunk, options);
      } else {
        chunks.push(chunk);
      }
    }
  } catch (err) {
    file?.close();
    body.destroy();
    throw err instanceof UpstreamError ? err : new UpstreamError('EBODY', `reading the request body: ${(err as Error).message}`, { cause: err });
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (signal.aborted) {
    file?.close();
    throw new UpstreamError('EBODY', 'request aborted');
  }
  if (size === 0) return NONE;
  if (file) return fileBody(file, size);
  const whole = Buffer.concat(chunks, size);
  return {
    length: size,
    stream: Readable.from([whole]),
    replayable: true,
    replay: () => Readable.from([whole]),
    dispose: () => undefined,
  };
}

function fileBody(file: TempFile, size: number): PreparedBody {
  let closed = false;
  const stream = file.handle.createReadStream({ start: 0, end: size - 1, autoClose: false, highWaterMark: 64 * 1024 });
  const close = (): void => {
    if (closed) return;
    closed = true;
    stream.destroy();
    file.close();
  };
  stream.once('end', close);
  stream.once('close', close);
  return { length: size, stream, replayable: false, replay: () => undefined, dispose: close };
}

/**
 * Removes temporary body files that a process which no longer runs left behind: it crashed between
 * creating one and unlinking it, the only moment a body file has a name. Returns how many went.
 */
export async function removeStaleBodies(dir = os.tmpdir()): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = new RegExp(`^${TEMP_PREFIX}(\\d+)-[0-9a-f]{16}$`).exec(name);
    if (!m || processRuns(Number(m[1]))) continue;
    await fs.unlink(path.join(dir, name)).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function writeAll(file: fs.FileHandle, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await file.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}
