// Response splitting through variables (security review F8). `$arg_NAME` is the raw value, as in
// nginx (compared with nginx 1.22 on the same query strings), so `%0d%0a` stays text. A header
// rule whose value does hold CR/LF (`$uri` and captures are decoded, as in nginx) leaves that
// header out, on every path; nginx writes such a value as is (its `add_header X $uri` is the
// classic CRLF injection). The hand-written head of the Upgrade path refuses CR/LF like Node's
// writeHead does, so a redirect built from `$uri` gets a 500 there too, never a split head.
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { startNginx } from '../helpers/cgi-peers.js';
import { curl } from '../helpers/curl.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import type { Peer } from '../helpers/process.js';

const ATTACK = 'room=a%0d%0aSet-Cookie:%20session=attacker';

/** Status, header lines and whether any line of the head starts a Set-Cookie field. */
interface RawReply {
  status: number;
  lines: string[];
  header(name: string): string | undefined;
}

function parseHead(raw: Buffer): RawReply {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const lines = (end === -1 ? text : text.slice(0, end)).split('\r\n');
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0),
    lines,
    header: (name) => lines.find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim(),
  };
}

/** Sends one request and reads its response head (nginx keeps the connection open after it). */
function rawExchange(socket: net.Socket | tls.TLSSocket, request: string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const done = (): void => {
      socket.destroy();
      resolve(parseHead(Buffer.concat(chunks)));
    };
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (Buffer.concat(chunks).includes('\r\n\r\n')) done();
    });
    socket.on('end', done);
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.write(request);
  });
}

