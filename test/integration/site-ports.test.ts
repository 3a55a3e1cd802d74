// issue 18: sites bound to ports (nginx's per-address:port server tables). The same name reaches a
// different site on each port, each port has its own default site and its own certificates, over
// HTTP/1.1 and HTTP/2; and the routing of one nginx file is compared with nginx 1.22 itself.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { startNginx } from '../helpers/cgi-peers.js';
import { curl } from '../helpers/curl.js';
import { exchange } from '../helpers/differential.js';
import { CLI, startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort, waitForPort } from '../helpers/ports.js';
import { startPeer, type Peer } from '../helpers/process.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';

describe('sites bound to ports (integration)', function () {
  this.timeout(60_000);

  describe('native config, real curl', () => {
    let gh: Gatehouse;
    let ca: TestCa;
    let second: number;

    before(async () => {
      ca = makeTestCa(path.join(tempDir('gh-ports-ca-'), 'ca'));
      const pair = ca.issue('a', ['a.test']);
      second = await freePort();
      gh = await startGatehouse(({ http, https }) => ({
        listen: { http: `127.0.0.1:${http}`, https: [`127.0.0.1:${https}`, `127.0.0.1:${second}`] },
        sites: [
          { hosts: 'a.test', listen: [http], routes: [{ location: '/', return: '200 a-plain' }] },
          { hosts: 'a.test', listen: [https], default: true, routes: [{ location: '/', return: '200 a-first' }] },
          { hosts: 'a.test', listen: [second], tls: { cert: pair.certFile, key: pair.keyFile }, routes: [{ location: '/', return: '200 a-second' }] },
          { hosts: 'd.test', listen: [http, https], default: [http], redirect: 'off', routes: [{ location: '/', return: '200 d' }] },
        ],
      }));
    });
    after(async () => {
      await gh?.stop();
      fs.rmSync(path.dirname(ca.dir), { recursive: true, force: true });
    });

    it('one name reaches the plain site on the http port and the app site on the https port', async () => {
      const plain = await curl(['-H', 'Host: a.test', `http://127.0.0.1:${gh.httpPort}/`]);
      expect([plain.status, plain.body.toString()]).to.deep.equal([200, 'a-plain']);
      const secure = await curl(gh.curlArgs('a.test'));
      expect([secure.status, secure.body.toString(), secure.stderr]).to.deep.equal([200, 'a-first', '']);
    });

    it('each port has its own default site for an unknown Host', async () => {
      const plain = await curl(['-H', 'Host: unknown.test', `http://127.0.0.1:${gh.httpPort}/`]);
      expect([plain.status, plain.body.toString()]).to.deep.equal([200, 'd']);
      // No SNI (an IP address): the https port's default certificate (a.test's), which does not cover the Host: 421, per port.
      const secure = await curl(['-k', `https://127.0.0.1:${gh.httpsPort}/`]);
      expect(secure.status).to.equal(421);
    });

    it('SNI picks the certificate of the port: the internal CA on one, the file pair on the other', async () => {
      const first = await curl(gh.curlArgs('a.test'));
      expect(first.status).to.equal(200);
      const wrongCa = await curl(['--cacert', ca.caFile, '--resolve', `a.test:${gh.httpsPort}:127.0.0.1`, `https://a.test:${gh.httpsPort}/`]);
      expect(wrongCa.exitCode, 'the first port does not serve the file pair').to.equal(60);
      const other = await curl(['--cacert', ca.caFile, '--resolve', `a.test:${second}:127.0.0.1`, `https://a.test:${second}/`]);
      expect([other.status, other.body.toString(), other.stderr]).to.deep.equal([200, 'a-second', '']);
    });

    it('HTTP/2 routes by the port too', async () => {
      for (const [port, body] of [
        [gh.httpsPort, 'a-first'],
        [second, 'a-second'],
      ] as const) {
        const r = await curl(['--http2', '-k', '--resolve', `a.test:${port}:127.0.0.1`, `https://a.test:${port}/`]);
        expect([r.httpVersion, r.status, r.body.toString()]).to.deep.equal(['2', 200, body]);
      }
      // d.test is on the first https port only: on the second, its SNI gets that port's default certificate (a.test's) and 421.
      const d = await curl(['--http2', ...gh.curlArgs('d.test')]);
      expect([d.httpVersion, d.status, d.body.toString()]).to.deep.equal(['2', 200, 'd']);
      const elsewhere = await curl(['--http2', '-k', '--resolve', `d.test:${second}:127.0.0.1`, `https://d.test:${second}/`]);
      expect([elsewhere.httpVersion, elsewhere.status]).to.deep.equal(['2', 421]);
    });
  });

  describe('against nginx 1.22: the same nginx servers on two ports', () => {
    let dir: string;
    let nginx: Peer;
    let gh: Peer;
    const ports = { nginx: [0, 0], gatehouse: [0, 0] };
    // Same names on both ports, default_server on a different server per port, a name repeated on a
    // port (nginx: "conflicting server name", the first keeps it), servers without names, wildcards, a regex.
    const servers = (p1: number, p2: number) => `
      server { listen 127.0.0.1:${p1} default_server; listen 127.0.0.1:${p2}; server_name a.test; access_log off; return 200 "a\\n"; }
      server { listen 127.0.0.1:${p1}; listen 127.0.0.1:${p2} default_server; server_name b.test; access_log off; return 200 "b\\n"; }
      server { listen 127.0.0.1:${p1}; server_name c.test _; access_log off; return 200 "c on 1\\n"; }
      server { listen 127.0.0.1:${p2}; server_name c.test; access_log off; return 200 "c on 2\\n"; }
      server { listen 127.0.0.1:${p2}; server_name *.d.test "~^x\\d+\\.test$"; access_log off; return 200 "d on 2\\n"; }
      server { listen 127.0.0.1:${p1}; server_name C.test b.test; access_log off; return 200 "repeated\\n"; }
      server { listen 127.0.0.1:${p1}; access_log off; return 200 "no name\\n"; }
    `;

    before(async () => {
      dir = tempDir('gh-ports-diff-');
      ports.nginx = [await freePort(), await freePort()];
      ports.gatehouse = [await freePort(), await freePort()];
      nginx = await startNginx(dir, servers(ports.nginx[0]!, ports.nginx[1]!), ports.nginx[0]!);
      await waitForPort(ports.nginx[1]!);
      const conf = path.join(dir, 'servers.conf');
      fs.writeFileSync(conf, servers(ports.gatehouse[0]!, ports.gatehouse[1]!));
      gh = startPeer(process.execPath, [CLI, 'run', '-c', conf], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      await Promise.race([
        Promise.all(ports.gatehouse.map((p) => waitForPort(p))),
        gh.exited.then(({ code }) => {
          throw new Error(`gatehouse exited with ${code}:\n${gh.output()}`);
        }),
      ]);
    });
    after(async () => {
      await gh?.stop('SIGTERM');
      await nginx?.stop('SIGQUIT');
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('answers every Host on each port with the same status and body', async () => {
      const hosts = ['a.test', 'b.test', 'c.test', 'C.TEST', 'c.test.', 'x.d.test', 'y.x.d.test', 'x12.test', 'unknown.test', '_', '127.0.0.1'];
      let compared = 0;
      const seen = new Map<string, string>();
      for (const i of [0, 1]) {
        for (const host of hosts) {
          const [n, g] = await Promise.all([
            exchange(ports.nginx[i]!, { headers: { host } }),
            exchange(ports.gatehouse[i]!, { headers: { host } }),
          ]);
          expect([g.status, g.body], `port ${i + 1}, Host: ${host}`).to.deep.equal([n.status, n.body]);
          seen.set(`${i + 1} ${host}`, n.body);
          compared++;
        }
      }
      expect(compared).to.equal(22);
      // What nginx did, so that the comparison is known to cover per-port names and defaults.
      expect(['1 c.test', '2 c.test', '1 unknown.test', '2 unknown.test', '1 _', '2 x12.test'].map((k) => seen.get(k))).to.deep.equal([
        'c on 1\n',
        'c on 2\n',
        'a\n',
        'b\n',
        'c on 1\n',
        'd on 2\n',
      ]);
    });
  });
});
