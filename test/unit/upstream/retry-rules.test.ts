// Which failed attempts go to another server (README "Configuration reference" `retries`, nginx proxy_next_upstream
// "error timeout" and its non-idempotent rule), and the body gate that proves a body unread.
import { expect } from 'chai';
import { PassThrough, Readable } from 'node:stream';
import { BodyGate, countsAsServerFailure, mayRetry, type AttemptOutcome } from '../../../src/handler/proxy-retry.js';

const base: AttemptOutcome = { code: 'ECONNECT', method: 'GET', headersSent: false, bodyRead: false, attempts: 1, retries: 1 };

describe('retry rules', () => {
  it('retries a connect failure whatever the method: nothing reached the server', () => {
    for (const method of ['GET', 'POST', 'PATCH']) {
      expect(mayRetry({ ...base, method })).to.equal(true);
      expect(mayRetry({ ...base, method, code: 'ECONNECTTIMEOUT' })).to.equal(true);
    }
  });

  it('retries a reset, timeout or invalid response only on an idempotent method', () => {
    for (const code of ['ERESET', 'ETIMEOUT', 'EPROTO'] as const) {
      expect(mayRetry({ ...base, code, method: 'GET' }), code).to.equal(true);
      expect(mayRetry({ ...base, code, method: 'PUT' }), code).to.equal(true);
      expect(mayRetry({ ...base, code, method: 'POST' }), code).to.equal(false);
      expect(mayRetry({ ...base, code, method: 'PATCH' }), code).to.equal(false);
    }
  });

  it('never retries after the response head went to the client, once the body was read, or past `retries`', () => {
    expect(mayRetry({ ...base, headersSent: true })).to.equal(false);
    expect(mayRetry({ ...base, bodyRead: true })).to.equal(false);
    expect(mayRetry({ ...base, attempts: 2, retries: 1 })).to.equal(false);
    expect(mayRetry({ ...base, retries: 0 })).to.equal(false);
    expect(mayRetry({ ...base, code: 'EBODY' })).to.equal(false);
  });

  it('counts connect errors, resets, timeouts and invalid responses against the server, not body errors', () => {
    expect(['ECONNECT', 'ECONNECTTIMEOUT', 'ERESET', 'ETIMEOUT', 'EPROTO'].every((c) => countsAsServerFailure(c as never))).to.equal(true);
    expect(countsAsServerFailure('EBODY')).to.equal(false);
    expect(countsAsServerFailure('EUNAVAILABLE')).to.equal(false);
  });

  it("neither counts nor retries gatehouse's own failure (EINTERNAL): it says nothing about the server", () => {
    expect(countsAsServerFailure('EINTERNAL')).to.equal(false);
    expect(mayRetry({ ...base, code: 'EINTERNAL' })).to.equal(false);
  });
});

describe('BodyGate', () => {
  it('reads nothing from the client until asked, so a failed attempt leaves the body whole', async () => {
    const client = new PassThrough();
    client.end('hello world');
    const first = new BodyGate(client);
    first.on('error', () => undefined);
    first.destroy(new Error('connect ECONNREFUSED')); // what undici does to a body it never sent
    expect(first.bodyRead).to.equal(false);
    const second = new BodyGate(client);
    const chunks: Buffer[] = [];
    for await (const c of second) chunks.push(c as Buffer);
    expect(second.bodyRead).to.equal(true);
    expect(Buffer.concat(chunks).toString()).to.equal('hello world');
  });

  it('passes a large body through with back-pressure and carries the client error', async () => {
    const total = 4 << 20;
    const gate = new BodyGate(Readable.from((function* () {
      for (let off = 0; off < total; off += 65536) yield Buffer.alloc(65536, 1);
    })()));
    let seen = 0;
    for await (const c of gate) seen += (c as Buffer).length;
    expect(seen).to.equal(total);

    const failing = new PassThrough();
    const g2 = new BodyGate(failing);
    const err = new Promise<Error>((resolve) => g2.on('error', resolve));
    g2.resume();
    failing.destroy(new Error('client reset'));
    expect((await err).message).to.equal('client reset');
  });
});
