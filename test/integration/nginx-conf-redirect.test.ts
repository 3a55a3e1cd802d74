// Redirects on one .conf run by nginx 1.22 and by gatehouse's nginx adapter: with nginx's defaults
// (absolute_redirect on, port_in_redirect on, server_name_in_redirect off) a Location starting with
// "/" goes out as scheme://HOST:PORT/..., HOST from the Host header (lower-case, its port dropped)
// and PORT the listening one (ngx_http_header_filter). The two listen on different ports, so the
// port is compared as the answering server's own.
import tls from 'node:tls';
import { expect } from 'chai';
import type { PairRequest } from '../helpers/differential.js';
import { useConfPair } from '../helpers/nginx-conf-differential.js';

/** Status and Location of one HTTP/1.1 request over TLS (certificates are not the point here). */
function tlsHead(port: number, path: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'a.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    let data = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no answer on ${port}`)), 10_000);
    socket.on('secureConnect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`));
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1]), location: /\r\nlocation: *([^\r]*)/i.exec(data)?.[1] });
    });
  });
}

describe('nginx .conf: absolute redirects (nginx 1.22 vs gatehouse adapt, integration)', function () {
  this.timeout(60_000);
  const pair = useConfPair({
    files: { 'www/dir/index.html': 'i\n' },
    http: ({ port, dir }) => `
        server {
          listen 127.0.0.1:${port}; server_name a.test;
          root ${dir}/www;
          location = /go { return 301 /dir/; }
          location = /old { rewrite ^ /new permanent; }
        }`,
  });

  // The harness writes each side's own listen port as {port:http}.
  const locations = async (req: PairRequest) => {
    const { nginx, gatehouse } = await pair().both(req);
    expect(nginx.status).to.be.oneOf([301, 302]);
    return {
      nginx: { status: nginx.status, location: nginx.headers.location },
      gatehouse: { status: gatehouse.status, location: gatehouse.headers.location },
    };
  };

  it('a directory without its slash: http://HOST:PORT/dir/, the query kept', async () => {
    for (const path of ['/dir', '/dir?a=1&b']) {
      const { nginx, gatehouse } = await locations({ path });
      expect(nginx.location).to.match(/^http:\/\/a\.test:\{port:http\}\/dir\//);
      expect(gatehouse).to.deep.equal(nginx);
    }
  });

  it('the Host header\'s name, lower-case, without its port; no Host: the local address', async () => {
    const a = await locations({ path: '/dir', headers: { host: 'A.Test:1234' } });
    expect(a.nginx.location).to.equal('http://a.test:{port:http}/dir/');
    expect(a.gatehouse).to.deep.equal(a.nginx);
    const b = await locations({ raw: 'GET /dir HTTP/1.0\r\n\r\n' });
    expect(b.gatehouse).to.deep.equal(b.nginx);
  });

  it('return and rewrite redirects to a path are made absolute the same way', async () => {
    for (const path of ['/go', '/old']) {
      const { nginx, gatehouse } = await locations({ path });
      expect(gatehouse).to.deep.equal(nginx);
    }
  });
});

describe('nginx .conf: absolute redirects over https (nginx 1.22 vs gatehouse adapt, integration)', function () {
  this.timeout(60_000);
  const pair = useConfPair({
    certificate: ['a.test'],
    files: { 'www/dir/index.html': 'i\n' },
    http: ({ port, dir }) => `
        server {
          listen 127.0.0.1:${port} ssl; server_name a.test;
          ssl_certificate ${dir}/letsencrypt/live/a.test/fullchain.pem; ssl_certificate_key ${dir}/letsencrypt/live/a.test/privkey.pem;
          root ${dir}/www;
        }`,
  });

  it('https://HOST:PORT/dir/ behind a port other than 443', async () => {
    const nginxPort = pair().ports.nginx.http!;
    const ghPort = pair().ports.gatehouse.http!;
    const [nginx, gatehouse] = await Promise.all([tlsHead(nginxPort, '/dir'), tlsHead(ghPort, '/dir')]);
    expect(nginx).to.deep.equal({ status: 301, location: `https://a.test:${nginxPort}/dir/` });
    expect(gatehouse).to.deep.equal({ status: 301, location: `https://a.test:${ghPort}/dir/` });
  });
});
