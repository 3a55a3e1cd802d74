// An Exchange that compresses the response on its way out. Handlers (proxy, static, return) write
// identity bytes and never know; the decision is made when the head is sent (compress-policy.ts).
import type { IncomingHttpHeaders } from 'node:http';
import zlib from 'node:zlib';
import type { Exchange, ResponseHeaders } from '../http/exchange.js';
import type { CompressRules } from '../config/types.js';
import { gzipEligible, gzipRequestOk } from './compress-nginx.js';
import type { Coding } from './compress-negotiate.js';
import { addVary, headerString, mayCompress, weakenEtag } from './compress-policy.js';

const { constants: Z } = zlib;

/**
 * On-the-fly settings, chosen for CPU per byte rather than the last percent: brotli quality 4 is
 * already smaller than gzip, while quality 11 costs 10-25 times its CPU for a few percent more
 * (measured on this repository's README and package-lock.json): 11 is for files compressed once,
 * ahead of time. A 1 MiB window (lgwin 20, not the default 4 MiB) bounds memory per stream.
 * gzip level 5 is Caddy's default, within a percent of level 6.
 */
function encoder(coding: Coding, sizeHint: number | undefined): zlib.BrotliCompress | zlib.Gzip {
  if (coding === 'br') {
    const params: Record<number, number> = {
      [Z.BROTLI_PARAM_QUALITY]: 4,
      [Z.BROTLI_PARAM_LGWIN]: 20,
      [Z.BROTLI_PARAM_MODE]: Z.BROTLI_MODE_TEXT,
    };
    if (sizeHint !== undefined) params[Z.BROTLI_PARAM_SIZE_HINT] = sizeHint;
    return zlib.createBrotliCompress({ params });
  }
  return zlib.createGzip({ level: 5 });
}

function compressSync(coding: Coding, body: Buffer): Buffer {
  if (coding === 'br') {
    return zlib.brotliCompressSync(body, {
      params: { [Z.BROTLI_PARAM_QUALITY]: 4, [Z.BROTLI_PARAM_LGWIN]: 20, [Z.BROTLI_PARAM_SIZE_HINT]: body.length },
    });
  }
  return zlib.gzipSync(body, { level: 5 });
}

/** How long the source must be quiet before what the encoder holds is sent (see flushIdle). */
const IDLE_FLUSH_MS = 10;

export class CompressingExchange implements Exchange {
  private z: zlib.BrotliCompress | zlib.Gzip | undefined;
  /** Bytes went into the encoder since its last flush. */
  private pending = false;
  private idle: NodeJS.Timeout | undefined;
  /** Set by withhold(): the response passes as it is (compress.ts, BREACH). */
  private withheld = false;

  /** `coding` is what the client accepts (compress-negotiate.ts), or undefined for identity. */
  constructor(
    readonly inner: Exchange,
    private readonly coding: Coding | undefined,
    /** A site's `compressRules` (nginx's gzip filter) in place of the built-in choice. */
    private readonly rules?: CompressRules,
  ) {}

  get protocol(): Exchange['protocol'] {
    return this.inner.protocol;
  }
  get method(): string {
    return this.inner.method;
  }
  get rawTarget(): string {
    return this.inner.rawTarget;
  }
  get authority(): string | undefined {
    return this.inner.authority;
  }
  get headers(): IncomingHttpHeaders {
    return this.inner.headers;
  }
  get conn(): Exchange['conn'] {
    return this.inner.conn;
  }
  get body(): Exchange['body'] {
    return this.inner.body;
  }
  get startedAt(): number {
    return this.inner.startedAt;
  }
  get headersSent(): boolean {
    return this.inner.headersSent;
  }
  /** Bytes on the wire, compressed: what nginx logs as $body_bytes_sent. */
  get bytesSent(): number {
    return this.inner.bytesSent;
  }
  get status(): number {
    return this.inner.status;
  }
  get closed(): boolean {
    return this.inner.closed;
  }

