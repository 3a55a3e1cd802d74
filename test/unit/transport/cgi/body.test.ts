// Request bodies for FastCGI/uwsgi/SCGI: a declared length streams through, an unknown one is read
// whole first — in memory, or past the bound in a temp file that is unlinked at once.
import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { prepareBody } from '../../../../src/transport/cgi/body.js';
import { UpstreamError } from '../../../../src/transport/types.js';

async function readAll(stream: Readable | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  if (stream) for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('prepareBody', () => {
  let tmpDir: string;
  beforeEach(() => {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-body-'));
  });
  afterEach(() => fs.rmSync(tmpDir, { recursive: true, force: true }));

  it('has length 0 and no stream without a body, or with a declared length of 0', async () => {
    for (const [body, declared] of [[undefined, undefined], [Readable.from([]), 0]] as const) {
      const b = await prepareBody(body, declared, new AbortController().signal);
      expect(b.length).to.equal(0);
      expect(b.stream).to.equal(undefined);
    }
  });

  it('passes a body of declared length through untouched, without reading it', async () => {
    const body = new PassThrough();
    const b = await prepareBody(body, 5, new AbortController().signal);
    expect(b.length).to.equal(5);
    expect(b.stream).to.equal(body);
    expect(b.replayable).to.equal(false);
  });

  it('reads a small body of unknown length into memory, and can replay it', async () => {
    const b = await prepareBody(Readable.from([Buffer.from('abc'), Buffer.from('de')]), undefined, new AbortController().signal, { tmpDir });
    expect(b.length).to.equal(5);
    expect((await readAll(b.stream)).toString()).to.equal('abcde');
    expect(b.replayable).to.equal(true);
    expect((await readAll(b.replay())).toString()).to.equal('abcde');
    expect(fs.readdirSync(tmpDir)).to.deep.equal([]);
  });

  it('moves a body of unknown length over the bound to a temp file that is already unlinked', async () => {
    const parts = Array.from({ length: 10 }, () => crypto.randomBytes(1000));
    const b = await prepareBody(Readable.from(parts), undefined, new AbortController().signal, { tmpDir, memoryLimit: 4096 });
    expect(b.length).to.equal(10_000);
    expect(fs.readdirSync(tmpDir), 'unlinked while open').to.deep.equal([]);
    expect((await readAll(b.stream)).equals(Buffer.concat(parts))).to.equal(true);
    expect(b.replayable).to.equal(false);
    b.dispose();
    b.dispose();
  });

  it('fails with EBODY when the client goes away while the body is read', async () => {
    const body = new PassThrough();
    const ac = new AbortController();
    const pending = prepareBody(body, undefined, ac.signal, { tmpDir });
    body.write('partial');
    setImmediate(() => ac.abort());
    const err = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(UpstreamError);
    expect((err as UpstreamError).code).to.equal('EBODY');
  });

  it('passes an EBODY error from the body (maxBody) on as it is', async () => {
    const body = new PassThrough();
    const pending = prepareBody(body, undefined, new AbortController().signal, { tmpDir });
    body.destroy(new UpstreamError('EBODY', 'request body over maxBody'));
    const err = (await pending.catch((e: unknown) => e)) as UpstreamError;
    expect(err.message).to.equal('request body over maxBody');
  });
});
