// A request path ending in "/" never serves a regular file (security review F3): `/x.php/` would
// hand out PHP source past a `~ \.php$` location, and `/x.ini/`, `/x.ini//`, `/x.ini/.` would get
// round a `~ \.(ini|bak|sql)$` deny rule, since the router keeps the trailing slash and `$` does not
// match it. nginx opens "file/" and gets ENOTDIR (404). The review's PHP layout runs here in
// gatehouse and in nginx 1.22 side by side, and every status must agree.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { startNginx } from '../helpers/cgi-peers.js';
import { curl } from '../helpers/curl.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import type { Peer } from '../helpers/process.js';

const PHP_SOURCE = '<?php echo "INDEX"; ?>\n';
const SECRET = 'db_password=hunter2\n';

describe('static files: a trailing slash never names a file (integration, compared with nginx)', function () {
  this.timeout(60_000);
  let dir: string;
  let backend: EchoBackend;
  let gh: Gatehouse;
  let nginx: Peer;
  let nginxPort: number;

  before(async () => {
    dir = tempDir('gh-slash-');
    const www = path.join(dir, 'www');
    fs.mkdirSync(path.join(www, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(www, 'index.php'), PHP_SOURCE);
    fs.writeFileSync(path.join(www, 'config.ini'), SECRET);
    fs.writeFileSync(path.join(www, 'notes.txt'), 'notes\n');
    fs.writeFileSync(path.join(www, 'sub', 'index.html'), '<p>sub</p>\n');
    backend = await startEchoBackend();
    // The PHP route goes to an HTTP backend: the point is what the static root hands out.
    const routes = (last: Record<string, unknown>) => [
      { location: '~ \\.php$', proxy: backend.url, root: www },
      { location: '~ \\.(ini|bak|sql)$', return: 403 },
      { location: '/', root: www, index: ['index.php', 'index.html'], ...last },
    ];
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      sites: [
        { hosts: ['src.test'], default: true, routes: routes({}) },
        { hosts: ['tf.test'], routes: routes({ tryFiles: ['$uri', '$uri/', '=404'] }) },
      ],
    }));
    nginxPort = await freePort();
    const server = (name: string, last: string) => `server {
      listen 127.0.0.1:${nginxPort};
      server_name ${name};
      root ${www};
      index index.php index.html;
      location ~ \\.php$ { proxy_pass http://127.0.0.1:${backend.port}; }
      location ~ \\.(ini|bak|sql)$ { return 403; }
      location / { ${last} }
    }`;
    nginx = await startNginx(dir, `${server('src.test', '')}\n${server('tf.test', 'try_files $uri $uri/ =404;')}`, nginxPort);
  });

  after(async () => {
    await gh?.stop();
    await nginx?.stop('SIGQUIT');
    await backend?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const viaGatehouse = (host: string, p: string) => curl(['--path-as-is', ...gh.curlArgs(host, p)]);
  const viaNginx = (host: string, p: string) => curl(['--path-as-is', '-H', `Host: ${host}`, `http://127.0.0.1:${nginxPort}${p}`]);

  // [path, status both must give]
  const cases: Array<[string, number]> = [
    ['/index.php', 200],
    ['/index.php/', 404],
    ['/index.php//', 404],
    ['/index.php/.', 404],
    ['/config.ini', 403],
    ['/config.ini/', 404],
    ['/config.ini//', 404],
    ['/config.ini/.', 404],
    ['/config.ini%2F', 404],
    ['/notes.txt', 200],
    ['/notes.txt/', 404],
    ['/', 200],
    ['/sub', 301],
    ['/sub/', 200],
    ['/sub/index.html/', 404],
    ['/missing/', 404],
  ];

  for (const host of ['src.test', 'tf.test']) {
    for (const [p, status] of cases) {
      it(`${host}${p} gives ${status}, as nginx does`, async () => {
        const [g, n] = await Promise.all([viaGatehouse(host, p), viaNginx(host, p)]);
        expect(n.status, `nginx for ${p}`).to.equal(status);
        expect(g.status, `gatehouse for ${p}`).to.equal(n.status);
        expect(g.body.toString()).not.to.contain('<?php');
        expect(g.body.toString()).not.to.contain('hunter2');
      });
    }
  }
});
