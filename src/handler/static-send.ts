// Writing a file's bytes to the client: whole, one range (206), or several ranges as
// multipart/byteranges (RFC 9110 §14.6). Small files come from memory, larger ones are streamed
// with back-pressure; a file that shrinks while it is sent breaks the response rather than
// sending fewer bytes than Content-Length promised.
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Exchange, ResponseHeaders } from '../http/exchange.js';
import type { ByteRange } from './static-range.js';
import type { Representation } from './static-files.js';

type Part = Buffer | ByteRange;

export function sendWhole(ex: Exchange, headers: ResponseHeaders, rep: Representation): void {
  if (rep.body) {
    ex.respond(200, headers, rep.body);
    return;
  }
  headers['content-length'] = rep.size;
  ex.respond(200, headers);
  if (ex.method === 'HEAD' || rep.size === 0) ex.end();
  else writeParts(ex, rep, [{ start: 0, end: rep.size - 1 }]);
}

export function sendRange(ex: Exchange, headers: ResponseHeaders, rep: Representation, range: ByteRange): void {
  headers['content-range'] = `bytes ${range.start}-${range.end}/${rep.size}`;
  if (rep.body) {
    ex.respond(206, headers, rep.body.subarray(range.start, range.end + 1));
    return;
  }
  headers['content-length'] = range.end - range.start + 1;
  ex.respond(206, headers);
  writeParts(ex, rep, [range]);
}

/** Each part: CRLF, boundary, its own Content-Type and Content-Range, a blank line, the bytes. */
export function sendMultipart(ex: Exchange, headers: ResponseHeaders, rep: Representation, ranges: ByteRange[], contentType: string): void {
  const boundary = crypto.randomBytes(12).toString('hex');
  const parts: Part[] = [];
  let length = 0;
  for (const r of ranges) {
    const head = Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: bytes ${r.start}-${r.end}/${rep.size}\r\n\r\n`);
    parts.push(head, rep.body ? rep.body.subarray(r.start, r.end + 1) : r);
    length += head.length + r.end - r.start + 1;
  }
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  parts.push(tail);
  length += tail.length;
  headers['content-type'] = `multipart/byteranges; boundary=${boundary}`;
  headers['content-length'] = length;
  ex.respond(206, headers);
  writeParts(ex, rep, parts);
}

function writeParts(ex: Exchange, rep: Representation, parts: Part[]): void {
  let i = 0;
  let stream: fs.ReadStream | undefined;
  ex.onClose((aborted) => {
    if (aborted) stream?.destroy();
  });
  const next = (): void => {
    while (i < parts.length) {
      if (ex.closed) return;
      const part = parts[i++] as Part;
      if (Buffer.isBuffer(part)) {
        if (!ex.write(part)) {
          ex.onDrain(next);
          return;
        }
        continue;
      }
      streamRange(part);
      return;
    }
    ex.end();
  };
  const streamRange = (range: ByteRange): void => {
    const want = range.end - range.start + 1;
    let got = 0;
    const s = fs.createReadStream(rep.file, { start: range.start, end: range.end, highWaterMark: 64 * 1024 });
    stream = s;
    s.on('data', (chunk) => {
      got += chunk.length;
      if (!ex.write(chunk as Buffer)) {
        s.pause();
        ex.onDrain(() => s.resume());
      }
    });
    s.on('end', () => {
      stream = undefined;
      if (got !== want) ex.abort();
      else next();
    });
    s.on('error', () => ex.abort());
  };
  next();
}
