// A WebSocket handshake on one .conf run by nginx 1.22 and by gatehouse's nginx adapter. nginx's
// default proxy_set_header list holds `Upgrade ""` (ngx_http_proxy_headers), so only a location
// whose config passes Upgrade tunnels; elsewhere the handshake reaches the backend as a plain
// request and its answer (200) goes back, never a 101.
import { expect } from 'chai';
import { expectSame } from '../helpers/differential.js';
import { useConfPair } from '../helpers/nginx-conf-differential.js';

const HANDSHAKE = {
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
};

describe('nginx .conf: Upgrade only where the config passes it (nginx 1.22 vs gatehouse adapt, integration)', function () {
  this.timeout(60_000);
  const pair = useConfPair({
    http: ({ port, backend }) => `
        map $http_upgrade $connection_upgrade { default upgrade; '' close; }
        server {
          listen 127.0.0.1:${port}; server_name a.test;
          location /plain/ { proxy_pass http://${backend}; }
          location /ws/ {
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_pass http://${backend};
          }
        }`,
  });

  it('a handshake to a location that does not pass Upgrade is a plain request: 200, no Upgrade at the backend', async () => {
    const { nginx, gatehouse } = await pair().both({ path: '/plain/x', headers: HANDSHAKE });
    expect(nginx.status).to.equal(200);
    expect(nginx.backend, 'nginx reached the backend').to.not.equal(undefined);
    expectSame(nginx, gatehouse, { backend: ['url', 'headers.upgrade', 'headers.sec-websocket-key'] });
  });

  it('a handshake to a location that passes Upgrade and Connection is tunnelled: 101 on both', async () => {
    const { nginx, gatehouse } = await pair().both({ path: '/ws/x', headers: HANDSHAKE });
    expect(nginx.status).to.equal(101);
    expectSame(nginx, gatehouse, { headers: ['upgrade', 'sec-websocket-accept'] });
  });
});