  /** The response will be an upstream's answer to a credentialed request: leave it as it is. */
  withhold(): void {
    this.withheld = true;
  }

  respond(status: number, headers: ResponseHeaders, body?: string | Buffer): void {
    const bodiless = this.inner.method === 'HEAD';
    if (this.withheld) {
      this.inner.respond(status, headers, body);
      return;
    }
    const rules = this.rules;
    if (rules) {
      if (!gzipEligible(rules, status, headers, this.inner, body)) {
        this.inner.respond(status, headers, body);
        return;
      }
      if (rules.vary) addVary(headers, 'Accept-Encoding');
      if (this.coding === undefined || !gzipRequestOk(rules, this.inner)) {
        this.inner.respond(status, headers, body);
        return;
      }
    } else {
      if (!mayCompress(status, headers) || (body !== undefined && Buffer.byteLength(body) < 1024)) {
        this.inner.respond(status, headers, body);
        return;
      }
      addVary(headers, 'Accept-Encoding');
      if (this.coding === undefined || bodiless) {
        this.inner.respond(status, headers, body);
        return;
      }
    }
    const length = headerString(headers, 'content-length');
    delete headers['content-length'];
    // The byte ranges of the identity body mean nothing in the compressed one (nginx clears it too).
    delete headers['accept-ranges'];
    headers['content-encoding'] = this.coding;
    weakenEtag(headers);
    if (body !== undefined) {
      this.inner.respond(status, headers, compressSync(this.coding, typeof body === 'string' ? Buffer.from(body) : body));
      return;
    }
    this.inner.respond(status, headers);
    this.startEncoder(length !== undefined ? Number(length) : undefined);
  }

  private startEncoder(sizeHint: number | undefined): void {
    const z = encoder(this.coding!, sizeHint);
    this.z = z;
    z.on('data', (out: Buffer) => {
      if (this.inner.closed) return;
      if (!this.inner.write(out)) {
        z.pause();
        this.inner.onDrain(() => z.resume());
      }
    });
    z.on('error', () => this.inner.abort());
    this.inner.onClose((aborted) => {
      clearTimeout(this.idle);
      if (aborted) z.destroy();
    });
  }

  write(chunk: Buffer): boolean {
    const z = this.z;
    if (z === undefined) return this.inner.write(chunk);
    if (z.destroyed) return true;
    this.pending = true;
    if (this.idle === undefined) this.idle = setTimeout(this.flushIdle, IDLE_FLUSH_MS).unref();
    else this.idle.refresh();
    return z.write(chunk);
  }

  /**
   * Server-sent events and long polls need each chunk the source delivers to reach the client
   * without waiting for more: once the source has been quiet for IDLE_FLUSH_MS, what the encoder
   * holds is flushed (a sync flush costs a few bytes, not the dictionary). A busy stream never
   * goes quiet that long, so it is not flushed chunk by chunk: each flush is one more trip to
   * the zlib thread pool and, for brotli, a metablock boundary that costs ratio.
   */
  private readonly flushIdle = (): void => {
    const z = this.z;
    if (!this.pending || z === undefined || z.destroyed || z.writableEnded) return;
    this.pending = false;
    z.flush(this.coding === 'br' ? Z.BROTLI_OPERATION_FLUSH : Z.Z_SYNC_FLUSH);
  };

  end(trailers?: IncomingHttpHeaders): void {
    const z = this.z;
    if (z === undefined) {
      this.inner.end(trailers);
      return;
    }
    if (z.destroyed) return;
    clearTimeout(this.idle);
    z.once('end', () => {
      if (!this.inner.closed) this.inner.end(trailers);
    });
    z.end();
  }

  onDrain(cb: () => void): void {
    if (this.z === undefined) this.inner.onDrain(cb);
    else this.z.once('drain', cb);
  }

  onClose(cb: (aborted: boolean) => void): void {
    this.inner.onClose(cb);
  }

  abort(): void {
    this.z?.destroy();
    this.inner.abort();
  }
}
