// `-p/--prefix` against nginx 1.22 -p on the same layout: nginx takes its conf prefix from the -c
// file whatever -p says (ngx_process_options), so relative includes and auth_basic_user_file are
// read beside the main file, while `root html;` and a relative alias are under the -p prefix.
// The prefix holds decoys of the same names, so reading from the wrong folder shows.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { NGINX } from '../helpers/cgi-peers.js';
import { exchange, expectSame, type PairRequest } from '../helpers/differential.js';
import { runGatehouse, tempDir } from '../helpers/gatehouse.js';
import { freePort, waitForPort } from '../helpers/ports.js';
import { startPeer, type Peer } from '../helpers/process.js';

// `openssl passwd -apr1 -salt abcdefgh secret`
const HTPASSWD = 'user:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/\n';

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** One main file and its relative includes and htpasswd in `confDir`. */
function layout(confDir: string, port: number, head: string): string {
  const main = path.join(confDir, 'main.conf');
  write(main, `${head}
events {}
http {
  server {
    listen 127.0.0.1:${port};
    location / { root html; }
    location /pics/ { alias pictures/; }
    location /which { include snippets/which.conf; }
    location /auth/ { auth_basic "r"; auth_basic_user_file htpasswd; root html; }
  }
}
`);
  write(path.join(confDir, 'snippets/which.conf'), 'return 200 "conf folder\\n";\n');
  write(path.join(confDir, 'htpasswd'), HTPASSWD);
  return main;
}

describe('nginx .conf: -p/--prefix sets the prefix, never the conf prefix (nginx 1.22 -p vs gatehouse -p, integration)', function () {
  this.timeout(60_000);
  let dir: string;
  let nginx: Peer;
  let gatehouse: Peer;
  let nginxPort: number;
  let ghPort: number;
  const both = async (req: PairRequest) => {
    const [n, g] = await Promise.all([exchange(nginxPort, req), exchange(ghPort, req)]);
    return { nginx: n, gatehouse: g };
  };

  before(async () => {
    dir = tempDir('gh-prefix-');
    const prefix = path.join(dir, 'prefix');
    write(path.join(prefix, 'html/index.html'), '<p>prefix html</p>\n');
    write(path.join(prefix, 'html/auth/index.html'), '<p>behind auth</p>\n');
    write(path.join(prefix, 'pictures/a.txt'), 'picture a\n');
    // Decoys: what a reader that takes -p for the conf prefix would find.
    write(path.join(prefix, 'snippets/which.conf'), 'return 200 "prefix\\n";\n');
    write(path.join(prefix, 'htpasswd'), 'user:$apr1$abcdefgh$wrongwrongwrongwrongw/\n');
    for (const t of ['logs', 'temp']) fs.mkdirSync(path.join(prefix, t), { recursive: true });
    nginxPort = await freePort();
    ghPort = await freePort();
    const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${prefix}/temp;`).join(' ');
    const nginxMain = layout(
      path.join(dir, 'nginx-conf'),
      nginxPort,
      `pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log; ${process.getuid?.() === 0 ? 'user root;' : ''}`,
    );
    // The temp paths are nginx's business only; the http block gets them through an absolute include.
    write(path.join(dir, 'nginx-temps.conf'), temps);
    fs.writeFileSync(nginxMain, fs.readFileSync(nginxMain, 'utf8').replace('http {', `http {\n  access_log off; include ${dir}/nginx-temps.conf;`));
    const ghMain = layout(path.join(dir, 'gh-conf'), ghPort, '');
    nginx = startPeer(NGINX, ['-p', prefix, '-c', nginxMain, '-g', 'daemon off;']);
    await Promise.race([
      waitForPort(nginxPort),
      nginx.exited.then(({ code }) => {
        throw new Error(`nginx exited with ${code}:\n${nginx.output()}`);
      }),
    ]);
    gatehouse = await runGatehouse(['run', '-p', prefix, '-c', ghMain], dir);
  });
  after(async () => {
    await gatehouse?.stop();
    await nginx?.stop('SIGQUIT');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a relative include is read beside the main file, not under -p', async () => {
    const { nginx, gatehouse } = await both({ path: '/which' });
    expect(nginx.body).to.equal('conf folder\n');
    expectSame(nginx, gatehouse, { body: true });
  });

  it('auth_basic_user_file is read beside the main file: its password works, the decoy\'s does not', async () => {
    const good = `Basic ${Buffer.from('user:secret').toString('base64')}`;
    for (const authorization of [good, undefined]) {
      const { nginx, gatehouse } = await both({ path: '/auth/', headers: authorization ? { authorization } : {} });
      expect(nginx.status).to.equal(authorization ? 200 : 401);
      expectSame(nginx, gatehouse, { body: authorization !== undefined });
    }
  });

  it('"root html" and a relative alias are under -p', async () => {
    for (const p of ['/', '/pics/a.txt']) {
      const { nginx, gatehouse } = await both({ path: p });
      expect(nginx.status).to.equal(200);
      expectSame(nginx, gatehouse, { body: true });
    }
  });
});
