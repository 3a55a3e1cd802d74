import { expect } from 'chai';
import type { IncomingHttpHeaders } from 'node:http';
import zlib from 'node:zlib';
import type { Exchange, ResponseHeaders } from '../../../src/http/exchange.js';
import { CompressingExchange } from '../../../src/middleware/compress-exchange.js';

/** An Exchange that records what reaches the wire, with a switch for client back-pressure. */
class WireExchange {
  readonly protocol = 'HTTP/2.0' as const;
  readonly rawTarget = '/';
  readonly authority = 'x.test';
  readonly headers: IncomingHttpHeaders = {};
  readonly conn = {} as Exchange['conn'];
  readonly body = undefined;
  readonly startedAt = 0;
  headersSent = false;
  bytesSent = 0;
  status = 0;
  closed = false;
  head: ResponseHeaders | undefined;
  chunks: Buffer[] = [];
  ended = false;
  trailers: IncomingHttpHeaders | undefined;
  full = false;
  private drainers: Array<() => void> = [];
  private closers: Array<(aborted: boolean) => void> = [];
  aborted = false;
  constructor(readonly method = 'GET') {}
  respond(status: number, headers: ResponseHeaders, body?: string | Buffer): void {
    this.status = status;
    this.head = headers;
    this.headersSent = true;
    if (body !== undefined) {
      this.chunks.push(Buffer.from(body));
      this.ended = true;
    }
  }
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.bytesSent += chunk.length;
    return !this.full;
  }
  end(trailers?: IncomingHttpHeaders): void {
    this.ended = true;
    this.trailers = trailers;
  }
  onDrain(cb: () => void): void {
    this.drainers.push(cb);
  }
  onClose(cb: (aborted: boolean) => void): void {
    this.closers.push(cb);
  }
  abort(): void {
    this.aborted = true;
  }
  drain(): void {
    this.full = false;
    for (const cb of this.drainers.splice(0)) cb();
  }
  get wire(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await tick(5);
  expect(cond()).to.equal(true);
};
const textBody = (n: number) => Buffer.from('abcdefghij'.repeat(Math.ceil(n / 10)).slice(0, n));

describe('CompressingExchange', () => {
  it('compresses a streamed body: no Content-Length, Content-Encoding, Vary, weak ETag, trailers untouched', async () => {
    const wire = new WireExchange();
    const ex = new CompressingExchange(wire as unknown as Exchange, 'gzip');
    ex.respond(200, { 'content-type': 'text/plain', 'content-length': 20_000, etag: '"x"', 'accept-ranges': 'bytes' });
    expect(wire.head).to.deep.include({ 'content-encoding': 'gzip', vary: 'Accept-Encoding', etag: 'W/"x"' });
    expect(wire.head).to.not.have.property('content-length');
    expect(wire.head).to.not.have.property('accept-ranges');
    ex.write(textBody(10_000));
    ex.write(textBody(10_000));
    ex.end({ 'x-checksum': 'abc' });
    await until(() => wire.ended);
    expect(zlib.gunzipSync(wire.wire).equals(Buffer.concat([textBody(10_000), textBody(10_000)]))).to.equal(true);
    expect(wire.trailers).to.deep.equal({ 'x-checksum': 'abc' });
  });

  it('a whole body given to respond() is compressed at once', () => {
    const wire = new WireExchange();
    const ex = new CompressingExchange(wire as unknown as Exchange, 'br');
    ex.respond(200, { 'content-type': 'application/json' }, textBody(5000));
    expect(wire.head?.['content-encoding']).to.equal('br');
    expect(zlib.brotliDecompressSync(wire.wire).equals(textBody(5000))).to.equal(true);
  });

  it('a client that takes no coding gets identity, still with Vary', () => {
    const wire = new WireExchange();
    const ex = new CompressingExchange(wire as unknown as Exchange, undefined);
    ex.respond(200, { 'content-type': 'text/html' });
    ex.write(textBody(3000));
    expect(wire.head).to.deep.equal({ 'content-type': 'text/html', vary: 'Accept-Encoding' });
    expect(wire.wire.equals(textBody(3000))).to.equal(true);
  });

  it('HEAD keeps the identity head', () => {
    const wire = new WireExchange('HEAD');
    const ex = new CompressingExchange(wire as unknown as Exchange, 'gzip');
    ex.respond(200, { 'content-type': 'text/html', 'content-length': 5000 });
    expect(wire.head).to.deep.equal({ 'content-type': 'text/html', 'content-length': 5000, vary: 'Accept-Encoding' });
  });

  it('flushes what it holds once the source is idle, without waiting for more', async () => {
    const wire = new WireExchange();
    const ex = new CompressingExchange(wire as unknown as Exchange, 'br');
    ex.respond(200, { 'content-type': 'text/event-stream' });
    ex.write(Buffer.from('data: one\n\n'));
    await until(() => wire.chunks.length > 0);
    const got = zlib.brotliDecompressSync(wire.wire, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
    expect(got.toString()).to.equal('data: one\n\n');
    expect(wire.ended).to.equal(false);
  });

  it('passes back-pressure through: a client that stops reading stops the source', async () => {
    const wire = new WireExchange();
    const ex = new CompressingExchange(wire as unknown as Exchange, 'gzip');
    ex.respond(200, { 'content-type': 'text/plain' });
    wire.full = true;
    // Random text, so the encoder's output keeps coming and the client's buffer stays full.
    let accepted = 0;
    let ok = true;
    for (let i = 0; i < 100 && ok; i++) {
      ok = ex.write(Buffer.from(Array.from({ length: 64 * 1024 }, () => Math.floor(Math.random() * 256))));
      accepted += 1;
      if (ok) await tick();
    }
    expect(ok, 'write() said stop').to.equal(false);
    expect(accepted).to.be.below(100);
    let drained = false;
    ex.onDrain(() => (drained = true));
    await tick(50);
    expect(drained).to.equal(false);
    wire.drain();
    await until(() => drained);
  });

  it('leaves non-compressible responses alone', () => {
    const wire = new WireExchange();
    const ex = new CompressingExchange(wire as unknown as Exchange, 'gzip');
    ex.respond(200, { 'content-type': 'application/grpc' });
    ex.write(Buffer.from('frame'));
    ex.end({ 'grpc-status': '0' });
    expect(wire.head).to.deep.equal({ 'content-type': 'application/grpc' });
    expect(wire.wire.toString()).to.equal('frame');
    expect(wire.trailers).to.deep.equal({ 'grpc-status': '0' });
  });

  it('abort() tears down the encoder and the exchange', () => {
    const wire = new WireExchange();
    const ex = new CompressingExchange(wire as unknown as Exchange, 'gzip');
    ex.respond(200, { 'content-type': 'text/plain' });
    ex.write(textBody(2000));
    ex.abort();
    expect(wire.aborted).to.equal(true);
    expect(ex.write(textBody(10))).to.equal(true);
  });
});
