// An HTTP/1.1 request with `Connection: upgrade` (WebSocket): Node hands over the raw socket, so
// responses that are not a successful upgrade are written by hand, and the connection then closes:
// gatehouse frames nothing else on that socket (no keep-alive, no second request).
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { ClientTimeouts } from '../config/types.js';
import { BodyProgress, guardOf } from './connection-guard.js';
import { ClientBodyTimeout } from './exchange-parts.js';
import { duplicateUniqueHeader, requestAuthority } from './h1-exchange.js';
import type { IncomingHttpHeaders as UpstreamHeaders } from 'node:http';
import type { ConnectionInfo, Exchange, ResponseHeaders, Tunnel, TunnelHandshake } from '../http/exchange.js';
import { TunnelIdle } from './tunnel-idle.js';
import { UpgradeBody } from './upgrade-body.js';

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

/**
 * After the response: what the client still sends is read and dropped for this long before the
 * socket is destroyed. Closing with unread bytes makes the kernel answer RST, which can destroy the
 * response in flight (nginx's lingering_close).
 */
const LINGER_MS = 2000;
const noop = (): void => undefined;

export class UpgradeExchange implements Exchange, Tunnel {
  readonly protocol = 'HTTP/1.1' as const;
  readonly method: string;
  readonly rawTarget: string;
  readonly authority: string | undefined;
  readonly malformed: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /**
   * Set when the request declares a Content-Length over 0. Such a request is never tunnelled (see
   * proxy.ts): its body is served to the route like any other request body.
   */
  readonly body: Readable | undefined;
  readonly startedAt = performance.now();
  /** The protocol the client asked to switch to (e.g. `websocket`). */
  readonly upgradeProtocol: string;
  readonly tunnel: Tunnel = this;
  readonly required = false;
  readonly rawHead = true;
  bytesSent = 0;
  status = 0;
  sentHeaders: ResponseHeaders | undefined = undefined;
  headBytes = 0;
  closed = false;
  headersSent = false;
  private timeouts: ClientTimeouts | undefined;
  private lingering = false;

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
    this.malformed = duplicateUniqueHeader(req.rawHeaders);
    this.upgradeProtocol = String(req.headers.upgrade ?? '');
    // Node's parser left a chunked body undecoded on the socket. nginx decodes it; gatehouse does not
    // parse chunks by hand on this path: 400 and close (RFC 9112 §6.1 lets a server refuse it).
    if (req.headers['transfer-encoding'] !== undefined) this.malformed ??= 'Transfer-Encoding on an Upgrade request';
    const length = Number(req.headers['content-length'] ?? 0);
    this.body = length > 0 && this.malformed === undefined ? new UpgradeBody(socket, head, length, () => this.startBody(req)) : undefined;
  }

  get upgradeTo(): string {
    return this.upgradeProtocol.toLowerCase();
  }

  /** A request with a body is never tunnelled: the body is on the socket in front of whatever the
   * new protocol would send, and a WebSocket handshake has none (RFC 6455 §4.1: a GET). */
  get possible(): boolean {
    return this.body === undefined;
  }

  prepare(req: TunnelHandshake): void {
    req.upgrade = this.upgradeProtocol;
  }

  /** After a 101 from the upstream both sides are plain byte streams (RFC 9110 §7.8). */
  bridge(status: number, _upstreamHeaders: UpstreamHeaders, headers: ResponseHeaders, upstream: Duplex, idleMs: number): boolean {
    if (this.closed) {
      upstream.destroy();
      return true;
    }
    this.status = status;
    this.headersSent = true;
    this.sentHeaders = headers;
    const client = this.socket;
    const head = rawHead(status, headers);
    this.headBytes = Buffer.byteLength(head, 'latin1');
    client.write(head);
    if (this.head.length > 0) upstream.write(this.head);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', close);
    client.on('error', close);
    upstream.on('close', close);
    client.on('close', close);
    upstream.pipe(client);
    client.pipe(upstream);
    // send_timeout needs nothing here: the guard watches the client socket's unsent bytes, and a
    // client that stops reading stalls them (pipe() stops the upstream meanwhile).
    guardOf(client)?.watch(new TunnelIdle([client, upstream], idleMs, close));
    return true;
  }

  useTimeouts(timeouts: ClientTimeouts): void {
    this.timeouts = timeouts;
  }

  /** At the first read of the body: 100-continue (RFC 9110 §10.1.1) and client_body_timeout. */
  private startBody(req: IncomingMessage): void {
    if (!this.headersSent && req.headers.expect?.toLowerCase() === '100-continue') this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    const guard = guardOf(this.socket);
    const timeouts = this.timeouts ?? guard?.timeouts;
    const body = this.body;
    if (!guard || !timeouts || !body) return;
    const progress = new BodyProgress(this.socket as Readable, timeouts.bodyMs, () => this.bodyTimedOut());
    body.once('end', progress.stop);
    body.once('close', progress.stop);
    guard.watch(progress);
  }

  /** client_body_timeout: 408 (the connection closes anyway), and the body's reader fails. */
  private bodyTimedOut(): void {
    this.body?.destroy(new ClientBodyTimeout());
    if (!this.headersSent && !this.closed) this.respond(408, { 'content-type': 'text/plain; charset=utf-8' }, '408 Request Timeout\n');
  }

  /** Once the response is out: drop what else the client sends, then close (see LINGER_MS). */
  private linger(): void {
    if (this.lingering) return;
    this.lingering = true;
    const socket = this.socket;
    if (this.body && !this.body.readableEnded) this.body.destroy();
    socket.on('data', noop);
    socket.resume();
    socket.once('finish', () => setTimeout(() => socket.destroy(), LINGER_MS).unref());
  }

  respond(status: number, headers: ResponseHeaders, body?: string | Buffer): void {
    const buf = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
    if (buf) headers['content-length'] = buf.length;
    if (status !== 101) headers.connection = 'close';
    // Built before anything is marked sent: when it throws, the caller can still answer 502/500.
    const head = rawHead(status, headers);
    this.status = status;
    this.headersSent = true;
    this.sentHeaders = headers;
    this.headBytes = Buffer.byteLength(head, 'latin1');
    this.socket.write(head);
    if (buf) {
      this.bytesSent += buf.length;
      this.socket.end(buf);
      this.linger();
    }
  }

  write(chunk: Buffer): boolean {
    this.bytesSent += chunk.length;
    return this.socket.write(chunk);
  }

  end(): void {
    this.socket.end();
    this.linger();
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
    if (!this.socket.writableEnded) this.socket.destroy();
  }
}
