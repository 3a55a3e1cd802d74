// An HTTP/1.1 request with `Connection: upgrade` (WebSocket): Node hands over the raw socket, so
// responses that are not a successful upgrade are written by hand, and the connection then closes.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { duplicateHost, requestAuthority, type ConnectionInfo, type Exchange, type ResponseHeaders } from './exchange.js';

/** CR, LF or NUL: in a field they would end it early and start another (RFC 9110 §5.5). */
const BREAKS_FIELD = /[\r\n\0]/;

/**
 * The response head, written by hand. Throws a TypeError for CR, LF or NUL in a name or value,
 * as Node's writeHead does on the normal path (ERR_INVALID_CHAR), so callers answer the same way:
 * the proxy's upstream error path gives 502, a handler's throw gives 500. A value from a variable
 * (`$uri`, a capture) must never be able to add a header line (response splitting, review F8).
 */
export function rawHead(status: number, headers: ResponseHeaders | IncomingHttpHeaders, statusText?: string): string {
  let head = `HTTP/1.1 ${status} ${statusText || STATUS_CODES[status] || 'Unknown'}\r\n`;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (BREAKS_FIELD.test(name)) throw new TypeError(`invalid character in header name ${JSON.stringify(name)}`);
    for (const v of Array.isArray(value) ? value : [value]) {
      const text = String(v);
      if (BREAKS_FIELD.test(text)) throw new TypeError(`invalid character in header "${name}"`);
      head += `${name}: ${text}\r\n`;
    }
  }
  return `${head}\r\n`;
}

export class UpgradeExchange implements Exchange {
  readonly protocol = 'HTTP/1.1' as const;
  readonly method: string;
  readonly rawTarget: string;
  readonly authority: string | undefined;
  readonly malformed: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body = undefined;
  readonly startedAt = performance.now();
  /** The protocol the client asked to switch to (e.g. `websocket`). */
  readonly upgradeProtocol: string;
  bytesSent = 0;
  status = 0;
  closed = false;
  headersSent = false;

  constructor(
    req: IncomingMessage,
    readonly socket: Duplex,
    readonly head: Buffer,
    readonly conn: ConnectionInfo,
  ) {
    this.method = req.method ?? 'GET';
    this.rawTarget = req.url ?? '/';
    this.headers = req.headers;
    this.authority = requestAuthority(req);
    this.malformed = duplicateHost(req.rawHeaders);
    this.upgradeProtocol = String(req.headers.upgrade ?? '');
  }

  respond(status: number, headers: ResponseHeaders, body?: string | Buffer): void {
    const buf = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
    if (buf) headers['content-length'] = buf.length;
    if (status !== 101) headers.connection = 'close';
    // Built before anything is marked sent: when it throws, the caller can still answer 502/500.
    const head = rawHead(status, headers);
    this.status = status;
    this.headersSent = true;
    this.socket.write(head);
    if (buf) {
      this.bytesSent += buf.length;
      this.socket.end(buf);
    }
  }

  write(chunk: Buffer): boolean {
    this.bytesSent += chunk.length;
    return this.socket.write(chunk);
  }

  end(): void {
    this.socket.end();
  }

  onDrain(cb: () => void): void {
    this.socket.once('drain', cb);
  }

  onClose(cb: (aborted: boolean) => void): void {
    this.socket.once('close', () => {
      const aborted = !this.closed && this.status === 0;
      this.closed = true;
      cb(aborted);
    });
  }

  abort(): void {
    this.socket.destroy();
  }
}
