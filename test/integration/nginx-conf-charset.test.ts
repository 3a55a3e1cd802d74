// nginx's charset filter on one .conf run by nginx 1.22 and by gatehouse's nginx adapter: `charset`
// and `charset_types` at server and location level (a location's own replaces the server's, `off`
// turns it off), on proxied answers with and without a charset of their own, built-in error pages,
// `return` redirects (none on 301/302) and static files.
import { expect } from 'chai';
import { expectSame, type PairRequest } from '../helpers/differential.js';
import { useConfPair } from '../helpers/nginx-conf-differential.js';

describe('nginx .conf: charset and charset_types at server and location level (nginx 1.22 vs gatehouse adapt, integration)', function () {
  this.timeout(60_000);
  const pair = useConfPair({
    files: { 'www/a.html': '<p>a</p>\n', 'www/long.html': `<p>${'x'.repeat(500)}</p>\n`, 'www/a.css': 'p {}\n', 'www/off/a.html': '<p>off</p>\n' },
    http: ({ port, dir, backend }) => `
        include /etc/nginx/mime.types;
        server {
          listen 127.0.0.1:${port}; server_name a.test;
          root ${dir}/www;
          charset utf-8;
          location /api/ { proxy_pass http://${backend}; }
          location /koi/ { charset koi8-r; proxy_pass http://${backend}; }
          location /css/ { charset_types text/css; proxy_pass http://${backend}; }
          location /all/ { charset_types *; proxy_pass http://${backend}; }
          location /off/ { charset off; }
          location /offapi/ { charset off; proxy_pass http://${backend}; }
          location = /moved { return 301 /a.html; }
          location = /found { return 302 /a.html; }
          location = /temp { return 307 /a.html; }
        }
        server {
          listen 127.0.0.1:${port}; server_name b.test;
          root ${dir}/www;
          location /api/ { charset utf-8; proxy_pass http://${backend}; }
        }`,
  });

  const type = async (req: PairRequest): Promise<string | undefined> => {
    const { nginx, gatehouse } = await pair().both(req);
    expectSame(nginx, gatehouse, { headers: ['content-type'] });
    return nginx.headers['content-type'];
  };
  const respond = (prefix: string, contentType: string) => `${prefix}respond?h=${encodeURIComponent(`Content-Type:${contentType}`)}`;

  it('a proxied answer without a charset gets the server\'s; one that names its own, or has other parameters, keeps it', async () => {
    expect(await type({ path: respond('/api/', 'text/html') })).to.equal('text/html; charset=utf-8');
    expect(await type({ path: respond('/api/', 'Text/HTML') })).to.equal('Text/HTML; charset=utf-8');
    expect(await type({ path: respond('/api/', 'text/html; charset=ISO-8859-1') })).to.equal('text/html; charset=ISO-8859-1');
    expect(await type({ path: respond('/api/', 'text/html;charset=x') })).to.equal('text/html;charset=x');
    expect(await type({ path: respond('/api/', 'text/html; level=1') })).to.equal('text/html; level=1');
    expect(await type({ path: respond('/api/', 'application/json') })).to.equal('application/json');
    expect(await type({ path: '/api/respond?notype' })).to.equal(undefined);
  });

  it('a location\'s charset and charset_types replace the server\'s; `*` is every type', async () => {
    expect(await type({ path: respond('/koi/', 'text/plain') })).to.equal('text/plain; charset=koi8-r');
    // charset_types always holds text/html besides what it lists (the directive's default).
    expect(await type({ path: respond('/css/', 'text/css') })).to.equal('text/css; charset=utf-8');
    expect(await type({ path: respond('/css/', 'text/html') })).to.equal('text/html; charset=utf-8');
    expect(await type({ path: respond('/css/', 'text/plain') })).to.equal('text/plain');
    expect(await type({ path: respond('/all/', 'image/png') })).to.equal('image/png; charset=utf-8');
    expect(await type({ path: respond('/all/', 'text/html; level=1') })).to.equal('text/html; level=1; charset=utf-8');
  });

  it('built-in error pages (of the server and of a location) and static files get it; `charset off` turns it off', async () => {
    expect(await type({ path: '/nothing' })).to.equal('text/html; charset=utf-8');
    expect(await type({ path: respond('/api/', 'text/html') + '&status=404' })).to.equal('text/html; charset=utf-8');
    expect(await type({ path: '/a.html' })).to.equal('text/html; charset=utf-8');
    expect(await type({ path: '/a.css' })).to.equal('text/css');
    expect(await type({ path: '/off/a.html' })).to.equal('text/html');
    expect(await type({ path: '/off/nothing' })).to.equal('text/html');
    expect(await type({ path: respond('/offapi/', 'text/html') })).to.equal('text/html');
  });

  it('each part of a multipart range names the charset, as nginx\'s range filter writes it', async () => {
    const { nginx, gatehouse } = await pair().both({ path: '/long.html', headers: { range: 'bytes=0-1,400-401' } });
    expect([nginx.status, gatehouse.status]).to.deep.equal([206, 206]);
    for (const a of [nginx, gatehouse]) expect(a.body.match(/Content-Type: [^\r]*/g)).to.deep.equal(['Content-Type: text/html; charset=utf-8', 'Content-Type: text/html; charset=utf-8']);
  });

  it('a 301 or 302 redirect page never names it, a 307 does', async () => {
    expect(await type({ path: '/moved' })).to.equal('text/html');
    expect(await type({ path: '/found' })).to.equal('text/html');
    expect(await type({ path: '/temp' })).to.equal('text/html; charset=utf-8');
    expect(await type({ path: respond('/api/', 'text/html') + '&status=302&h=Location:/x' })).to.equal('text/html');
  });

  it('a charset in one location only: the server\'s other answers have none', async () => {
    expect(await type({ path: respond('/api/', 'text/html'), headers: { host: 'b.test' } })).to.equal('text/html; charset=utf-8');
    expect(await type({ path: '/a.html', headers: { host: 'b.test' } })).to.equal('text/html');
    expect(await type({ path: '/nothing', headers: { host: 'b.test' } })).to.equal('text/html');
  });
});
