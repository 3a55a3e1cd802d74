// proxy_next_upstream http_502 with a backup server, on one .conf run by nginx 1.22 and by
// gatehouse's nginx adapter: the primary's 502 sends an idempotent request on to the backup, whose
// answer the client gets; without http_502, or for a POST (non_idempotent is off), the 502 goes back.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { expectSame } from '../helpers/differential.js';
import { startConfPair, type ConfPair } from '../helpers/conf-pair.js';

describe('nginx .conf: proxy_next_upstream http_502 and a backup (nginx 1.22 vs gatehouse adapt, integration)', function () {
  this.timeout(60_000);
  let primary: http.Server;
  let primaryHits = 0;
  let backup: EchoBackend;
  let pair: ConfPair;

  before(async () => {
    primary = http.createServer((req, res) => {
      primaryHits++;
      req.resume();
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('primary 502\n');
    });
    await new Promise<void>((resolve) => primary.listen(0, '127.0.0.1', resolve));
    const primaryAddr = `127.0.0.1:${(primary.address() as AddressInfo).port}`;
    backup = await startEchoBackend();
    pair = await startConfPair({
      http: ({ port }) => `
        upstream pool {
          server ${primaryAddr} max_fails=0;
          server ${backup.url.replace('http://', '')} backup;
        }
        server {
          listen 127.0.0.1:${port}; server_name a.test;
          location /next/ { proxy_next_upstream error timeout http_502; proxy_pass http://pool; }
          location /plain/ { proxy_pass http://pool; }
        }`,
    });
  });
  after(async () => {
    await pair?.close();
    await backup?.close();
    await new Promise((resolve) => primary?.close(resolve));
  });

  it('a GET the primary answers 502 is answered by the backup', async () => {
    const before = primaryHits;
    const { nginx, gatehouse } = await pair.both({ path: '/next/x?y=1' });
    expect(nginx.status).to.equal(200);
    expect(primaryHits - before, 'both asked the primary first').to.equal(2);
    expectSame(nginx, gatehouse, { backend: ['url', 'method'] });
  });

  it('without http_502 the primary\'s 502 goes to the client', async () => {
    const { nginx, gatehouse } = await pair.both({ path: '/plain/x' });
    expect(nginx.status).to.equal(502);
    expectSame(nginx, gatehouse, { body: true, backend: [] });
  });

  it('a POST is not sent again: the primary\'s 502 goes to the client', async () => {
    const { nginx, gatehouse } = await pair.both({ path: '/next/x', method: 'POST', body: 'b' });
    expect(nginx.status).to.equal(502);
    expectSame(nginx, gatehouse, { body: true, backend: [] });
  });
});
