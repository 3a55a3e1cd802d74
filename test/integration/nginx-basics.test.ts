// The differential harness itself, on what gatehouse already did before issue 17: a proxied
// prefix, a static root, and a location nobody configured, each answered like nginx.
import { expect } from 'chai';
import { expectSame, startDifferential, type Differential } from '../helpers/differential.js';

describe('differential basics: nginx 1.22 and gatehouse on the same requests (integration)', function () {
  this.timeout(60_000);
  let pair: Differential;

  before(async () => {
    pair = await startDifferential({
      files: { 'www/index.html': '<p>home</p>\n', 'www/a.txt': 'a\n' },
      nginx: ({ port, backend, dir }) => `server {
        listen 127.0.0.1:${port}; server_name a.test;
        location /api/ { proxy_pass ${backend}; }
        location / { root ${dir}/www; }
      }`,
      gatehouse: ({ backend, dir }) => ({
        sites: [{ hosts: 'a.test', tls: 'off', routes: [
          { location: '/api/', proxy: backend },
          { location: '/', root: `${dir}/www` },
        ] }],
      }),
    });
  });
  after(async () => pair?.close());

  it('a proxied request reaches the backend with the same URI and method', async () => {
    const { nginx, gatehouse } = await pair.both({ path: '/api/x?y=1', method: 'POST', body: 'hello' });
    expect(nginx.backend, 'nginx reached the backend').to.not.equal(undefined);
    expectSame(nginx, gatehouse, { backend: ['url', 'method', 'bodyLength'] });
  });

  it('static files and the index', async () => {
    for (const path of ['/', '/a.txt', '/index.html']) {
      const { nginx, gatehouse } = await pair.both({ path });
      // Content-Type differs on purpose: gatehouse names the charset of text types, nginx only under its `charset` directive.
      expectSame(nginx, gatehouse, { headers: ['content-length'], body: true });
    }
  });

  it('a missing file is a 404 on both', async () => {
    const { nginx, gatehouse } = await pair.both({ path: '/nope.txt' });
    expect(nginx.status).to.equal(404);
    expectSame(nginx, gatehouse);
  });
});
