// WordPress, Laravel and Nextcloud site files (test/fixtures/nginx-sites/) under nginx 1.22 and
// gatehouse, both in front of the same php-fpm: what the client gets and the CGI params PHP sees.
import fs from 'node:fs';
import path from 'node:path';
import { expectSameAll, SITES, useConfPair } from '../helpers/nginx-conf-differential.js';

const PARAMS = fs.readFileSync(path.join(SITES, 'apps/params.php'));

describe('nginx conf differential: WordPress on php-fpm (nginx 1.22, integration)', function () {
  this.timeout(60_000);
  const host = { host: 'blog.example.test' };

  const pair = useConfPair({
    site: 'wordpress.conf',
    fpm: true,
    files: {
      'wordpress/index.php': PARAMS,
      'wordpress/wp-login.php': PARAMS,
      'wordpress/wp-admin/index.php': PARAMS,
      'wordpress/wp-content/themes/t/style.css': 'body{}\n',
      'wordpress/wp-content/themes/t/app.js': 'let a;\n',
      'wordpress/wp-content/uploads/2024/evil.php': PARAMS,
      'wordpress/wp-content/uploads/2024/pic.png': Buffer.from([0x89, 0x50, 0x4e, 0x47]),
      'wordpress/.htaccess': 'deny\n',
      'wordpress/robots.txt': 'User-agent: *\n',
      'wordpress/readme.html': '<p>readme</p>\n',
    },
  });

  it('pretty permalinks go through index.php with the query as $args', async () => {
    await expectSameAll(pair(), [
      { path: '/', headers: host },
      { path: '/2024/05/hello-world/', headers: host },
      { path: '/category/news/?paged=2', headers: host },
      { path: '/?p=123', headers: host },
      { path: '/wp-json/wp/v2/posts?per_page=5', headers: host },
      { path: '/index.php', headers: host },
      { path: '/nope', headers: { host: 'www.blog.example.test' } },
    ]);
  });

  it('wp-login and wp-admin: POST bodies, cookies, redirects from PHP', async () => {
    await expectSameAll(pair(), [
      { path: '/wp-login.php', method: 'POST', body: 'log=a&pwd=b', headers: { ...host, 'content-type': 'application/x-www-form-urlencoded' } },
      { path: '/wp-login.php?cookie=1', headers: host },
      { path: '/wp-login.php?go=1', headers: host },
      { path: '/wp-admin/', headers: host },
      { path: '/wp-admin/index.php?page=x', headers: { ...host, cookie: 'wordpress_logged_in=1' } },
    ]);
  });

  it('a directory without its slash (try_files $uri $uri/ ...): 301 to the slash', async () => {
    await expectSameAll(pair(), [{ path: '/wp-admin', headers: host }, { path: '/wp-admin?x=1', headers: host }]);
  });

  it('static assets with expires max, robots.txt, and what is denied', async () => {
    await expectSameAll(pair(), [
      { path: '/wp-content/themes/t/style.css', headers: host },
      { path: '/wp-content/themes/t/app.js', headers: host },
      { path: '/wp-content/uploads/2024/pic.png', headers: host },
      { path: '/wp-content/uploads/2024/missing.png', headers: host },
      { path: '/wp-content/uploads/2024/evil.php', headers: host },
      { path: '/.htaccess', headers: host },
      { path: '/robots.txt', headers: host },
      { path: '/favicon.ico', headers: host },
      { path: '/readme.html', headers: host },
      { path: '/missing.php', headers: host },
    ]);
  });
});

describe('nginx conf differential: Laravel on php-fpm (nginx 1.22, integration)', function () {
  this.timeout(60_000);
  const host = { host: 'shop.example.test' };

  const pair = useConfPair({
    site: 'laravel.conf',
    fpm: true,
    files: {
      'laravel/public/index.php': PARAMS,
      'laravel/public/css/app.css': 'body{}\n',
      'laravel/public/.env': 'APP_KEY=secret\n',
      'laravel/public/.well-known/security.txt': 'Contact: x\n',
    },
  });

  it('routes through public/index.php with $query_string, security headers added', async () => {
    await expectSameAll(pair(), [
      { path: '/', headers: host },
      { path: '/products/42?color=red', headers: host },
      { path: '/cart', method: 'POST', body: '{"id":1}', headers: { ...host, 'content-type': 'application/json' } },
      { path: '/index.php/legacy', headers: host },
      { path: '/login?go=1', headers: host },
      { path: '/css/app.css', headers: host },
      { path: '/.env', headers: host },
      { path: '/.well-known/security.txt', headers: host },
      { path: '/missing.php', headers: host },
    ]);
  });
});

describe('nginx conf differential: Nextcloud on php-fpm (nginx 1.22, integration)', function () {
  this.timeout(60_000);
  const host = { host: 'cloud.example.test' };

  const pair = useConfPair({
    site: 'nextcloud.conf',
    fpm: true,
    files: {
      'nextcloud/index.php': PARAMS,
      'nextcloud/remote.php': PARAMS,
      'nextcloud/status.php': PARAMS,
      'nextcloud/ocs/v2.php': PARAMS,
      'nextcloud/core/js/main.js': 'main\n',
      'nextcloud/config/config.php': '<?php $CONFIG = [];\n',
      'nextcloud/robots.txt': 'User-agent: *\n',
    },
  });

  it('the front controller, PATH_INFO split, DAV and .well-known redirects, hidden folders', async () => {
    await expectSameAll(pair(), [
      { path: '/', headers: host },
      { path: '/apps/files/', headers: host },
      { path: '/remote.php/dav/files/alice/doc.txt', method: 'PROPFIND', headers: { ...host, depth: '1' } },
      { path: '/status.php', headers: host },
      { path: '/ocs/v2.php/apps/notifications?format=json', headers: host },
      { path: '/.well-known/carddav', headers: host },
      { path: '/.well-known/caldav', headers: host },
      { path: '/.well-known/webfinger?resource=x', headers: host },
      { path: '/config/config.php', headers: host },
      { path: '/data/alice/files', headers: host },
      { path: '/occ', headers: host },
      { path: '/core/js/main.js', headers: host },
      { path: '/core/js/missing.js', headers: host },
      { path: '/settings.php', headers: host },
      { path: '/robots.txt', headers: host },
    ]);
  });
});
