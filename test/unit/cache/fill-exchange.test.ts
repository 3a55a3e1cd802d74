import { expect } from 'chai';
import { FillExchange, type FillHead, type FillOutcome } from '../../../src/cache/fill-exchange.js';
import { RecordingClient } from './fixtures.js';

interface Run {
  fill: FillExchange;
  outcome: FillOutcome | undefined;
  dropped: number;
  closedAborted: boolean | undefined;
}

function start(head: (status: number) => FillHead, maxObject = 1024): Run {
  const base = new RecordingClient();
  const run: Run = { fill: undefined as unknown as FillExchange, outcome: undefined, dropped: 0, closedAborted: undefined };
  run.fill = new FillExchange(base, 'GET', { host: 'a.test' }, maxObject, {
    head: (status, headers) => {
      headers['cache-status'] = 'test';
      return head(status);
    },
    dropped: () => run.dropped++,
    done: (o) => {
      run.outcome = o;
    },
  });
  run.fill.onClose((aborted) => {
    run.closedAborted = aborted;
  });
  return run;
}

describe('cache/fill-exchange', () => {
  it('streams each chunk to the client as it comes and keeps the whole body', () => {
    const client = new RecordingClient();
    const run = start(() => ({ client, keep: true }));
    run.fill.respond(200, { etag: '"1"' });
    expect(client.sentHeaders).to.deep.equal({ etag: '"1"', 'cache-status': 'test' });
    run.fill.write(Buffer.from('hel'));
    expect(client.received).to.equal('hel');
    run.fill.write(Buffer.from('lo'));
    run.fill.end();
    expect(client.closed).to.equal(true);
    expect(run.outcome?.body?.toString()).to.equal('hello');
    expect(run.closedAborted).to.equal(false);
  });

  it('passes the client back-pressure to the upstream', () => {
    const client = new RecordingClient(1);
    const run = start(() => ({ client, keep: true }));
    run.fill.respond(200, {});
    expect(run.fill.write(Buffer.from('a'))).to.equal(false);
    let resumed = false;
    run.fill.onDrain(() => {
      resumed = true;
    });
    expect(resumed).to.equal(false);
    client.drain();
    expect(resumed).to.equal(true);
  });

  it('stops keeping past maxObject, tells the waiters, and still streams everything', () => {
    const client = new RecordingClient();
    const run = start(() => ({ client, keep: true }), 4);
    run.fill.respond(200, {});
    run.fill.write(Buffer.from('abc'));
    run.fill.write(Buffer.from('def'));
    expect(run.dropped).to.equal(1);
    run.fill.end();
    expect(client.received).to.equal('abcdef');
    expect(run.outcome?.body).to.equal(undefined);
  });

  it('does not keep a body whose Content-Length is already over maxObject', () => {
    const client = new RecordingClient();
    const run = start(() => ({ client, keep: true }), 4);
    run.fill.respond(200, { 'content-length': 10 });
    expect(run.dropped).to.equal(1);
    run.fill.write(Buffer.from('0123456789'));
    run.fill.end();
    expect(run.outcome?.body).to.equal(undefined);
  });

  it('never keeps a response that ends with trailers', () => {
    const client = new RecordingClient();
    const run = start(() => ({ client, keep: true }));
    run.fill.respond(200, {});
    run.fill.write(Buffer.from('x'));
    run.fill.end({ 'grpc-status': '0' });
    expect(client.trailers).to.deep.equal({ 'grpc-status': '0' });
    expect(run.outcome?.body).to.equal(undefined);
  });

  it('goes on filling the cache when the client leaves, resuming a write that waited for it', () => {
    const client = new RecordingClient(1);
    const run = start(() => ({ client, keep: true }));
    run.fill.respond(200, {});
    expect(run.fill.write(Buffer.from('a'))).to.equal(false);
    let resumed = false;
    run.fill.onDrain(() => {
      resumed = true;
    });
    client.close(true);
    expect(resumed).to.equal(true);
    expect(run.fill.write(Buffer.from('b'))).to.equal(true);
    run.fill.end();
    expect(run.outcome?.body?.toString()).to.equal('ab');
  });

  it('aborts the upstream when the client leaves and nothing is being kept', () => {
    const client = new RecordingClient();
    const run = start(() => ({ client, keep: false }));
    run.fill.respond(200, {});
    client.close(true);
    expect(run.closedAborted).to.equal(true);
  });

  it('ends at the head when nobody wants the body (a 304 the cache answers itself)', () => {
    const run = start(() => ({ client: undefined, keep: false }));
    run.fill.respond(304, { etag: '"1"' });
    expect(run.outcome?.status).to.equal(304);
    expect(run.closedAborted).to.equal(false);
    const withBody = start(() => ({ client: undefined, keep: false }));
    withBody.fill.respond(503, {});
    expect(withBody.closedAborted).to.equal(true);
  });

  it('hands a response sent whole (the proxy error page) to the client and the outcome', () => {
    const client = new RecordingClient();
    const run = start(() => ({ client, keep: false }));
    run.fill.respond(502, { 'content-type': 'text/plain' }, '502 Bad Gateway\n');
    expect(client.status).to.equal(502);
    expect(client.received).to.equal('502 Bad Gateway\n');
    expect(run.outcome?.status).to.equal(502);
  });
});
