// nginx 1.22 and gatehouse (`defaults: nginx`) in front of the same echo backend on a unix socket:
// `proxy_pass http://unix:/path:/uri`, without a URI part, and `server unix:/path` in an upstream.
// What the backend receives (request line, Host, the other headers) must be the same.
import { expect } from 'chai';
import { expectSame, startDifferential, withoutServerLine, type Answer, type Differential } from '../helpers/differential.js';

describe('differential: HTTP upstreams on unix sockets, nginx 1.22 and gatehouse (integration)', function () {
  this.timeout(60_000);
  let pair: Differential;

  before(async () => {
    pair = await startDifferential({
      backendSocket: true,
      nginx: ({ port, backend, dir }) => `
      upstream sockets { server unix:${backend}; }
      server {
        listen 127.0.0.1:${port}; server_name a.test;
        location /api/ { proxy_pass http://unix:${backend}:/remote/; }
        location /raw/ { proxy_pass http://unix:${backend}; }
        location /grp/ { proxy_pass http://sockets; }
        location /gone/ { proxy_pass http://unix:${dir}/gone.sock; }
      }`,
      gatehouse: ({ backend, dir }) => ({
        defaults: 'nginx',
        upstreams: { sockets: { servers: [`http+unix:${backend}`] } },
        sites: [{ hosts: 'a.test', tls: 'off', routes: [
          { location: '/api/', proxy: `http+unix:${backend}:/remote/` },
          { location: '/raw/', proxy: `http+unix:${backend}` },
          { location: '/grp/', proxy: 'http://sockets' },
          { location: '/gone/', proxy: `http+unix:${dir}/gone.sock` },
        ] }],
      }),
    });
  });
  after(async () => pair?.close());

  /** Every header the backend saw, but the connection's own (nginx speaks HTTP/1.0 with `Connection: close`, gatehouse keeps HTTP/1.1 connections alive). */
  const sent = (a: Answer) => {
    const { connection: _c, ...rest } = (a.backend?.headers ?? {}) as Record<string, string>;
    return rest;
  };

  for (const [name, req] of [
    ['a URI part replaces the matched prefix', { path: '/api/x/y%2Fz?q=1&r' }],
    ['no URI part: the URI as the client sent it', { path: '/raw/a/../b/%7Euser?x=%20' }],
    ['a POST with a body and client headers', { path: '/api/up', method: 'POST', body: 'hello', headers: { 'x-custom': 'v', cookie: 'a=1', 'user-agent': 'ua/1' } }],
    ['an upstream of unix servers: Host is the upstream name', { path: '/grp/p?x' }],
  ] as const) {
    it(`${name}: same request line, Host and headers at the backend`, async () => {
      const { nginx, gatehouse } = await pair.both(req);
      expect(nginx.backend, `nginx reached the backend: ${nginx.head}`).to.not.equal(undefined);
      expectSame(nginx, gatehouse, { backend: ['method', 'url', 'bodyLength', 'headers.host'] });
      expect(sent(gatehouse)).to.deep.equal(sent(nginx));
    });
  }

  it('proxy_redirect default rewrites a Location naming http://unix:PATH:/uri/ as nginx', async () => {
    const target = `http://unix:${pair.dir}/backend.sock:/remote/x?y`;
    const { nginx, gatehouse } = await pair.both({ path: `/api/respond?status=302&h=Location:${encodeURIComponent(target)}` });
    expect(nginx.status).to.equal(302);
    expect(nginx.headers.location?.replace(`http://a.test:${pair.nginxPort}`, '')).to.equal('/api/x?y');
    expect(gatehouse.headers.location).to.equal('/api/x?y');
  });

  it('a socket file that does not exist: 502 on both, the same page', async () => {
    const { nginx, gatehouse } = await pair.both({ path: '/gone/x' });
    expect(nginx.status).to.equal(502);
    expectSame(nginx, gatehouse, { body: withoutServerLine, headers: ['content-type'] });
  });

  it('Host is "localhost" for proxy_pass http://unix:…, as $proxy_host', async () => {
    const { nginx, gatehouse } = await pair.both({ path: '/raw/h' });
    expect((nginx.backend?.headers as Record<string, string>).host).to.equal('localhost');
    expect((gatehouse.backend?.headers as Record<string, string>).host).to.equal('localhost');
  });
});
