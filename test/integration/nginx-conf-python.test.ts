// Django site files (test/fixtures/nginx-sites/) under nginx 1.22 and gatehouse: through uWSGI
// (uwsgi_pass, uwsgi_params, static by alias) and under gunicorn (proxy_pass to an upstream,
// try_files $uri @proxy_to_app, a catch-all server answering 444).
import { expect } from 'chai';
import { exchange } from '../helpers/differential.js';
import { expectSameAll, useConfPair } from '../helpers/nginx-conf-differential.js';

describe('nginx conf differential: Django through uWSGI (nginx 1.22, integration)', function () {
  this.timeout(60_000);
  const host = { host: 'app.example.test' };

  const pair = useConfPair({
    site: 'django-uwsgi.conf',
    uwsgi: 'apps/echo_wsgi.py',
    files: {
      'django/static/admin/css/base.css': 'body{}\n',
      'django/static/app.js': 'x\n',
      'django/media/avatars/a.txt': 'avatar\n',
    },
  });

  it('the app gets the uwsgi_params environ plus DJANGO_SETTINGS_MODULE', async () => {
    await expectSameAll(pair(), [
      { path: '/', headers: host },
      { path: '/polls/1/results/?x=%2F', headers: host },
      { path: '/accounts/login/', method: 'POST', body: 'username=a&password=b', headers: { ...host, 'content-type': 'application/x-www-form-urlencoded' } },
      { path: '/api/items', method: 'PUT', body: '{"a":1}', headers: { ...host, 'content-type': 'application/json', cookie: 'sessionid=1' } },
      { path: '/admin/', headers: { host: 'APP.example.test' } },
    ]);
  });

  it('static and media by alias, expires on static', async () => {
    await expectSameAll(pair(), [
      { path: '/static/admin/css/base.css', headers: host },
      { path: '/static/app.js', headers: host },
      { path: '/static/missing.css', headers: host },
      { path: '/media/avatars/a.txt', headers: host },
      { path: '/media/avatars/', headers: host },
      { path: '/mediafile', headers: host },
    ]);
  });
});

describe('nginx conf differential: Django under gunicorn (nginx 1.22, integration)', function () {
  this.timeout(60_000);
  const host = { host: 'django.example.test' };

  const pair = useConfPair({
    site: 'django-gunicorn.conf',
    files: {
      'gunicorn/public/robots.txt': 'User-agent: *\n',
      'gunicorn/public/500.html': '<h1>Server error</h1>\n',
      'gunicorn/public/static/site.css': 'body{}\n',
    },
  });

  it('try_files $uri @proxy_to_app: files from disk, everything else to the app', async () => {
    await expectSameAll(pair(), [
      { path: '/robots.txt', headers: host },
      { path: '/static/site.css', headers: host },
      { path: '/polls/', headers: host },
      { path: '/polls/3/vote/', method: 'POST', body: 'choice=1', headers: { ...host, 'content-type': 'application/x-www-form-urlencoded' } },
      { path: '/api?q=1', headers: { ...host, 'x-forwarded-for': '198.51.100.7' } },
      { path: '/admin/login/?next=/admin/', headers: { host: 'django.example.test:8443' } },
    ]);
  });

  it('the site root: try_files $uri @app on "/" proxies', async () => {
    await expectSameAll(pair(), [{ path: '/', headers: host }]);
  });

  it('error_page 502 from the app is the static 500.html', async () => {
    await expectSameAll(pair(), [{ path: '/status/502', headers: host }, { path: '/status/503', headers: host }, { path: '/status/404', headers: host }]);
  });

  it('an unknown Host hits the default server: 444 closes without an answer on both', async () => {
    for (const side of ['nginx', 'gatehouse'] as const) {
      const err = await exchange(pair().ports[side].http!, { path: '/', headers: { host: 'other.test' } }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message, side).to.match(/closed before a complete answer|ECONNRESET/);
    }
  });
});
