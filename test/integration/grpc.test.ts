// gRPC passthrough end to end: a @grpc/grpc-js client over TLS (gatehouse's internal CA) through the
// real gatehouse to @grpc/grpc-js servers behind h2c:// and h2:// (private CA) upstreams.
import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import path from 'node:path';
import { EchoClient, startEchoServer, type EchoServer, type Msg } from '../fixtures/grpc/echo-service.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { makeTestCa } from '../helpers/test-ca.js';

type Client = InstanceType<typeof EchoClient>;
type Fn = (...args: unknown[]) => unknown;

function unary(client: Client, name: string, req: Msg, options: grpc.CallOptions = {}, md = new grpc.Metadata()) {
  return new Promise<{ err: grpc.ServiceError | null; res: Msg | undefined; headers: grpc.Metadata | undefined; trailers: grpc.Metadata | undefined }>(
    (resolve) => {
      let headers: grpc.Metadata | undefined;
      let trailers: grpc.Metadata | undefined;
      const call = (client[name] as Fn).call(client, req, md, options, (err: grpc.ServiceError | null, res?: Msg) =>
        // 'status' follows the callback; wait for it to have the trailers.
        setImmediate(() => resolve({ err, res, headers, trailers })),
      ) as grpc.ClientUnaryCall;
      call.on('metadata', (m: grpc.Metadata) => (headers = m));
      call.on('status', (s: grpc.StatusObject) => (trailers = s.metadata));
    },
  );
}

function collect(call: grpc.ClientReadableStream<Msg>): Promise<{ msgs: Msg[]; err: grpc.ServiceError | undefined }> {
  return new Promise((resolve) => {
    const msgs: Msg[] = [];
    call.on('data', (m: Msg) => msgs.push(m));
    call.on('error', (err: grpc.ServiceError) => resolve({ msgs, err }));
    call.on('end', () => resolve({ msgs, err: undefined }));
  });
}

