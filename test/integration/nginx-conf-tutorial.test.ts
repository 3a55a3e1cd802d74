// The reverse-proxy tutorial's blocks (test/fixtures/nginx-sites/tutorial*.conf) under nginx 1.22
// and gatehouse: proxy_pass with and without a URI part, forwarded headers, try_files before
// proxy_pass, static files, FastCGI to php-fpm, uwsgi, SSL.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { expectSameAll, SITES, useConfPair } from '../helpers/nginx-conf-differential.js';

const HOST = 'tutorial.example.test';

describe('nginx conf differential: the tutorial (nginx 1.22, integration)', function () {
  this.timeout(60_000);

  const pair = useConfPair({
    site: 'tutorial.conf',
    uwsgi: 'apps/echo_wsgi.py',
    files: {
      'www/static/site.css': 'body { color: black; }\n',
      'www/static/index.html': '<p>static index</p>\n',
      'pictures/cat.txt': 'cat\n',
    },
  });

  it('proxy_pass without a URI part passes the request URI as it came', async () => {
    await expectSameAll(pair(), [
      { path: '/', headers: { host: HOST } },
      { path: '/some/page?x=1&y=%20z', headers: { host: HOST } },
      { path: '/a%2Fb/c', headers: { host: HOST } },
      { path: '/form', method: 'POST', body: 'a=1&b=2', headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded' } },
      { path: '/', method: 'HEAD', headers: { host: HOST } },
      { path: '/x', headers: { host: HOST, cookie: 'a=1', 'user-agent': 'tutorial-test' } },
    ]);
  });

  it('proxy_pass with a URI part replaces the location prefix (/blog → /wordpress//my-post)', async () => {
    const { nginx } = await pair().both({ path: '/blog/my-post', headers: { host: HOST } });
    expect(nginx.backend?.url).to.equal('/wordpress//my-post');
    await expectSameAll(pair(), [
      { path: '/blog/my-post', headers: { host: HOST } },
      { path: '/blog', headers: { host: HOST } },
      { path: '/blogroll?p=2', headers: { host: HOST } },
      { path: '/app/', headers: { host: HOST } },
      { path: '/app/users/7?full=1', headers: { host: HOST } },
      { path: '/app', headers: { host: HOST } },
    ]);
  });

  it('the forwarded headers: Host, X-Real-IP, X-Forwarded-For (appended), X-Forwarded-Proto', async () => {
    await expectSameAll(pair(), [
      { path: '/api/v1/items', headers: { host: HOST } },
      { path: '/api/v1/items', headers: { host: 'TUTORIAL.example.test:8080' } },
      { path: '/api', headers: { host: HOST, 'x-forwarded-for': '203.0.113.9' } },
      { path: '/api/x', headers: { host: HOST, 'x-forwarded-for': '203.0.113.9, 198.51.100.1', 'x-real-ip': '1.2.3.4' } },
      { path: '/api/x', headers: { host: HOST, 'x-forwarded-proto': 'https' } },
    ]);
  });

  it('try_files $uri $uri/ =404 before proxy_pass answers 404 for what is not on disk', async () => {
    const { nginx } = await pair().both({ path: '/checked/anything', headers: { host: HOST } });
    expect(nginx.status).to.equal(404);
    await expectSameAll(pair(), [
      { path: '/checked/anything', headers: { host: HOST } },
      { path: '/checked/', headers: { host: HOST } },
    ]);
  });

  it('static files by root and alias', async () => {
    await expectSameAll(pair(), [
      { path: '/static/site.css', headers: { host: HOST } },
      { path: '/static/', headers: { host: HOST } },
      { path: '/static/missing.css', headers: { host: HOST } },
      { path: '/static', headers: { host: HOST } },
      { path: '/images/cat.txt', headers: { host: HOST } },
      { path: '/images/../www/static/site.css', headers: { host: HOST } },
      { path: '/static/site.css', method: 'HEAD', headers: { host: HOST } },
    ]);
  });

  it('Python through uwsgi (uwsgi_params): the environ the app receives', async () => {
    const py = 'py.tutorial.example.test';
    await expectSameAll(pair(), [
      { path: '/', headers: { host: py } },
      { path: '/polls/3/?vote=1', headers: { host: py } },
      { path: '/accounts/login/', method: 'POST', body: 'user=a', headers: { host: py, 'content-type': 'application/x-www-form-urlencoded' } },
      { path: '/x', headers: { host: py, cookie: 'csrftoken=1' } },
    ]);
  });

  it('a client "Proxy:" header: nginx passes it on as HTTP_PROXY (httpoxy), gatehouse drops it on purpose', async () => {
    const { nginx, gatehouse } = await pair().both({ path: '/x', headers: { host: 'py.tutorial.example.test', proxy: 'http://evil.example' } });
    expect(JSON.parse(nginx.body)).to.include({ HTTP_PROXY: 'http://evil.example' });
    expect(JSON.parse(gatehouse.body)).to.include({ HTTP_PROXY: null, PATH_INFO: '/x' });
  });
});

describe('nginx conf differential: the tutorial\'s PHP block (nginx 1.22, integration)', function () {
  this.timeout(60_000);

  const params = fs.readFileSync(path.join(SITES, 'apps/params.php'));
  const pair = useConfPair({
    site: 'tutorial-php.conf',
    fpm: true,
    files: { 'php/index.php': params, 'php/info.php': params, 'php/readme.txt': 'readme\n' },
  });

  it('PHP through FastCGI (snippets/fastcgi-php.conf): the CGI params php-fpm receives', async () => {
    const php = 'php.tutorial.example.test';
    await expectSameAll(pair(), [
      { path: '/', headers: { host: php } },
      { path: '/index.php?a=1', headers: { host: php } },
      { path: '/info.php/extra/path?q=2', headers: { host: php } },
      { path: '/info.php', method: 'POST', body: 'x=1', headers: { host: php, 'content-type': 'application/x-www-form-urlencoded' } },
      { path: '/info.php?cookie=1', headers: { host: php, cookie: 'c=3' } },
      { path: '/missing.php', headers: { host: php } },
      { path: '/readme.txt', headers: { host: php } },
    ]);
  });

});

describe('nginx conf differential: the tutorial\'s SSL block (nginx 1.22, integration)', function () {
  this.timeout(60_000);

  const pair = useConfPair({ site: 'tutorial-ssl.conf', ports: ['https'], certificate: [HOST] });

  it('TLS with the certificate from files; the backend hears X-Forwarded-Proto https', async () => {
    const { nginx } = await pair().both({ port: 'https', tls: HOST, path: '/', headers: { host: HOST } });
    expect(nginx.backend?.headers).to.include({ 'x-forwarded-proto': 'https' });
    await expectSameAll(pair(), [
      { port: 'https', tls: HOST, path: '/', headers: { host: HOST } },
      { port: 'https', tls: HOST, path: '/account?id=1', method: 'POST', body: '{}', headers: { host: HOST, 'content-type': 'application/json' } },
      { port: 'https', tls: HOST, path: '/x', headers: { host: HOST, 'x-forwarded-for': '192.0.2.1' } },
    ]);
  });
});