describe('response splitting through variables (integration)', function () {
  this.timeout(60_000);
  let dir: string;
  let gh: Gatehouse;
  let nginx: Peer;
  let nginxPort: number;
  // Two backends that answer 200 to everything, an Upgrade request included (no 'upgrade' listener).
  const seen: Array<{ url: string; orig: string | undefined }> = [];
  const backends = [0, 1].map(() =>
    http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', orig: req.headers['x-orig'] as string | undefined });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('backend\n');
    }),
  );

  before(async () => {
    dir = tempDir('gh-split-');
    for (const b of backends) await new Promise<void>((r) => b.listen(0, '127.0.0.1', r));
    const [port, port2] = backends.map((b) => (b.address() as AddressInfo).port);
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      // One failure would mark a server down, and a failed GET is retried on the other server.
      upstreams: { app: { servers: [`http://127.0.0.1:${port}`, `http://127.0.0.1:${port2}`], retries: 1, maxFails: 1, failTimeout: '60s' } },
      sites: [
        {
          hosts: ['a.test'],
          routes: [
            { location: '/arg', return: '200 [$arg_x][$arg_Room]' },
            { location: '/hdr/', proxy: `http://127.0.0.1:${port}`, headers: { response: { set: { 'X-Room': '$arg_room' } } } },
            { location: '/uri/', proxy: 'app', headers: { request: { set: { 'X-Orig': '$uri' } }, response: { set: { 'X-Path': '$uri' } } } },
            { location: '/go/', return: '302 https://$host$uri' },
            { location: '/', return: 404 },
          ],
        },
      ],
    }));
    nginxPort = await freePort();
    nginx = await startNginx(
      dir,
      `server {
        listen 127.0.0.1:${nginxPort};
        server_name a.test;
        location /arg { return 200 "[$arg_x][$arg_Room]"; }
        location /hdr/ { proxy_pass http://127.0.0.1:${port}; add_header X-Room $arg_room; }
      }`,
      nginxPort,
    );
  });

  after(async () => {
    await gh?.stop();
    await nginx?.stop('SIGQUIT');
    for (const b of backends) {
      b.closeAllConnections();
      await new Promise((r) => b.close(r));
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const toGatehouse = (request: string): Promise<RawReply> =>
    rawExchange(tls.connect({ host: '127.0.0.1', port: gh.httpsPort, servername: 'a.test', ca: fs.readFileSync(gh.caFile) }), request);
  const toNginx = (request: string): Promise<RawReply> => rawExchange(net.connect(nginxPort, '127.0.0.1'), request);
  const upgradeRequest = (target: string): string =>
    `GET ${target} HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`;

  describe('$arg_NAME, compared with nginx', () => {
    for (const query of [
      ATTACK,
      'x=a%0d%0ab',
      'x=a+b',
      'x=1&x=2',
      'X=up&ROOM=down',
      'x&x=2',
      'ax=1&x=2&xroom=3',
      'x=&x=2',
      'y=1',
      'x=%zz%&room=%E2%80%A8',
      'x=a=b;c&&room=%C3%A9',
    ]) {
      it(`gives nginx's value for ?${query}`, async () => {
        const [g, n] = await Promise.all([
          curl(gh.curlArgs('a.test', `/arg?${query}`)),
          curl(['-H', 'Host: a.test', `http://127.0.0.1:${nginxPort}/arg?${query}`]),
        ]);
        expect(n.status).to.equal(200);
        expect(g.status).to.equal(200);
        expect(g.body.toString()).to.equal(n.body.toString());
      });
    }
  });

  describe('on the Upgrade path', () => {
    it(`never lets ?${ATTACK} start a Set-Cookie line, and sends X-Room as nginx does`, async () => {
      const [g, n] = await Promise.all([toGatehouse(upgradeRequest(`/hdr/?${ATTACK}`)), toNginx(upgradeRequest(`/hdr/?${ATTACK}`))]);
      for (const [who, reply] of [['gatehouse', g], ['nginx', n]] as const) {
        expect(reply.status, who).to.equal(200);
        expect(reply.lines.filter((l) => /^set-cookie/i.test(l)), who).to.deep.equal([]);
      }
      expect(g.header('x-room')).to.equal('a%0d%0aSet-Cookie:%20session=attacker');
      expect(g.header('x-room')).to.equal(n.header('x-room'));
    });

    it('refuses CR/LF in its own head: a redirect to $uri with %0d%0a gets 500, as writeHead gives it', async () => {
      const target = '/go/a%0d%0aSet-Cookie:%20session=attacker';
      for (const request of [upgradeRequest(target), `GET ${target} HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`]) {
        const reply = await toGatehouse(request);
        expect(reply.status).to.equal(500);
        expect(reply.lines.filter((l) => /^set-cookie/i.test(l))).to.deep.equal([]);
      }
      expect((await toGatehouse(upgradeRequest('/go/fine'))).header('location')).to.equal('https://a.test/go/fine');
    });
  });

  describe('a header rule whose value holds CR/LF ($uri is decoded)', () => {
    const target = '/uri/a%0d%0aSet-Cookie:%20session=attacker';

    it('leaves the header out, both ways, on the Upgrade path, HTTP/1.1 and HTTP/2', async () => {
      const sent = (): number => seen.filter((r) => r.url === target).length;
      const upgraded = await toGatehouse(upgradeRequest(target));
      expect(upgraded.status).to.equal(200);
      expect(upgraded.header('x-path')).to.equal(undefined);
      expect(upgraded.lines.filter((l) => /^set-cookie/i.test(l))).to.deep.equal([]);
      for (const version of ['--http1.1', '--http2']) {
        const r = await curl([version, '--path-as-is', ...gh.curlArgs('a.test', target)]);
        expect(r.status, version).to.equal(200);
        expect(r.headers['x-path'], version).to.equal(undefined);
        expect(r.headers['set-cookie'], version).to.equal(undefined);
      }
      // Each request reached one server once, without the request header.
      expect(sent()).to.equal(3);
      expect(seen.filter((r) => r.url === target).map((r) => r.orig)).to.deep.equal([undefined, undefined, undefined]);
    });

    it('never counts against the upstream servers: a clean request is answered after them', async () => {
      for (let i = 0; i < 2; i++) expect((await curl(['--http1.1', '--path-as-is', ...gh.curlArgs('a.test', target)])).status).to.equal(200);
      const clean = await toGatehouse(upgradeRequest('/uri/fine'));
      expect(clean.status).to.equal(200);
      expect(clean.header('x-path')).to.equal('/uri/fine');
      expect(seen.find((r) => r.url === '/uri/fine')?.orig).to.equal('/uri/fine');
      expect(gh.peer.output()).not.to.contain('marked down');
    });
  });
});