describe('gRPC passthrough (integration)', function () {
  this.timeout(60_000);
  let clear: EchoServer;
  let secure: EchoServer;
  let gh: Gatehouse;
  let client: Client;

  before(async () => {
    const dir = tempDir('gh-grpc-');
    const ca = makeTestCa(path.join(dir, 'ca'));
    const cert = ca.issue('grpc-backend', ['grpc.internal']);
    clear = await startEchoServer(grpc.ServerCredentials.createInsecure());
    secure = await startEchoServer(grpc.ServerCredentials.createSsl(null, [{ private_key: cert.key, cert_chain: cert.cert }], false));
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      upstreams: {
        grpcs: { servers: [`h2://127.0.0.1:${secure.port}`], tls: { ca: ca.caFile, servername: 'grpc.internal' } },
        quick: { servers: [`h2c://127.0.0.1:${clear.port}`], timeouts: { send: '1s' } },
      },
      sites: [
        { hosts: ['g.test'], routes: [{ location: '/', proxy: `h2c://127.0.0.1:${clear.port}` }] },
        { hosts: ['gs.test'], routes: [{ location: '/', proxy: 'grpcs' }] },
        { hosts: ['gq.test'], routes: [{ location: '/', proxy: 'quick' }] },
      ],
    }));
  });

  after(async () => {
    await gh?.stop();
    await Promise.all([clear?.stop(), secure?.stop()]);
  });

  const connect = (name: string): Client =>
    new EchoClient(`127.0.0.1:${gh.httpsPort}`, grpc.credentials.createSsl(fs.readFileSync(gh.caFile)), {
      'grpc.ssl_target_name_override': name,
      'grpc.default_authority': name,
    });

  for (const [kind, name, server] of [
    ['h2c://', 'g.test', () => clear],
    ['h2:// (TLS)', 'gs.test', () => secure],
  ] as const) {
    describe(`to an ${kind} upstream`, () => {
      before(() => {
        client = connect(name);
      });
      after(() => client.close());

      it('unary: response, header metadata, request metadata and trailer metadata pass', async () => {
        const md = new grpc.Metadata();
        md.set('x-client-md', 'hello');
        const r = await unary(client, 'unary', { text: 'hi' }, {}, md);
        expect(r.err).to.equal(null);
        expect(r.res).to.deep.equal({ text: 'echo:hi', path: '/gatehouse.test.Echo/Unary' });
        expect(r.headers?.get('x-from-server')).to.deep.equal(['header-md']);
        expect(r.trailers?.get('x-trailer-md')).to.deep.equal(['from-trailers']);
        expect(server().lastMetadata?.get('x-client-md')).to.deep.equal(['hello']);
      });

      it('server streaming: every message in order, then OK', async () => {
        const r = await collect((client.count as Fn).call(client, { n: 50 }) as grpc.ClientReadableStream<Msg>);
        expect(r.err).to.equal(undefined);
        expect(r.msgs.map((m) => m.n)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
      });

      it('client streaming: the server sees every message and the end', async () => {
        const res = await new Promise<Msg>((resolve, reject) => {
          const call = (client.sum as Fn).call(client, (err: grpc.ServiceError | null, m?: Msg) => (err ? reject(err) : resolve(m as Msg))) as grpc.ClientWritableStream<Msg>;
          for (let i = 1; i <= 100; i++) call.write({ n: i });
          call.end();
        });
        expect(res.n).to.equal(5050);
      });

      it('bidi streaming: each reply arrives before the next request is sent', async () => {
        const call = (client.chat as Fn).call(client) as grpc.ClientDuplexStream<Msg, Msg>;
        const replies: string[] = [];
        for (const word of ['one', 'two', 'three']) {
          const reply = new Promise<Msg>((resolve) => call.once('data', resolve));
          call.write({ text: word });
          replies.push((await reply).text ?? '');
        }
        const ended = new Promise<void>((resolve, reject) => {
          call.on('end', resolve);
          call.on('error', reject);
        });
        call.end();
        await ended;
        expect(replies).to.deep.equal(['re:one', 're:two', 're:three']);
      });

      it('an error status with a message (trailers-only response) reaches the client', async () => {
        const r = await unary(client, 'fail', {});
        expect(r.err?.code).to.equal(grpc.status.NOT_FOUND);
        expect(r.err?.details).to.equal('no such thing: "x" 100% missing');
      });

      it('an error status after a message (in trailers) reaches the client', async () => {
        const r = await collect((client.failLate as Fn).call(client, {}) as grpc.ClientReadableStream<Msg>);
        expect(r.msgs).to.deep.equal([{ n: 1 }]);
        expect(r.err?.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
        expect(r.err?.details).to.equal('quota gone after one');
      });

      it('a deadline passes as grpc-timeout, and a slow call ends DEADLINE_EXCEEDED and is cancelled upstream', async () => {
        server().slowCancelled = false;
        const t0 = Date.now();
        const r = await unary(client, 'slow', {}, { deadline: Date.now() + 400 });
        expect(r.err?.code).to.equal(grpc.status.DEADLINE_EXCEEDED);
        expect(Date.now() - t0).to.be.lessThan(1500);
        // grpc-js gives the deadline it parsed from grpc-timeout (Infinity when the header is missing).
        const deadline = server().lastDeadline;
        const ms = deadline instanceof Date ? deadline.getTime() : Number(deadline);
        expect(ms).to.be.within(t0, t0 + 1000);
        // The client's RST_STREAM (or the server's own deadline) ends the upstream call.
        await new Promise((res) => setTimeout(res, 300));
        expect(server().slowCancelled).to.equal(true);
      });
    });
  }

  it('timeouts.send (1 s) leaves a bidi stream alone while nothing waits to be sent (1.5 s pauses)', async () => {
    const quick = connect('gq.test');
    try {
      const call = (quick.chat as Fn).call(quick) as grpc.ClientDuplexStream<Msg, Msg>;
      const failed = new Promise<Error>((resolve) => call.on('error', resolve));
      const replies: string[] = [];
      for (const word of ['one', 'two', 'three']) {
        if (replies.length > 0) await new Promise((r) => setTimeout(r, 1_500));
        const reply = new Promise<Msg>((resolve) => call.once('data', resolve));
        call.write({ text: word });
        const got = await Promise.race([reply, failed]);
        if (got instanceof Error) throw got;
        replies.push(got.text ?? '');
      }
      const ended = new Promise<void>((resolve) => call.on('end', resolve));
      call.end();
      const end = await Promise.race([ended, failed]);
      if (end instanceof Error) throw end;
      expect(replies).to.deep.equal(['re:one', 're:two', 're:three']);
    } finally {
      quick.close();
    }
  });
});
