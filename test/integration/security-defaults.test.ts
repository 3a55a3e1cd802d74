// Security defaults of an internet-facing listener, end to end against the built gatehouse (security
// review F10, F13): no client-initiated TLS renegotiation; an error log that is private and holds no
// query strings; PURGE refused to a loopback client that neither trustedProxies nor admin.allow lists.
import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { curl } from '../helpers/curl.js';
import { startGatehouse, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import { startPeer } from '../helpers/process.js';

describe('security defaults (integration)', function () {
  this.timeout(60_000);
  let gh: Gatehouse;

  let errorLog: string;
  /** A cacheable origin that counts what reaches it. */
  let originHits = 0;
  const origin = http.createServer((_req, res) => {
    originHits++;
    res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'text/plain' }).end(`origin ${originHits}`);
  });

  before(async () => {
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    const originPort = (origin.address() as AddressInfo).port;
    // Nothing listens there: requests to /dead/ end in 502 and an error-log line with their uri.
    const dead = await freePort();
    gh = await startGatehouse(({ dir }) => {
      errorLog = path.join(dir, 'logs', 'error.log');
      return {
        log: { access: 'off', error: errorLog },
        sites: [
          {
            hosts: ['s.test'],
            routes: [
              { location: '/dead/', proxy: `http://127.0.0.1:${dead}` },
              { location: '/cached/', proxy: `http://127.0.0.1:${originPort}`, cache: '10m' },
              { location: '/', return: '200 hello' },
            ],
          },
        ],
      };
    });
  });
  after(async () => {
    await gh?.stop();
    origin.close();
  });

  it('refuses a client-initiated TLS 1.2 renegotiation (openssl s_client "R"), as nginx does', async () => {
    const client = startPeer('openssl', ['s_client', '-tls1_2', '-connect', `127.0.0.1:${gh.httpsPort}`, '-servername', 's.test', '-CAfile', gh.caFile], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // s_client exits on its own when the server refuses; a write after that is an EPIPE, not a failure.
    client.proc.stdin!.on('error', () => undefined);
    try {
      await client.waitForOutput(/Verify return code: 0 \(ok\)[\s\S]*---\n/);
      client.proc.stdin!.write('R\n');
      await client.waitForOutput(/RENEGOTIATING/);
      // Sent once a renegotiation would be over: answered only if the server went along with it.
      await new Promise((r) => setTimeout(r, 500));
      if (client.proc.exitCode === null) client.proc.stdin!.write('GET / HTTP/1.1\r\nHost: s.test\r\nConnection: close\r\n\r\n');
      const ended = await Promise.race([client.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
      const out = client.output();
      expect(out, 'the request after "R" was answered: the renegotiation succeeded').to.not.include('HTTP/1.1 200');
      expect(out).to.match(/no renegotiation/i);
      expect(ended, 's_client still connected').to.equal(true);
    } finally {
      await client.stop('SIGTERM', 2000);
    }
  });

  it('writes the error log 0600 and without query strings', async () => {
    expect((await curl(gh.curlArgs('s.test', '/dead/x?api_key=TOPSECRET'))).status).to.equal(502);
    const deadline = Date.now() + 5000;
    let text = '';
    while (!text.includes('/dead/x') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      text = fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : '';
    }
    expect(text).to.match(/"uri":"\/dead\/x"/);
    expect(text).to.not.include('TOPSECRET');
    expect(fs.statSync(errorLog).mode & 0o777).to.equal(0o600);
  });

  it('refuses PURGE from loopback when neither trustedProxies nor admin.allow lists it (a local tunnel makes every client loopback)', async () => {
    expect((await curl(gh.curlArgs('s.test', '/cached/p'))).body.toString()).to.equal('origin 1');
    const purge = await curl(['-X', 'PURGE', ...gh.curlArgs('s.test', '/cached/p')]);
    expect(purge.status).to.equal(403);
    const after = await curl(gh.curlArgs('s.test', '/cached/p'));
    expect(after.headers['cache-status']?.[0]).to.match(/^gatehouse; hit/);
    expect(originHits).to.equal(1);
  });
});
