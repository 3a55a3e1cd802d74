// The process from outside: CLI exit codes, `check` messages, the default config, SIGHUP reload
// and SIGTERM drain.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { curl } from '../helpers/curl.js';
import { startEchoBackend, type EchoBackend } from '../helpers/echo-backend.js';
import { CLI, REPO, startGatehouse, startGatehouseFile, tempDir } from '../helpers/gatehouse.js';
import { freePort, loopbackLookup } from '../helpers/ports.js';
import { startPeer } from '../helpers/process.js';

function runCli(args: string[], cwd = REPO, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function h2Get(session: http2.ClientHttp2Session, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': p });
    let status = 0;
    let body = '';
    req.on('response', (h) => (status = Number(h[':status'])));
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => resolve({ status, body }));
    req.on('error', reject);
    req.end();
  });
}

describe('command line and lifecycle (integration)', function () {
  this.timeout(60_000);

  describe('CLI', () => {
    it('prints the version and help', async () => {
      const v = await runCli(['--version']);
      expect(v.code).to.equal(0);
      expect(v.stdout).to.match(/^gatehouse \d+\.\d+\.\d+/);
      const h = await runCli(['--help']);
      expect(h.code).to.equal(0);
      expect(h.stdout).to.include('gatehouse run');
    });
    it('exits 2 on an unknown command or flag', async () => {
      expect((await runCli(['frobnicate'])).code).to.equal(2);
      expect((await runCli(['check', '--nope'])).code).to.equal(2);
    });
    it('check: exits 0 on the repository gatehouse.yaml', async () => {
      const r = await runCli(['check', '-c', path.join(REPO, 'gatehouse.yaml')]);
      expect(r.code, r.stderr).to.equal(0);
    });
    it('check: prints FILE:LINE:COL for each error and exits 2', async () => {
      const dir = tempDir();
      const file = path.join(dir, 'bad.yaml');
      fs.writeFileSync(
        file,
        ['listen:', '  https: 8443', 'sites:', '  - hosts: [a.test]', '    routes:', '      - location: "~ (unclosed"', '        return: 200', '      - locaton: /x', ''].join('\n'),
      );
      const r = await runCli(['check', '-c', file]);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include(`${file}:6:`);
      expect(r.stderr).to.match(/:8:\d+: .*locaton/);
    });
    it('check: finds the config through $GATEHOUSE_CONFIG', async () => {
      const dir = tempDir();
      const file = path.join(dir, 'other.yaml');
      fs.writeFileSync(file, 'sites: [ { hosts: [a.test], routes: [ { location: /, return: "200 x" } ] } ]\nlisten: { https: 1 }\nlisten2: 3\n');
      const r = await runCli(['check'], dir, { GATEHOUSE_CONFIG: file });
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include(`${file}:3:1`);
    });
    it('run: exits 2 on an invalid config and 1 when the port is taken', async () => {
      const dir = tempDir();
      const bad = path.join(dir, 'bad.yaml');
      fs.writeFileSync(bad, 'listen: { https: nope }\n');
      expect((await runCli(['run', '-c', bad])).code).to.equal(2);
      const blocker = net.createServer();
      await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
      const port = (blocker.address() as net.AddressInfo).port;
      const good = path.join(dir, 'good.yaml');
      fs.writeFileSync(good, `listen: { https: "127.0.0.1:${port}" }\nstorage: ${dir}/certs\nsites: [ { hosts: [a.test], routes: [ { location: /, return: "200 x" } ] } ]\n`);
      const r = await runCli(['run', '-c', good]);
      blocker.close();
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/EADDRINUSE|in use/);
    });

    it('a config without sites checks with a warning (as nginx -t on an http block without servers) and run exits 2', async () => {
      const dir = tempDir();
      const empty = path.join(dir, 'empty.yaml');
      fs.writeFileSync(empty, 'listen: { http: 8080 }\nsites: []\n');
      const checked = await runCli(['check', '-c', empty]);
      expect(checked.code).to.equal(0);
      expect(checked.stderr).to.include(`${empty}:2:8: warning: no sites: nothing to serve`);
      const ran = await runCli(['run', '-c', empty]);
      expect(ran.code).to.equal(2);
      expect(ran.stderr).to.include(`${empty}: nothing to serve: the config has no sites`);
    });
  });

  describe('the repository default config (npm start)', () => {
    it('serves the welcome page over HTTP/2 with an internal-CA certificate', async () => {
      const dir = tempDir();
      const https = await freePort();
      const http = await freePort();
      const text = fs
        .readFileSync(path.join(REPO, 'gatehouse.yaml'), 'utf8')
        .replace(/https: 8443/, `https: "127.0.0.1:${https}"`)
        .replace(/http: 8080/, `http: "127.0.0.1:${http}"`)
        .replace(/root: \.\/public/, `root: ${path.join(REPO, 'public')}`);
      fs.writeFileSync(path.join(dir, 'gatehouse.yaml'), text);
      const peer = startPeer(process.execPath, [CLI, 'run'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
      try {
        await new Promise<void>((resolve, reject) => {
          peer.proc.on('message', (m) => m === 'ready' && resolve());
          void peer.exited.then(() => reject(new Error(peer.output())));
        });
        const ca = path.join(dir, 'certs', 'internal-ca', 'root.crt');
        const r = await curl(['--http2', '--cacert', ca, '--resolve', `localhost:${https}:127.0.0.1`, `https://localhost:${https}/`]);
        expect(r.status).to.equal(200);
        expect(r.httpVersion).to.equal('2');
        expect(r.body.toString()).to.include('gatehouse is running');
        expect(fs.statSync(path.join(dir, 'certs', 'internal-ca', 'root.key')).mode & 0o777).to.equal(0o600);
      } finally {
        expect(await peer.stop()).to.equal(0);
      }
    });
  });

  describe('signals', () => {
    let backend: EchoBackend;
    before(async () => {
      backend = await startEchoBackend();
    });
    after(() => backend.close());

    it('SIGHUP applies a valid config without dropping an open HTTP/2 connection, and ignores an invalid one', async () => {
      const routes = (extra: unknown[]) => [{ hosts: ['r.test'], routes: [...extra, { location: '/', return: '200 v1' }] }];
      const gh = await startGatehouse(() => ({ log: { access: 'off' }, sites: routes([]) }));
      const session = http2.connect(`https://r.test:${gh.httpsPort}`, {
        ca: fs.readFileSync(gh.caFile),
        lookup: loopbackLookup,
      });
      try {
        expect((await h2Get(session, '/')).body).to.equal('v1');
        const base = { listen: { https: `127.0.0.1:${gh.httpsPort}`, http: `127.0.0.1:${gh.httpPort}` }, storage: path.join(gh.dir, 'certs'), log: { access: 'off' } };
        gh.writeConfig({ ...base, sites: routes([{ location: '/new', return: '200 v2' }]) });
        process.kill(gh.peer.pid, 'SIGHUP');
        await gh.peer.waitForOutput(/configuration reloaded/);
        expect((await h2Get(session, '/new')).body).to.equal('v2');
        fs.writeFileSync(gh.configFile, 'sites: [ { hosts: [r.test], routes: [ { location: "~ (", return: 200 } ] } ]\n');
        process.kill(gh.peer.pid, 'SIGHUP');
        await gh.peer.waitForOutput(/reload failed, keeping the running config/);
        expect((await h2Get(session, '/new')).body).to.equal('v2');
        expect(session.closed || session.destroyed).to.equal(false);
      } finally {
        session.close();
        await gh.stop();
      }
    });

    it('SIGHUP re-reads an nginx .conf and its includes; a broken include keeps the running config', async () => {
      const dir = tempDir();
      const port = await freePort();
      fs.mkdirSync(path.join(dir, 'sites-enabled'));
      const site = (body: string) => `server {\n  listen 127.0.0.1:${port};\n  server_name r.test;\n  access_log off;\n  location / { return 200 "${body}"; }\n}\n`;
      fs.writeFileSync(path.join(dir, 'nginx.conf'), 'events {}\nhttp {\n  include sites-enabled/*;\n}\n');
      fs.writeFileSync(path.join(dir, 'sites-enabled', 'r'), site('v1'));
      const peer = await startGatehouseFile(path.join(dir, 'nginx.conf'), { cwd: dir });
      // Connection: close, so that the stop at the end does not wait on an idle keep-alive connection.
      const get = async () => (await fetch(`http://127.0.0.1:${port}/`, { headers: { host: 'r.test', connection: 'close' } })).text();
      try {
        expect(await get()).to.equal('v1');
        // The change is in the included file only.
        fs.writeFileSync(path.join(dir, 'sites-enabled', 'r'), site('v2'));
        process.kill(peer.pid, 'SIGHUP');
        await peer.waitForOutput(/configuration reloaded/);
        expect(await get()).to.equal('v2');
        fs.writeFileSync(path.join(dir, 'sites-enabled', 'r'), `${site('v3')}}\n`);
        process.kill(peer.pid, 'SIGHUP');
        await peer.waitForOutput(/reload failed, keeping the running config[^]*sites-enabled\/r:7:1: unexpected "}"/);
        expect(await get()).to.equal('v2');
      } finally {
        await peer.stop();
      }
    });

    it('SIGTERM finishes an in-flight request, refuses new connections and exits 0', async () => {
      const gh = await startGatehouse(() => ({ log: { access: 'off' }, sites: [{ hosts: ['d.test'], routes: [{ location: '/', proxy: backend.url }] }] }));
      const inflight = curl(gh.curlArgs('d.test', '/slow/1500'));
      await new Promise((r) => setTimeout(r, 400));
      const started = Date.now();
      process.kill(gh.peer.pid, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      const refused = await curl([...gh.curlArgs('d.test', '/'), '--max-time', '3']);
      const r = await inflight;
      expect(r.status).to.equal(200);
      expect(r.body.toString()).to.equal('slow\n');
      expect(refused.status).to.equal(0);
      const { code } = await gh.peer.exited;
      expect(code).to.equal(0);
      expect(Date.now() - started).to.be.below(10_000);
    });
  });

  describe('gatehouse proxy', () => {
    it('serves a one-line proxy to a backend with an internal certificate', async () => {
      const backend = await startEchoBackend();
      const dir = tempDir();
      const port = await freePort();
      const peer = startPeer(process.execPath, [CLI, 'proxy', '--from', `localhost:${port}`, '--to', backend.url, '--storage', path.join(dir, 'certs')], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      try {
        await new Promise<void>((resolve, reject) => {
          peer.proc.on('message', (m) => m === 'ready' && resolve());
          void peer.exited.then(() => reject(new Error(peer.output())));
        });
        const r = await curl(['--cacert', path.join(dir, 'certs', 'internal-ca', 'root.crt'), `https://localhost:${port}/via-proxy`, '--resolve', `localhost:${port}:127.0.0.1`]);
        expect(r.status).to.equal(200);
        expect(backend.seen.at(-1)?.url).to.equal('/via-proxy');
      } finally {
        await peer.stop();
        await backend.close();
      }
    });
  });
});
