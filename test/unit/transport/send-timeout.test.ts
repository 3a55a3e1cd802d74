// The send-timeout watchdog against a fake consumer that behaves like undici's writeStream: it takes
// chunks in flowing mode and pauses the body when its socket would not take more, resuming on drain.
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { SendWatchdog } from '../../../src/transport/send-timeout.js';
import { UpstreamError } from '../../../src/transport/types.js';

const MS = 80;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface FakeConsumer {
  /** The socket is full: the next chunk makes it pause the body. */
  block(): void;
  /** The socket drained: take chunks again. */
  drain(): void;
  received: number;
}

function consume(body: PassThrough): FakeConsumer {
  let blocked = false;
  const c: FakeConsumer = {
    received: 0,
    block: () => {
      blocked = true;
    },
    drain: () => {
      blocked = false;
      body.resume();
    },
  };
  body.on('data', (chunk: Buffer) => {
    c.received += chunk.length;
    if (blocked) body.pause();
  });
  return c;
}

function watch(body: PassThrough): { dog: SendWatchdog; fired: UpstreamError[] } {
  const fired: UpstreamError[] = [];
  const dog = new SendWatchdog(body, MS, (err) => fired.push(err));
  return { dog, fired };
}

describe('SendWatchdog (timeouts.send)', () => {
  it('fires ETIMEOUT once the consumer has taken nothing for the limit', async () => {
    const body = new PassThrough();
    const { dog, fired } = watch(body);
    const c = consume(body);
    c.block();
    const started = performance.now();
    body.write(Buffer.alloc(1024));
    body.write(Buffer.alloc(1024));
    await sleep(MS / 2);
    expect(fired).to.have.length(0);
    expect(dog.armed).to.equal(true);
    while (fired.length === 0 && performance.now() - started < MS * 10) await sleep(5);
    expect(fired).to.have.length(1);
    expect(performance.now() - started).to.be.at.least(MS - 1);
    expect(fired[0]).to.be.instanceOf(UpstreamError);
    expect(fired[0]?.code).to.equal('ETIMEOUT');
    expect(fired[0]?.message).to.match(/send timed out/);
    expect(dog.armed).to.equal(false);
    await sleep(MS * 2);
    expect(fired, 'fires once').to.have.length(1);
    body.destroy();
  });

  it('is per wait, not for the whole body: each consumption re-arms it', async () => {
    const body = new PassThrough();
    const { dog, fired } = watch(body);
    const c = consume(body);
    const started = performance.now();
    // A slow server: blocked for 60% of the limit at a time, 6 times over (well past the limit in total).
    for (let i = 0; i < 6; i++) {
      c.block();
      body.write(Buffer.alloc(512));
      body.write(Buffer.alloc(512));
      await sleep(MS * 0.6);
      c.drain();
      await sleep(5);
    }
    expect(performance.now() - started).to.be.greaterThan(MS * 3);
    expect(fired).to.have.length(0);
    // ...and a wait that then lasts the limit still fires.
    c.block();
    body.write(Buffer.alloc(512));
    await sleep(MS * 2);
    expect(fired).to.have.length(1);
    expect(c.received).to.equal(6 * 1024 + 512);
    dog.stop();
    body.destroy();
  });

  it('does not fire while the producer is the slow side (nothing is waiting)', async () => {
    const body = new PassThrough();
    const { dog, fired } = watch(body);
    consume(body);
    body.write(Buffer.alloc(100));
    await sleep(MS * 3);
    expect(dog.armed).to.equal(false);
    body.end(Buffer.alloc(100));
    await sleep(10);
    expect(fired).to.have.length(0);
    dog.stop();
  });

  it('is cleared when the body ends, and when the call stops it', async () => {
    const ended = new PassThrough();
    const a = watch(ended);
    const c = consume(ended);
    c.block();
    ended.write(Buffer.alloc(10));
    await sleep(5);
    expect(a.dog.armed).to.equal(true);
    c.drain();
    ended.end();
    await new Promise((r) => ended.once('end', r));
    await sleep(MS * 2);
    expect(a.fired).to.have.length(0);
    expect(a.dog.armed, 'no timer left once the body ended').to.equal(false);

    const stopped = new PassThrough();
    const b = watch(stopped);
    const d = consume(stopped);
    d.block();
    stopped.write(Buffer.alloc(10));
    await sleep(5);
    expect(b.dog.armed).to.equal(true);
    b.dog.stop();
    expect(b.dog.armed).to.equal(false);
    expect(stopped.listenerCount('pause')).to.equal(0);
    await sleep(MS * 2);
    expect(b.fired).to.have.length(0);
    stopped.destroy();
  });
});
