// WordPress, Laravel and Nextcloud site files (test/fixtures/nginx-sites/) under nginx 1.22 and
// gatehouse, both in front of the same php-fpm: what the client gets and the CGI params PHP sees.
import fs from 'node:fs';
import path from 'node:path';
import { expectSameAll, SITES, startConfPair, type ConfPair } from '../helpers/nginx-conf-differential.js';

const PARAMS = fs.readFileSync(path.join(SITES, 'apps/params.php'));

describe('nginx conf differential: WordPress on php-fpm (nginx 1.22, integration)', function () {
  this.timeout(60_000);
  let pair: ConfPair;
  const host = { host: 'blog.example.test' };

  before(async () => {
    pair = await startConfPair({
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
  });
  after(async () => pair?.close());

  it('static assets with expires max, robots.txt, and what is denied', async () => {
    await expectSameAll(pair, [
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
