// The Connection header a backend sees, on one .conf run by nginx 1.22 and by gatehouse's nginx
// adapter. nginx's default proxy_set_header list (ngx_http_proxy_headers) sends `Connection: close`
// whatever proxy_http_version says, a `proxy_set_header Connection ...` replaces it, and the
// client's own Connection is never passed.
import { expect } from 'chai';
import { expectSame } from '../helpers/differential.js';
import { backendConnection, useConfPair } from '../helpers/nginx-conf-differential.js';

describe('nginx .conf: Connection towards the backend (nginx 1.22 vs gatehouse adapt, integration)', function () {
  this.timeout(60_000);
  const pair = useConfPair({
    http: ({ port, backend }) => `
        map $http_upgrade $connection_upgrade { default upgrade; '' close; }
        upstream pooled { server ${backend}; keepalive 4; }
        server {
          listen 127.0.0.1:${port}; server_name a.test;
          location /plain/ { proxy_pass http://${backend}; }
          location /v11/ { proxy_http_version 1.1; proxy_pass http://${backend}; }
          location /pooled/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://pooled; }
          location /ws/ {
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_pass http://${backend};
          }
          location /fixed/ { proxy_http_version 1.1; proxy_set_header Connection "upgrade"; proxy_pass http://${backend}; }
        }`,
  });

  it('by default, with proxy_http_version 1.0 or 1.1, the backend gets "Connection: close", not the client\'s', async () => {
    for (const path of ['/plain/x', '/v11/x']) {
      for (const connection of ['keep-alive', 'close']) {
        const { nginx, gatehouse } = await pair().both({ path, headers: { connection } });
        expect(nginx.backend?.headers, `nginx ${path}`).to.have.property('connection', 'close');
        expectSame(nginx, gatehouse, { backend: ['url', 'headers.connection', 'headers.keep-alive'] });
      }
    }
  });

  it('"$connection_upgrade" of a request without Upgrade is close on both', async () => {
    const { nginx, gatehouse } = await pair().both({ path: '/ws/x' });
    expect(nginx.backend?.headers).to.have.property('connection', 'close');
    expectSame(nginx, gatehouse, { backend: ['url', 'headers.connection', 'headers.upgrade'] });
  });

  it('"proxy_set_header Connection \\"\\"" with an upstream keepalive: a kept-alive request on both', async () => {
    const { nginx, gatehouse } = await pair().both({ path: '/pooled/x' });
    expect(nginx.backend, 'nginx reached the backend').to.not.equal(undefined);
    expect(backendConnection(gatehouse.backend)).to.equal(backendConnection(nginx.backend));
  });

  it('"Connection: upgrade" written by hand on a request that is not tunnelled: nginx passes it, gatehouse sends close (on purpose)', async () => {
    const { nginx, gatehouse } = await pair().both({ path: '/fixed/x' });
    expect(nginx.backend?.headers).to.have.property('connection', 'upgrade');
    expect(gatehouse.backend?.headers).to.have.property('connection', 'close');
    expect(gatehouse.backend?.headers).to.not.have.property('upgrade');
  });
});
