// gzip on one .conf run by nginx 1.22 and by gatehouse's nginx adapter: what nginx's gzip filter
// takes up (text/html always, gzip_types, gzip_min_length 20, statuses 200/403/404), when it adds
// `Vary: Accept-Encoding` (gzip_vary), and gzip_proxied, which is about requests that came through
// a proxy (`Via`), not about proxied answers: those are compressed like any other.
import { expect } from 'chai';
import { expectSame, type PairRequest } from '../helpers/differential.js';
import { useConfPair } from '../helpers/nginx-conf-differential.js';

const LONG = `${'compress me '.repeat(40)}\n`;

describe('nginx .conf: gzip, gzip_types, gzip_vary, gzip_min_length, gzip_proxied (nginx 1.22 vs gatehouse adapt, integration)', function () {
  this.timeout(60_000);
  const pair = useConfPair({
    files: { 'www/a.html': LONG, 'www/a.css': LONG, 'www/a.js': LONG, 'www/a.txt': LONG, 'www/tiny.html': 'tiny\n' },
    http: ({ port, dir, backend }) => `
        include /etc/nginx/mime.types;
        server {
          listen 127.0.0.1:${port}; server_name a.test;
          root ${dir}/www;
          gzip on; gzip_types text/css application/json; gzip_vary on;
          location /api/ { proxy_pass http://${backend}; }
        }
        server {
          listen 127.0.0.1:${port}; server_name b.test;
          root ${dir}/www;
          gzip on; gzip_min_length 1000;
        }`,
  });

  const same = async (req: PairRequest) => {
    const { nginx, gatehouse } = await pair().both({ ...req, headers: { 'accept-encoding': 'gzip', ...req.headers } });
    expectSame(nginx, gatehouse, { headers: ['content-encoding', 'vary'] });
    return nginx;
  };

  it('text/html always, the listed types, not the others; Vary on every answer the filter takes up', async () => {
    expect((await same({ path: '/a.html' })).headers['content-encoding']).to.equal('gzip');
    expect((await same({ path: '/a.css' })).headers['content-encoding']).to.equal('gzip');
    expect((await same({ path: '/a.js' })).headers['content-encoding']).to.equal(undefined);
    expect((await same({ path: '/a.txt' })).headers['content-encoding']).to.equal(undefined);
  });

  it('under gzip_min_length (default 20) nothing is compressed or varied', async () => {
    expect((await same({ path: '/tiny.html' })).headers.vary).to.equal(undefined);
    expect((await same({ path: '/a.html', headers: { host: 'b.test' } })).headers['content-encoding']).to.equal(undefined);
  });

  it('a client without gzip gets Vary (gzip_vary), the identity body', async () => {
    const n = await same({ path: '/a.html', headers: { 'accept-encoding': 'identity' } });
    expect(n.headers.vary).to.equal('Accept-Encoding');
  });

  it('without gzip_vary there is no Vary', async () => {
    expect((await same({ path: '/a.html', headers: { host: 'b.test' } })).headers.vary).to.equal(undefined);
  });

  it('a proxied answer is compressed; a request with Via is not (gzip_proxied off)', async () => {
    expect((await same({ path: '/api/x?status=200&h=Content-Type:application/json' })).headers['content-encoding']).to.equal('gzip');
    expect((await same({ path: '/api/x', headers: { via: '1.1 cdn' } })).headers['content-encoding']).to.equal(undefined);
  });

  it('an HTTP/1.0 request is not compressed (gzip_http_version 1.1)', async () => {
    const raw = 'GET /a.html HTTP/1.0\r\nHost: a.test\r\nAccept-Encoding: gzip\r\n\r\n';
    const { nginx, gatehouse } = await pair().both({ raw });
    expect(nginx.headers['content-encoding']).to.equal(undefined);
    expectSame(nginx, gatehouse, { headers: ['content-encoding', 'vary'] });
  });
});
