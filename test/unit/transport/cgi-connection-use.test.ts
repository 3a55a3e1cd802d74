// How the CGI transports use their connections, against loopback servers that misbehave on
// purpose: a uwsgi response with Content-Length ends without the server's FIN (nginx's u->length),
// extra bytes are dropped; FastCGI asks FCGI_KEEP_CONN on a new connection only while no other new
// connection waits for its first byte (overload: php-fpm closes each connection itself).
import { expect } from 'chai';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { FastCgiTransport } from '../../../src/transport/fastcgi.js';
import { UwsgiTransport } from '../../../src/transport/uwsgi.js';
import type { CgiUpstreamOptions } from '../../../src/transport/cgi-options.js';
import type { ResponseSink, Transport } from '../../../src/transport/types.js';

const options = { timeouts: { connectMs: 1000, readMs: 2000, sendMs: 1000 }, keepalive: 4 };

const cgi: CgiUpstreamOptions = {
  info: {
    method: 'GET', requestUri: '/a.php', path: '/a.php', args: '', serverProtocol: 'HTTP/1.1', scheme: 'https',
    remoteAddr: '127.0.0.1', remotePort: 1234, serverAddr: '127.0.0.1', serverPort: 443, serverName: 'a.test', headers: [['Host', 'a.test']],
  },
  root: '/var/www',
  version: '0.0.0',
};

interface Result { status: number; body: string; ms: number }

function fetch(transport: Transport, method = 'GET'): Promise<Result> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    let status = 0;
    const chunks: Buffer[] = [];
    const sink: ResponseSink = {
      onHeaders: (s) => { status = s; },
      onData: (c) => { chunks.push(c); return true; },
      onEnd: () => resolve({ status, body: Buffer.concat(chunks).toString(), ms: Date.now() - t0 }),
      onError: reject,
    };
    transport.request({ method, path: '/a.php', headers: {}, body: undefined, cgi: { ...cgi, info: { ...cgi.info, method } } }, sink);
  });
}

async function listen(onConn: (s: net.Socket) => void): Promise<{ server: net.Server; address: string }> {
  const server = net.createServer(onConn);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('CGI transports: connection use', () => {
  it('uwsgi: ends a response at its Content-Length without waiting for the close, dropping extra bytes', async () => {
    const sockets: net.Socket[] = [];
    const { server, address } = await listen((s) => {
      sockets.push(s);
      s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA'));
    });
    const t = new UwsgiTransport(address, options);
    try {
      const r = await fetch(t);
      expect(r).to.include({ status: 200, body: 'hello' });
      expect(r.ms).to.be.below(1500);
      const head = await fetch(t, 'HEAD');
      expect(head).to.include({ status: 200, body: '' });
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  it('uwsgi: without Content-Length the close ends the response', async () => {
    const { server, address } = await listen((s) => {
      s.once('data', () => s.end('HTTP/1.1 200 OK\r\n\r\nstreamed'));
    });
    const t = new UwsgiTransport(address, options);
    try {
      expect(await fetch(t)).to.include({ status: 200, body: 'streamed' });
    } finally {
      server.close();
    }
  });

  it('FastCGI: asks FCGI_KEEP_CONN only on a new connection while no other new one waits for an answer', async () => {
    const flags: number[] = [];
    const pending: Array<() => void> = [];
    const { server, address } = await listen((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        // BEGIN_REQUEST: 8-byte header, role u16, flags at byte 10. The request is complete once the
        // empty STDIN record (type 5, length 0) has come.
        if (buf.indexOf(Buffer.from([1, 5, 0, 1, 0, 0, 0, 0])) === -1) return;
        flags.push(buf[10] as number);
        buf = Buffer.alloc(0);
        const stdout = Buffer.from('Content-Type: text/plain\r\n\r\nok');
        const header = (type: number, len: number) => Buffer.from([1, type, 0, 1, len >> 8, len & 0xff, 0, 0]);
        const reply = Buffer.concat([header(6, stdout.length), stdout, header(6, 0), header(3, 8), Buffer.alloc(8)]);
        pending.push(() => (flags.at(-1) ? s.write(reply) : s.end(reply)));
        if (pending.length === 3) for (const answer of pending.splice(0)) answer();
      });
      s.on('error', () => undefined);
    });
    const t = new FastCgiTransport(address, options);
    try {
      const results = await Promise.all([fetch(t), fetch(t), fetch(t)]);
      expect(results.map((r) => r.body)).to.deep.equal(['ok', 'ok', 'ok']);
      // Three at once on new connections: the first asks to keep its connection, the two that
      // started while it waited do not.
      expect([...flags].sort()).to.deep.equal([0, 0, 1]);
      // Alone again: a kept connection is reused with FCGI_KEEP_CONN.
      const next = fetch(t);
      await new Promise((r) => setTimeout(r, 100));
      for (const answer of pending.splice(0)) answer();
      expect((await next).body).to.equal('ok');
      expect(flags[3]).to.equal(1);
    } finally {
      await t.close();
      server.close();
    }
  });
});
