// Request bodies a public gateway must bound (security review F2, F7): a slow upload costs a
// socket, never a php-fpm worker (bodies are read whole before FastCGI is asked, nginx's
// fastcgi_request_buffering on); bodies are limited to 1m unless configured (nginx's
// client_max_body_size, compared with nginx below); bodies read whole are held in 16 KiB of memory,
// then in temporary files capped per request (413) and in total (507), never left on disk.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginx, startPhpFpm } from '../helpers/cgi-peers.js';
import { curl } from '../helpers/curl.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import type { Peer } from '../helpers/process.js';
import { rawConnect, type RawClient } from '../helpers/raw-client.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/php');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Temporary body files the process holds open (unlinked, so only /proc shows them). */
function openBodyFiles(pid: number): number {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (/gatehouse-body-.*\(deleted\)$/.test(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))) n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}

describe('request bodies (integration)', function () {
  this.timeout(60_000);
  let dir: string;
  let www: string;
  let fpm: Peer;
  let fpmPort: number;

  before(async () => {
    dir = tempDir('gh-bodies-');
    www = path.join(dir, 'www');
    fs.cpSync(FIXTURES, www, { recursive: true });
    fs.mkdirSync(path.join(www, 'nobuf'));
    fs.copyFileSync(path.join(www, 'body.php'), path.join(www, 'nobuf', 'body.php'));
    fpmPort = await freePort();
    // Two workers: two slow clients could take them all.
    fpm = await startPhpFpm(dir, [{ name: 'tcp', listen: `127.0.0.1:${fpmPort}`, maxChildren: 2 }]);
  });
  after(async () => {
    await fpm?.stop();
  });

  describe('FastCGI: slow uploads never hold php-fpm workers', () => {
    let gh: Gatehouse;
    const drips: RawClient[] = [];
    before(async () => {
      gh = await startGatehouse(() => ({
        log: { access: 'off' },
        sites: [
          {
            hosts: ['a.test'],
            routes: [
              { location: '^~ /nobuf/', proxy: `fastcgi://127.0.0.1:${fpmPort}`, root: www, tryFiles: ['$uri', '=404'], requestBuffering: false },
              { location: '~ \\.php$', proxy: `fastcgi://127.0.0.1:${fpmPort}`, root: www, tryFiles: ['$uri', '=404'] },
            ],
          },
        ],
      }));
    });
    afterEach(() => {
      for (const d of drips.splice(0)) d.destroy();
    });
    after(async () => {
      await gh?.stop();
    });

    const drip = async (p: string): Promise<RawClient> => {
      const c = await rawConnect({ port: gh.httpsPort, tls: { servername: 'a.test', ca: fs.readFileSync(gh.caFile) } });
      // 100000 bytes announced, one sent every 300 ms: alive for the body timer, never done.
      c.write(`POST ${p} HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100000\r\n\r\n`);
      c.drip('x', 300);
      drips.push(c);
      return c;
    };

    it('two dripping uploads leave both workers free (the body is read whole first)', async () => {
      await drip('/body.php');
      await drip('/body.php');
      await sleep(1000);
      const t0 = performance.now();
      const r = await curl([...gh.curlArgs('a.test', '/hello.php'), '--max-time', '5']);
      expect(r.status).to.equal(200);
      expect(r.body.toString()).to.equal('Hello, world!\n');
      expect(performance.now() - t0).to.be.below(2000);
    });

    it('with requestBuffering: false the same uploads take both workers (the body streams to php-fpm)', async () => {
      await drip('/nobuf/body.php');
      await drip('/nobuf/body.php');
      await sleep(1000);
      const r = await curl([...gh.curlArgs('a.test', '/hello.php'), '--max-time', '3']);
      expect(r.status, 'no worker was free for 3 s').to.equal(0);
    });
  });

  describe('maxBody: nginx client_max_body_size 1m by default', () => {
    let gh: Gatehouse;
    let nginx: Peer;
    let nginxPort: number;
    let file: string;
    before(async () => {
      file = path.join(dir, 'two-mib.bin');
      fs.writeFileSync(file, Buffer.alloc(2 * 1024 * 1024, 'u'));
      fs.writeFileSync(path.join(dir, 'one-mib.bin'), Buffer.alloc(1024 * 1024, 'u'));
      gh = await startGatehouse(() => ({
        log: { access: 'off' },
        sites: [{ hosts: ['a.test'], routes: [{ location: '~ \\.php$', proxy: `fastcgi://127.0.0.1:${fpmPort}`, root: www }] }],
      }));
      nginxPort = await freePort();
      nginx = await startNginx(
        tempDir('gh-bodies-nginx-'),
        `server { listen 127.0.0.1:${nginxPort}; root ${www};
    location ~ \\.php$ { include fastcgi.conf; fastcgi_pass 127.0.0.1:${fpmPort}; } }`,
        nginxPort,
      );
    });
    after(async () => {
      await gh?.stop();
      await nginx?.stop();
    });

    for (const [name, body, args] of [
      ['2 MiB with Content-Length', 'two-mib.bin', []],
      ['2 MiB chunked', 'two-mib.bin', ['-H', 'Transfer-Encoding: chunked']],
      ['exactly 1 MiB', 'one-mib.bin', []],
    ] as const) {
      it(`${name}: the same status as nginx`, async () => {
        const data = ['--data-binary', `@${path.join(dir, body)}`, ...args];
        const ours = await curl([...gh.curlArgs('a.test', '/body.php'), '--http1.1', ...data]);
        const theirs = await curl([`http://127.0.0.1:${nginxPort}/body.php`, '--http1.1', ...data]);
        expect(ours.status, ours.body.toString()).to.equal(theirs.status);
        expect(ours.status).to.equal(body === 'one-mib.bin' ? 200 : 413);
      });
    }
  });

  describe('temporary files: capped per request (413) and in total (507), never left behind', () => {
    let gh: Gatehouse;
    let tmp: string;
    const open: RawClient[] = [];
    let adminPort: number;
    const tempBytes = async () => Number(/^gatehouse_request_body_temp_bytes (\d+)$/m.exec((await curl([`http://127.0.0.1:${adminPort}/metrics`])).body.toString())?.[1]);
    before(async () => {
      adminPort = await freePort();
      tmp = path.join(dir, 'bodies');
      fs.mkdirSync(tmp);
      // A file a crashed process left between its open and its unlink.
      fs.writeFileSync(path.join(tmp, 'gatehouse-body-999999999-0123456789abcdef'), 'left over');
      gh = await startGatehouse(() => ({
        log: { access: 'off' },
        admin: { listen: `127.0.0.1:${adminPort}` },
        maxBody: 0,
        bodyBuffer: { memory: '16k', tempDir: tmp, tempMax: '64k', tempTotal: '100k' },
        sites: [{ hosts: ['a.test'], routes: [{ location: '~ \\.php$', proxy: `fastcgi://127.0.0.1:${fpmPort}`, root: www }] }],
      }));
    });
    afterEach(() => {
      for (const c of open.splice(0)) c.destroy();
    });
    after(async () => {
      await gh?.stop();
    });

    it('removed the file a crashed process left, at start', () => {
      expect(fs.readdirSync(tmp)).to.deep.equal([]);
    });

    it('413 for a body over tempMax, 200 under it', async () => {
      const upload = (n: number) => curl([...gh.curlArgs('a.test', '/body.php'), '--http1.1', '-H', 'Transfer-Encoding: chunked', '--data-binary', 'x'.repeat(n)]);
      expect((await upload(80 * 1024)).status).to.equal(413);
      const ok = await upload(60 * 1024);
      expect(ok.status).to.equal(200);
      expect(JSON.parse(ok.body.toString())).to.include({ length: 60 * 1024 });
    });

    it('507 when the files of all requests would pass tempTotal; the space comes back when a request ends', async () => {
      // 60 KiB of a body that never finishes sits in a temporary file.
      const held = await rawConnect({ port: gh.httpsPort, tls: { servername: 'a.test', ca: fs.readFileSync(gh.caFile) } });
      open.push(held);
      held.write('POST /body.php HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n');
      held.write(`f000\r\n${'h'.repeat(0xf000)}\r\n`);
      await sleep(500);
      expect(openBodyFiles(gh.peer.pid)).to.equal(1);
      expect(await tempBytes(), '/metrics').to.be.at.least(0xf000 - 16 * 1024);
      const over = await curl([...gh.curlArgs('a.test', '/body.php'), '--http1.1', '-H', 'Transfer-Encoding: chunked', '--data-binary', 'y'.repeat(60 * 1024)]);
      expect(over.status).to.equal(507);
      held.destroy();
      await sleep(300);
      expect(openBodyFiles(gh.peer.pid), 'the aborted request released its file').to.equal(0);
      expect(await tempBytes(), '/metrics').to.equal(0);
      const after = await curl([...gh.curlArgs('a.test', '/body.php'), '--http1.1', '-H', 'Transfer-Encoding: chunked', '--data-binary', 'z'.repeat(60 * 1024)]);
      expect(after.status).to.equal(200);
      expect(openBodyFiles(gh.peer.pid)).to.equal(0);
      expect(fs.readdirSync(tmp), 'nothing with a name on disk').to.deep.equal([]);
    });
  });
});
