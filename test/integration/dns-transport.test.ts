// The DNS client on a hostile network. A real BIND never forges, so the server here is a stand-in on
// loopback sockets (named as such) that sends what an off-path attacker or a broken server would: answers
// with the wrong id, for another question, from another port, truncated ones (then the TCP retry), nothing.
import { expect } from 'chai';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { query } from '../../src/tls/acme/dns/transport.js';
import { freePort } from '../helpers/ports.js';

interface Received {
  msg: Buffer;
  from: dgram.RemoteInfo;
}

/** Stand-in DNS server: hands every query to `onQuery`, which answers through `send` as it likes. */
async function standIn(onQuery: (q: Received, send: (m: Buffer, socket?: dgram.Socket) => void) => void, port = 0) {
  const socket = dgram.createSocket('udp4');
  const other = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(port, '127.0.0.1', r));
  await new Promise<void>((r) => other.bind(0, '127.0.0.1', r));
  socket.on('message', (msg, from) => onQuery({ msg, from }, (m, via = socket) => via.send(m, from.port, from.address)));
  return {
    socket,
    other,
    server: { host: '127.0.0.1', port: socket.address().port },
    close: () => {
      socket.close();
      other.close();
    },
  };
}

function txtAnswer(q: Buffer, value: string, opts: { id?: number; name?: string; flags?: number } = {}): Buffer {
  const decoded = dnsPacket.decode(q);
  const question = decoded.questions![0]!;
  const name = opts.name ?? question.name;
  return dnsPacket.encode({
    type: 'response',
    id: opts.id ?? decoded.id,
    flags: opts.flags ?? dnsPacket.AUTHORITATIVE_ANSWER,
    questions: [{ name, type: 'TXT', class: 'IN' }],
    answers: [{ name, type: 'TXT', class: 'IN', ttl: 60, data: value }],
  });
}

function valuesOf(p: dnsPacket.DecodedPacket): string[] {
  return (p.answers ?? []).filter((a): a is dnsPacket.TxtAnswer => a.type === 'TXT').map((a) => (a.data as Buffer[]).join(''));
}

describe('DNS client on a hostile network (stand-in server)', function () {
  this.timeout(10_000);

  it('ignores answers with another id, another question or from another port, and takes the real one', async () => {
    const s = await standIn((q, send) => {
      const id = dnsPacket.decode(q.msg).id!;
      send(txtAnswer(q.msg, 'forged-id', { id: (id + 1) & 0xffff }));
      send(txtAnswer(q.msg, 'forged-question', { name: 'other.example' }));
      send(txtAnswer(q.msg, 'forged-port'), s.other);
      setTimeout(() => send(txtAnswer(q.msg, 'genuine')), 50);
    });
    try {
      const r = await query(s.server, '_acme-challenge.example.test', 'TXT', { recursion: false, timeoutMs: 3000 });
      expect(valuesOf(r.packet)).to.deep.equal(['genuine']);
    } finally {
      s.close();
    }
  });

  it('uses a random id per query', async () => {
    const ids: number[] = [];
    const s = await standIn((q, send) => {
      ids.push(dnsPacket.decode(q.msg).id!);
      send(txtAnswer(q.msg, 'v'));
    });
    try {
      for (let i = 0; i < 8; i++) await query(s.server, 'x.example.test', 'TXT', { recursion: false, timeoutMs: 3000 });
      expect(new Set(ids).size).to.be.greaterThan(4);
    } finally {
      s.close();
    }
  });

  it('a truncated answer is asked again over TCP, on the same port', async () => {
    const tcp = net.createServer((c) => {
      let buf = Buffer.alloc(0);
      c.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        const q = buf.subarray(2, 2 + buf.readUInt16BE(0));
        // First a message for another query on the same connection (RFC 7766 allows several), then ours.
        for (const m of [txtAnswer(q, 'not-ours', { id: (dnsPacket.decode(q).id! + 7) & 0xffff }), txtAnswer(q, 'x'.repeat(200) + '-full')]) {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(m.length);
          c.write(Buffer.concat([len, m]));
        }
      });
    });
    // The retry goes to the same port number over TCP: take a port free for TCP (freePort), then UDP on it.
    const port = await freePort();
    await new Promise<void>((r) => tcp.listen(port, '127.0.0.1', r));
    const s = await standIn((q, send) => send(txtAnswer(q.msg, 'cut', { flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.TRUNCATED_RESPONSE })), port);
    try {
      const r = await query(s.server, 'big.example.test', 'TXT', { recursion: false, timeoutMs: 3000 });
      expect(valuesOf(r.packet)).to.deep.equal(['x'.repeat(200) + '-full']);
    } finally {
      tcp.close();
      s.close();
    }
  });

  it('a server that never answers: an error at the timeout naming it', async () => {
    const s = await standIn(() => undefined);
    const started = Date.now();
    try {
      // 300 ms: the per-query timeout is the caller's argument, not a product default proven here.
      await query(s.server, 'x.example.test', 'TXT', { recursion: false, timeoutMs: 300 });
      expect.fail('resolved');
    } catch (err) {
      expect((err as Error).message).to.include(`no answer from 127.0.0.1:${s.server.port} within 300 ms`);
      expect(Date.now() - started).to.be.lessThan(2000);
    } finally {
      s.close();
    }
  });
});
