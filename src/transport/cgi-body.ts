// The request body as the CGI-style protocols need it: with its length known up front, because
// FastCGI, uwsgi and SCGI carry CONTENT_LENGTH before the body and uWSGI reads exactly that many
// bytes (a chunked upload without it reaches the app empty, notes/test-peers.md §4). A body whose
// length the client declared is streamed as it arrives. One of unknown length (chunked HTTP/1.1,
// HTTP/2 without content-length) is read whole first, as nginx does: in memory up to a bound, then
// in a temporary file (nginx's client_body_buffer_size / client_body_temp_path). The file is
// unlinked as soon as it is created, so it never outlives the request, even after a crash.
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { UpstreamError } from './types.js';

/** Bytes kept in memory before a body of unknown length goes to a temporary file. */
export const BODY_MEMORY_LIMIT = 1024 * 1024;

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

export interface BodyOptions {
  memoryLimit?: number;
  /** Where the temporary file goes; os.tmpdir() by default ($TMPDIR). */
  tmpDir?: string;
}

/**
 * The body when it needs no reading first (none, or a declared length), else undefined: then
 * prepareBody() reads it. Synchronous, for the common case on the hot path.
 */
export function immediateBody(body: Readable | undefined, declared: number | undefined): PreparedBody | undefined {
  if (!body || declared === 0) {
    body?.resume();
    return NONE;
  }
  if (declared === undefined) return undefined;
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
  const now = immediateBody(body, declared);
  if (now || !body) return now ?? NONE;
  return bufferBody(body, signal, options);
}

async function bufferBody(body: Readable, signal: AbortSignal, options: BodyOptions): Promise<PreparedBody> {
  const limit = options.memoryLimit ?? BODY_MEMORY_LIMIT;
  let chunks: Buffer[] = [];
  let size = 0;
  let file: fs.FileHandle | undefined;
  const onAbort = (): void => {
    body.destroy(new UpstreamError('EBODY', 'request aborted'));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (file) {
        await writeAll(file, chunk);
      } else if (size > limit) {
        file = await openTempFile(options.tmpDir ?? os.tmpdir());
        for (const c of chunks) await writeAll(file, c);
        chunks = [];
        await writeAll(file, chunk);
      } else {
        chunks.push(chunk);
      }
    }
  } catch (err) {
    await file?.close().catch(() => undefined);
    throw err instanceof UpstreamError ? err : new UpstreamError('EBODY', `reading the request body: ${(err as Error).message}`, { cause: err });
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (signal.aborted) {
    await file?.close().catch(() => undefined);
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

function fileBody(file: fs.FileHandle, size: number): PreparedBody {
  let closed = false;
  const stream = file.createReadStream({ start: 0, end: size - 1, autoClose: false, highWaterMark: 64 * 1024 });
  const close = (): void => {
    if (closed) return;
    closed = true;
    stream.destroy();
    file.close().catch(() => undefined);
  };
  stream.once('end', close);
  return { length: size, stream, replayable: false, replay: () => undefined, dispose: close };
}

async function openTempFile(dir: string): Promise<fs.FileHandle> {
  const name = path.join(dir, `gatehouse-body-${crypto.randomBytes(8).toString('hex')}`);
  const file = await fs.open(name, 'wx+', 0o600);
  // Unlinked at once: the open handle keeps the data, and nothing is left behind whatever happens.
  await fs.unlink(name).catch(() => undefined);
  return file;
}

async function writeAll(file: fs.FileHandle, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await file.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}
