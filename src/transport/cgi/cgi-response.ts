// Streaming parser of a CGI response head (RFC 3875 §6): header lines up to an empty line, no
// status line. This is what FastCGI responders write to FCGI_STDOUT (php-fpm sends `Status:` only
// when the status is not 200, and `Content-type` in PHP's spelling). nginx's fastcgi module accepts
// nothing else: an `HTTP/1.1 200 OK` first line is an invalid header there, and here.
// SCGI and uwsgi responses may start with a status line instead; use http-response-head.ts for them.
import {
  cgiHead,
  DEFAULT_MAX_HEAD_BYTES,
  headError,
  HeadLineReader,
  parseHeaderLine,
  type HeadParserOptions,
  type ResponseHead,
} from './response-head.js';

export class CgiResponseParser {
  private readonly reader: HeadLineReader;
  private readonly headers: Array<[string, string]> = [];
  private done = false;

  constructor(options: HeadParserOptions = {}) {
    this.reader = new HeadLineReader(options.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES);
  }

  /**
   * Feeds response bytes (e.g. FCGI_STDOUT content). Returns the head once its empty line has
   * arrived, with the bytes after it as `body`; undefined while more bytes are needed. Throws
   * CgiProtocolError ECGIHEAD on a malformed or over-limit head. Body bytes that arrive after the
   * head go straight to the response, not here.
   */
  push(chunk: Buffer): ResponseHead | undefined {
    if (this.done) throw new Error('CgiResponseParser: the head is already complete');
    const rest = this.reader.push(chunk, (line) => this.headers.push(parseHeaderLine(line)));
    if (rest === undefined) return undefined;
    this.done = true;
    return cgiHead(this.headers, rest);
  }

  /** The response ended: throws ECGIHEAD when the head was not complete. */
  finish(): void {
    if (this.done) return;
    throw headError(
      this.reader.untouched
        ? 'upstream sent no response head'
        : 'upstream response ended before the empty line that ends its head',
    );
  }
}
