// proxy_next_upstream http_502 with a backup server, on one .conf run by nginx 1.22 and by
// gatehouse's nginx adapter: the primary's 502 sends an idempotent request on to the backup, whose
// answer the client gets; without http_502, or for a POST (non_idempotent is off), the 502 goes back.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { expectSame } from '../helpers/differential.js';
import { useConfPair } from '../helpers/nginx-conf-differential.js';

describe('nginx .conf: proxy_next_upstream http_502 and a backup (nginx 1.22 vs gatehouse adapt, integration)', function () {
  this.timeout(60_000);
  let primary: http.Server;
  let primaryHits = 0;
  let primaryAddr: string;

  before(async () => {
    primary = http.createServer((req, res) => {
      primaryHits++;
      req.resume();
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('primary 502\n');
    });
    await new Promise<void>((resolve) => primary.listen(0, '127.0.0.1', resolve));
    primaryAddr = `127.0.0.1:${(primary.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => primary?.close(resolve));
  });
  // The echo backend is the backup; the pair starts after the primary (mocha runs hooks in order).
  const pair = useConfPair({
    http: ({ port, backend }) => `
        upstream pool {
          server ${primaryAddr} max_fails=0;
          server ${backend} backup;
        }
        server {
          listen 127.0.0.1:${port}; server_name a.test;
          location /next/ { proxy_next_upstream error timeout http_502; proxy_pass http://pool; }
          location /plain/ { proxy_pass http://pool; }
        }`,
  });

  it('a GET the primary answers 502 is answered by the backup', async () => {
    const before = primaryHits;
    const { nginx, gatehouse } = await pair().both({ path: '/next/x?y=1' });
    expect(nginx.status).to.equal(200);
    expect(primaryHits - before, 'both asked the primary first').to.equal(2);
    expectSame(nginx, gatehouse, { backend: ['url', 'method'] });
  });

  it('without http_502 the primary\'s 502 goes to the client', async () => {
    const { nginx, gatehouse } = await pair().both({ path: '/plain/x' });
    expect(nginx.status).to.equal(502);
    expectSame(nginx, gatehouse, { body: true, backend: [] });
  });

  it('a POST is not sent again: the primary\'s 502 goes to the client', async () => {
    const { nginx, gatehouse } = await pair().both({ path: '/next/x', method: 'POST', body: 'b' });
    expect(nginx.status).to.equal(502);
    expectSame(nginx, gatehouse, { body: true, backend: [] });
  });
});
