// Streaming FastCGI record parser (FastCGI 1.0 §3.3): bytes in, in any split, records out as soon
// as their content is complete; padding is skipped. It does not interpret records (the transport
// routes STDOUT to the response, STDERR to the log, END_REQUEST to completion), so it accepts every
// type the spec defines, in any order, for any request id.
import { FCGI_HEADER_LEN, FCGI_MAXTYPE, FCGI_VERSION_1, type FcgiRecordType } from './codec.js';
import { CgiProtocolError } from '../cgi/errors.js';

export interface FastCgiRecord {
  type: FcgiRecordType;
  requestId: number;
  /**
   * The record's content without padding. When the whole content sat in one pushed chunk this is
   * a slice of that chunk (no copy), so it shares memory with it.
   */
  content: Buffer;
}

type State = 'header' | 'content' | 'padding';

const EMPTY = Buffer.alloc(0);

export class FastCgiRecordParser {
  private readonly header = Buffer.alloc(FCGI_HEADER_LEN);
  private headerFill = 0;
  private state: State = 'header';
  private type: FcgiRecordType = 1;
  private requestId = 0;
  private contentLength = 0;
  private paddingLength = 0;
  private partial: Buffer | undefined;
  private partialFill = 0;
  private paddingLeft = 0;
  private failed: CgiProtocolError | undefined;

  /** `onRecord` runs synchronously, inside push(), once per complete record. */
  constructor(private readonly onRecord: (record: FastCgiRecord) => void) {}

  /** True between records: the stream may end here. */
  get atBoundary(): boolean {
    return this.state === 'header' && this.headerFill === 0;
  }

  /**
   * Feeds bytes. Throws CgiProtocolError (code EFCGIPROTO) on a bad header; records completed
   * before the bad one have already been delivered. After a throw the parser stays failed.
   */
  push(chunk: Buffer): void {
    if (this.failed) throw this.failed;
    let pos = 0;
    while (pos < chunk.length) {
      switch (this.state) {
        case 'header': {
          const n = Math.min(FCGI_HEADER_LEN - this.headerFill, chunk.length - pos);
          chunk.copy(this.header, this.headerFill, pos, pos + n);
          this.headerFill += n;
          pos += n;
          if (this.headerFill === FCGI_HEADER_LEN) this.startRecord();
          break;
        }
        case 'content': {
          const need = this.contentLength - this.partialFill;
          const avail = chunk.length - pos;
          if (this.partialFill === 0 && avail >= need) {
            this.endContent(chunk.subarray(pos, pos + need));
            pos += need;
            break;
          }
          this.partial ??= Buffer.allocUnsafe(this.contentLength);
          const n = Math.min(need, avail);
          chunk.copy(this.partial, this.partialFill, pos, pos + n);
          this.partialFill += n;
          pos += n;
          if (this.partialFill === this.contentLength) {
            const content = this.partial;
            this.partial = undefined;
            this.partialFill = 0;
            this.endContent(content);
          }
          break;
        }
        case 'padding': {
          const n = Math.min(this.paddingLeft, chunk.length - pos);
          this.paddingLeft -= n;
          pos += n;
          if (this.paddingLeft === 0) this.state = 'header';
          break;
        }
      }
    }
  }

  /** The byte stream ended: throws EFCGIPROTO when it stopped inside a record (header, content or padding). */
  finish(): void {
    if (this.failed) throw this.failed;
    if (this.atBoundary) return;
    const where =
      this.state === 'header'
        ? `after ${this.headerFill} of ${FCGI_HEADER_LEN} header bytes`
        : this.state === 'content'
          ? `after ${this.partialFill} of ${this.contentLength} content bytes of a type ${this.type} record`
          : `inside the padding of a type ${this.type} record`;
    this.fail(`FastCGI stream truncated ${where}`);
  }

  private startRecord(): void {
    const h = this.header;
    this.headerFill = 0;
    if (h[0] !== FCGI_VERSION_1) this.fail(`FastCGI record has version ${h[0]}, expected ${FCGI_VERSION_1}`);
    const type = h[1]!;
    if (type < 1 || type > FCGI_MAXTYPE) this.fail(`FastCGI record has unknown type ${type}`);
    this.type = type as FcgiRecordType;
    this.requestId = h.readUInt16BE(2);
    this.contentLength = h.readUInt16BE(4);
    this.paddingLength = h[6]!;
    if (this.contentLength === 0) this.endContent(EMPTY);
    else this.state = 'content';
  }

  private endContent(content: Buffer): void {
    this.paddingLeft = this.paddingLength;
    this.state = this.paddingLeft > 0 ? 'padding' : 'header';
    this.onRecord({ type: this.type, requestId: this.requestId, content });
  }

  private fail(message: string): never {
    this.failed = new CgiProtocolError('EFCGIPROTO', message);
    throw this.failed;
  }
}
