// try_files on one .conf run by nginx 1.22 and by gatehouse's nginx adapter: an item is a file test
// or, written with a trailing "/", a directory test (ngx_http_try_files_handler's test_dir), whatever
// its value; so `$uri` for "/" is no hit even though the root directory exists.
import { expect } from 'chai';
import { expectSame } from '../helpers/differential.js';
import { useConfPair } from '../helpers/nginx-conf-differential.js';

describe('nginx .conf: try_files file and directory tests (nginx 1.22 vs gatehouse adapt, integration)', function () {
  this.timeout(60_000);
  const pair = useConfPair({
    files: { 'www/a.txt': 'a\n', 'www/dir/b.txt': 'b\n' },
    http: ({ port, dir, backend }) => `
        server {
          listen 127.0.0.1:${port}; server_name a.test;
          root ${dir}/www;
          location / { try_files $uri @app; }
          location /d/ { try_files $uri/ @app; }
          location @app { proxy_pass http://${backend}; }
        }`,
    dirs: ['www/d/sub'],
  });

  it('"$uri" for "/" is a file test: the existing root directory is no hit, @app gets the request', async () => {
    const { nginx, gatehouse } = await pair().both({ path: '/' });
    expect(nginx.status).to.equal(200);
    expect(nginx.backend, 'nginx proxied "/"').to.not.equal(undefined);
    expectSame(nginx, gatehouse, { backend: ['url', 'method'] });
  });

  it('"$uri" for a directory without the slash and with it goes to @app too', async () => {
    for (const path of ['/dir', '/dir/']) {
      const { nginx, gatehouse } = await pair().both({ path });
      expect(nginx.backend, `nginx proxied ${path}`).to.not.equal(undefined);
      expectSame(nginx, gatehouse, { backend: ['url'] });
    }
  });

  it('"$uri" for a file serves it', async () => {
    const { nginx, gatehouse } = await pair().both({ path: '/a.txt' });
    expect(nginx.body).to.equal('a\n');
    expectSame(nginx, gatehouse, { body: true, backend: [] });
  });

  it('"$uri/" is a directory test: a directory is a hit (no proxying), a file name is not', async () => {
    for (const path of ['/d/sub', '/d/sub/', '/d/nothing']) {
      const { nginx, gatehouse } = await pair().both({ path });
      expectSame(nginx, gatehouse, { backend: ['url'] });
    }
  });
});
