// Streaming parser of the response head uWSGI (and most SCGI servers) write: a raw
// `HTTP/x.y NNN reason` status line and header lines, no framing around them (the body runs to the
// end of the connection). As nginx's uwsgi and scgi modules do (ngx_http_uwsgi_process_status_line,
// ngx_http_scgi_process_status_line), a first line that is not a status line is read as a header
// line instead, and the head is then a CGI one (RFC 3875 §6: Status / Location / 200).
// The version is not checked beyond its shape: uWSGI echoes SERVER_PROTOCOL, so it answers an
// HTTP/2 client's request with `HTTP/2.0 200 OK`.
import { STATUS_CODES } from 'node:http';
import {
  cgiHead,
  DEFAULT_MAX_HEAD_BYTES,
  headError,
  HeadLineReader,
  parseHeaderLine,
  type HeadParserOptions,
  type ResponseHead,
} from './response-head.js';

// RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]; the trailing SP is
// often missing in practice ("HTTP/1.1 200"), as ngx_http_parse_status_line also tolerates.
const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: (.*))?$/;

export class HttpResponseHeadParser {
  private readonly maxHeadBytes: number;
  private reader: HeadLineReader;
  private headers: Array<[string, string]> = [];
  private statusLine: { status: number; statusText: string } | undefined;
  private firstLine = true;
  private done = false;

  constructor(options: HeadParserOptions = {}) {
    this.maxHeadBytes = options.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
    this.reader = new HeadLineReader(this.maxHeadBytes);
  }

  /**
   * Feeds response bytes. Returns the final head (an interim 1xx other than 101 is skipped, RFC 9110
   * §15.2) with the bytes after it as `body`, or undefined while more bytes are needed. Throws
   * CgiProtocolError ECGIHEAD on a malformed or over-limit head.
   */
  push(chunk: Buffer): ResponseHead | undefined {
    if (this.done) throw new Error('HttpResponseHeadParser: the head is already complete');
    const rest = this.reader.push(chunk, (line) => this.onLine(line));
    if (rest === undefined) return undefined;
    const head = this.finishHead(rest);
    if (head.status >= 200 || head.status === 101 || !this.statusLine) {
      this.done = true;
      return head;
    }
    this.reset();
    return rest.length > 0 ? this.push(rest) : undefined;
  }

  /** The response ended: throws ECGIHEAD when the head was not complete. */
  finish(): void {
    if (this.done) return;
    throw headError(
      this.reader.untouched && this.firstLine
        ? 'upstream sent no response head'
        : 'upstream response ended before the empty line that ends its head',
    );
  }

  private onLine(line: string): void {
    if (this.firstLine) {
      this.firstLine = false;
      if (line.startsWith('HTTP/')) {
        const m = STATUS_LINE.exec(line);
        if (!m) throw headError(`upstream sent an invalid status line: ${JSON.stringify(line.slice(0, 64))}`);
        const status = Number(m[3]);
        if (status < 100) throw headError(`upstream sent an invalid status ${status}`);
        this.statusLine = { status, statusText: m[4] || (STATUS_CODES[status] ?? '') };
        return;
      }
    }
    this.headers.push(parseHeaderLine(line));
  }

  private finishHead(body: Buffer): ResponseHead {
    if (!this.statusLine) return cgiHead(this.headers, body);
    // With a status line, Status and Location do not decide the status (nginx reads Status only
    // when there was no status line); Status is still dropped, as ngx_http_scgi_hide_headers hides it.
    const headers = this.headers.filter(([name]) => name.toLowerCase() !== 'status');
    // Fields written out rather than `{ ...this.statusLine, headers, body }`: see cgiHead().
    return { status: this.statusLine.status, statusText: this.statusLine.statusText, headers, body };
  }

  private reset(): void {
    this.reader = new HeadLineReader(this.maxHeadBytes);
    this.headers = [];
    this.statusLine = undefined;
    this.firstLine = true;
  }
}
