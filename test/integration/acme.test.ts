// ACME against real Pebble (Debian's pebble 2.4 + pebble-challtestsrv as DNS): issuance by each challenge,
// the chain, challenge routing by ALPN, errors a user can act on, one order for two processes sharing a
// storage, `gatehouse renew` beside a running proxy, `--dry-run`, and on-demand TLS.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { acmeBlock, ACME_TEST_ENV, certsJson, eventually, orderCount, probe, runCli, servedByPebble } from '../helpers/acme.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';
import { freePort } from '../helpers/ports.js';
import { FileStorage } from '../../src/storage/file-storage.js';
import { ChallengeStore } from '../../src/tls/acme/challenges.js';

const site = (hosts: string[], extra: Record<string, unknown> = {}) => ({ hosts, tls: 'acme', routes: [{ location: '/', return: '200 ok' }], ...extra });

describe('ACME with Pebble (integration)', function () {
  this.timeout(60_000);
  let pebble: Pebble;
  let httpPort: number;
  let tlsPort: number;
  const running: Gatehouse[] = [];

  before(async () => {
    httpPort = await freePort();
    tlsPort = await freePort();
    pebble = await startPebble({ httpPort, tlsPort });
  });
  after(async () => {
    await pebble?.stop();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((g) => g.stop()));
  });

  /** gatehouse on Pebble's validation ports (or only some of them). */
  async function gatehouse(config: Record<string, unknown>, opts: { http?: boolean; https?: boolean; dir?: string; ports?: { http: number; https: number } } = {}): Promise<Gatehouse> {
    const ports = opts.ports ?? { http: httpPort, https: tlsPort };
    const listen: Record<string, string> = {};
    if (opts.http !== false) listen.http = `127.0.0.1:${ports.http}`;
    if (opts.https !== false) listen.https = `127.0.0.1:${ports.https}`;
    const g = await startGatehouse(() => ({ listen, ...config }), { env: ACME_TEST_ENV, ...(opts.dir ? { dir: opts.dir } : {}) });
    running.push(g);
    return g;
  }

  it('issues by HTTP-01 alone, serves it without a restart, and the chain verifies against Pebble\'s root', async () => {
    const g = await gatehouse({ acme: acmeBlock(pebble, { challenges: ['http-01'], key: 'rsa-2048' }), sites: [site(['h1.example.test', 'www.h1.example.test'])] });
    const started = Date.now();
    const served = await servedByPebble(tlsPort, 'www.h1.example.test');
    const issuanceMs = Date.now() - started;
    expect(served.subjectAltName).to.include('DNS:h1.example.test').and.include('DNS:www.h1.example.test');
    const key = new X509Certificate(served.pem).publicKey;
    expect([key.asymmetricKeyType, key.asymmetricKeyDetails?.modulusLength]).to.deep.equal(['rsa', 2048]); // acme.key
    expect(g.peer.output()).to.match(/certificate obtained .*"challenge":"http-01"/);
    expect(g.peer.output()).to.include('LetsEncrypt-Pebble-VA'); // the validation went through the http listener

    const stored = fs.readFileSync(path.join(g.dir, 'certs/certificates', fs.readdirSync(path.join(g.dir, 'certs/certificates')).find((d) => d !== 'internal')!, 'h1.example.test/h1.example.test.crt'), 'utf8');
    const pems = stored.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
    expect(pems.length).to.be.at.least(2);
    const dir = tempDir('gh-verify-');
    fs.writeFileSync(path.join(dir, 'root.pem'), await pebble.rootPem());
    fs.writeFileSync(path.join(dir, 'leaf.pem'), pems[0]!);
    fs.writeFileSync(path.join(dir, 'chain.pem'), pems.slice(1).join(''));
    const out = execFileSync('openssl', ['verify', '-CAfile', 'root.pem', '-untrusted', 'chain.pem', 'leaf.pem'], { cwd: dir }).toString();
    expect(out.trim()).to.equal('leaf.pem: OK');
    expect(new X509Certificate(pems[0]!).serialNumber).to.equal(served.serial);
    // Private keys are readable by the owner only.
    const keyFile = path.join(g.dir, 'certs/certificates', fs.readdirSync(path.join(g.dir, 'certs/certificates')).find((d) => d !== 'internal')!, 'h1.example.test/h1.example.test.key');
    expect(fs.statSync(keyFile).mode & 0o777).to.equal(0o600);

    const rows = await certsJson(g.configFile);
    const row = rows.find((r) => r.names.includes('h1.example.test'))!;
    expect(Object.keys(row).sort()).to.deep.equal(['ca', 'daysLeft', 'issuer', 'lastError', 'names', 'nextAttempt', 'notAfter', 'notBefore', 'serial', 'source', 'status'].sort());
    expect(row).to.include({ source: 'acme', status: 'valid', serial: served.serial, lastError: null });
    expect(row.issuer).to.match(/Pebble Intermediate/);
    expect(row.ca).to.equal(pebble.directory); // the CA that signed it, by directory (README "Several CAs")
    expect(row.daysLeft).to.be.greaterThan(1000);
    console.log(`      issuance (HTTP-01, 2 names, incl. account registration) seen by a client after ${issuanceMs} ms`);
  });

  it('issues by TLS-ALPN-01 alone, with no http listener at all', async () => {
    const g = await gatehouse({ acme: acmeBlock(pebble, { key: 'ecdsa-p384' }), sites: [site(['alpn.example.test'])] }, { http: false });
    const served = await servedByPebble(tlsPort, 'alpn.example.test');
    expect(served.alpn).to.equal('http/1.1');
    expect(new X509Certificate(served.pem).publicKey.asymmetricKeyDetails?.namedCurve).to.equal('secp384r1'); // acme.key
    expect(g.peer.output()).to.match(/certificate obtained .*"challenge":"tls-alpn-01"/);
  });

  it('gives the acme-tls/1 certificate only to a client that offers acme-tls/1, over TLS 1.2 and 1.3', async () => {
    const g = await gatehouse({ acme: acmeBlock(pebble), sites: [site(['pin.example.test']), { hosts: ['localhost'], tls: 'internal', default: true, routes: [{ location: '/', return: '200 ok' }] }] });
    await servedByPebble(tlsPort, 'pin.example.test');
    // Open a TLS-ALPN-01 challenge by hand in the shared storage, as another process would.
    const storage = new FileStorage(path.join(g.dir, 'certs'));
    await new ChallengeStore(storage).presentAlpn('open.example.test', 'token.thumbprint');
    const validator = await probe(tlsPort, 'open.example.test', ['acme-tls/1']);
    expect(validator.alpn).to.equal('acme-tls/1');
    expect(validator.subjectAltName).to.equal('DNS:open.example.test');
    expect(validator.issuer).to.not.match(/Pebble|gatehouse/);
    const { crypto } = (await import('acme-client')).default;
    expect(crypto.isAlpnCertificateAuthorizationValid(validator.pem, 'token.thumbprint')).to.equal(true);
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      for (const alpn of [['h2', 'http/1.1'], ['http/1.1'], []]) {
        const browser = await probe(tlsPort, 'open.example.test', alpn, 5000, version);
        expect(browser.serial, `${version} ALPN ${alpn.join(',') || 'none'}`).to.not.equal(validator.serial);
        expect(browser.issuer).to.match(/gatehouse Local CA/); // the default site's certificate
      }
    }
    // TLS 1.2 asks SNICallback before ALPNCallback: a challenge opened by another process is not at hand
    // synchronously there, so the handshake fails rather than give a validator a normal certificate.
    let tls12: unknown;
    await probe(tlsPort, 'open.example.test', ['acme-tls/1'], 5000, 'TLSv1.2').then((s) => (tls12 = s), (e: Error) => (tls12 = e));
    expect(tls12, 'TLS 1.2 validator').to.satisfy((v: unknown) => v instanceof Error || (v as { serial: string }).serial === validator.serial);
    // No challenge open for a name: a validator's handshake fails instead of getting a normal certificate.
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      let failed = false;
      await probe(tlsPort, 'pin.example.test', ['acme-tls/1'], 5000, version).catch(() => (failed = true));
      expect(failed, version).to.equal(true);
    }
    await storage.close();
  });

  it('falls back to TLS-ALPN-01 when HTTP-01 fails', async () => {
    const otherHttp = await freePort();
    const g = await gatehouse({ acme: acmeBlock(pebble), sites: [site(['fallback.example.test'])] }, { ports: { http: otherHttp, https: tlsPort } });
    await servedByPebble(tlsPort, 'fallback.example.test');
    expect(g.peer.output()).to.match(/http-01 challenge failed for fallback\.example\.test; trying tls-alpn-01/);
    expect(g.peer.output()).to.match(/certificate obtained .*"challenge":"tls-alpn-01"/);
  });

  it('reports a wrong answer in plain words: which challenge, the CA\'s detail and the likely fix; handshakes do not hang', async () => {
    await pebble.addA('elsewhere.example.test', ['127.0.0.2']); // DNS points to a host where nothing answers
    const g = await gatehouse({ acme: acmeBlock(pebble), sites: [site(['elsewhere.example.test'])] });
    const row = await eventually('a failing row', async () => (await certsJson(g.configFile)).find((r) => r.names.includes('elsewhere.example.test') && r.status === 'failing'));
    expect(row.lastError!.challenge).to.equal('tls-alpn-01'); // http-01 first, then tls-alpn-01
    expect(row.lastError!.detail).to.match(/127\.0\.0\.2/).and.match(/connect/i); // the CA's own words
    expect(row.serial).to.equal(null);
    const retryIn = Date.parse(row.nextAttempt!) - Date.parse(row.lastError!.at);
    expect(retryIn).to.be.within(55_000, 65_000); // first back-off step: 1 minute
    const human = await runCli(['certs', '-c', g.configFile]);
    expect(human.stdout).to.match(/elsewhere\.example\.test\s+acme\s+failing/);
    expect(human.stdout).to.match(/last error \(tls-alpn-01, .*\): .*127\.0\.0\.2/);
    expect(human.stdout).to.match(/likely fix: .*DNS/);
    expect(g.peer.output()).to.match(/could not obtain a certificate for elsewhere\.example\.test/);
    // Only an ACME site and no certificate: the handshake fails at once, cleanly.
    const t = Date.now();
    let error: Error | undefined;
    await probe(tlsPort, 'elsewhere.example.test').catch((e: Error) => (error = e));
    expect(error).to.be.instanceOf(Error);
    expect(Date.now() - t).to.be.below(2000);
  });

  it('two processes on one storage folder order a name once and both serve it', async () => {
    const dir = tempDir();
    const before = orderCount(pebble);
    const config = { storage: path.join(dir, 'certs'), acme: acmeBlock(pebble), sites: [site(['shared.example.test'])] };
    const other = { http: await freePort(), https: await freePort() };
    // The CA validates on a's ports only, so a must be listening before b can order: started together,
    // b sometimes won the lock first and both of its challenges were refused (a real failed order).
    // b starts right after, while a is ordering or has just stored the certificate; either way b must not order.
    const a = await gatehouse(config, { dir });
    const b = await gatehouse(config, { dir: tempDir(), ports: other });
    const servedA = await servedByPebble(tlsPort, 'shared.example.test');
    const servedB = await servedByPebble(other.https, 'shared.example.test');
    expect(servedB.serial).to.equal(servedA.serial);
    const logs = a.peer.output() + b.peer.output();
    // Exactly one process obtained the certificate. A challenge that fails under load makes that
    // process fall back to the other challenge with a new order, which is logged; nothing else may order.
    expect(logs.match(/certificate obtained/g) ?? []).to.have.length(1);
    const fallbacks = (logs.match(/challenge failed for shared\.example\.test; trying/g) ?? []).length;
    expect(orderCount(pebble) - before).to.equal(1 + fallbacks);
  });

  it('gatehouse renew --force while a proxy runs: the proxy answers the challenges and serves the new certificate within 5 s, without a restart', async () => {
    const g = await gatehouse({ acme: acmeBlock(pebble), sites: [site(['cron.example.test'])] });
    const first = await servedByPebble(tlsPort, 'cron.example.test');
    const quiet = await runCli(['renew', '-c', g.configFile]);
    expect(quiet).to.include({ code: 0, stdout: '', stderr: '' }); // nothing due: cron stays quiet
    const r = await runCli(['renew', '-c', g.configFile, '--force', '--name', 'cron.example.test']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^renewed cron\.example\.test: serial [0-9A-F]+/);
    // Folder storage on its defaults: the proxy hears of the store through fs.watch (a 2 s stat poll behind it).
    const exited = Date.now();
    const second = await servedByPebble(tlsPort, 'cron.example.test', 5_000, first.serial);
    console.log(`      served by the running proxy ${Date.now() - exited} ms after renew exited`);
    expect(Date.now() - exited).to.be.below(5_000);
    expect(r.stdout).to.include(second.serial);
    expect(g.peer.output()).to.match(/serving a certificate another process stored/);
    expect(g.peer.output()).to.include('LetsEncrypt-Pebble-VA'); // the running proxy answered HTTP-01 from the storage
    const usage = await runCli(['renew', '-c', g.configFile, '--name', 'nope.example.test']);
    expect(usage.code).to.equal(2);
  });

  it('renew --force while the proxy is in back-off: a failure adds a step (never resets or shortens it), only a success clears it', async () => {
    // Pebble's 5-year certificates here, so the fixed steps (1 min, 10 min, 100 min) are not capped by the
    // time left (schedule.ts) and a reset to the first step would show.
    const name = 'backoff.example.test';
    const g = await gatehouse({ acme: acmeBlock(pebble), sites: [site([name])] });
    const first = await servedByPebble(tlsPort, name);
    const row = async () => (await certsJson(g.configFile)).find((r) => r.names.includes(name))!;
    const step = (r: Awaited<ReturnType<typeof row>>) => Date.parse(r.nextAttempt!) - Date.parse(r.lastError!.at);
    await pebble.addA(name, ['127.0.0.2']); // validation fails from now on: nothing listens there
    try {
      const one = await runCli(['renew', '-c', g.configFile, '--force', '--name', name]);
      expect(one.code, one.stdout + one.stderr).to.equal(1);
      const r1 = await row();
      expect(r1).to.include({ status: 'failing', serial: first.serial });
      expect(step(r1)).to.be.within(55_000, 65_000); // 1st failure: 1 minute
      // The proxy follows the recorded back-off (its timer is set for that next attempt, not its due time).
      await eventually('the proxy to follow the failure', async () => (/another process could not renew the certificate for backoff\.example\.test/.test(g.peer.output()) ? true : undefined), 5000);
      const two = await runCli(['renew', '-c', g.configFile, '--force', '--name', name]);
      expect(two.code, two.stdout + two.stderr).to.equal(1);
      const r2 = await row();
      expect(step(r2), 'the 2nd step (10 minutes), not the 1st again').to.be.within(9.5 * 60_000, 10.5 * 60_000);
      expect(Date.parse(r2.nextAttempt!)).to.be.greaterThan(Date.parse(r1.nextAttempt!));
    } finally {
      await pebble.clearA(name);
    }
    const ok = await runCli(['renew', '-c', g.configFile, '--force', '--name', name]);
    expect(ok.code, ok.stdout + ok.stderr).to.equal(0);
    const exited = Date.now();
    const second = await servedByPebble(tlsPort, name, 5_000, first.serial);
    expect(Date.now() - exited).to.be.below(5_000);
    const r3 = await row();
    expect(r3).to.include({ status: 'valid', lastError: null, serial: second.serial });
    expect(Date.parse(r3.nextAttempt!) - Date.now(), 'next attempt: the new certificate\'s due time, years away').to.be.above(365 * 86_400_000);
    await eventually('the proxy to log the recovery', async () => (/renewing the certificate for backoff\.example\.test works again/.test(g.peer.output()) ? true : undefined), 5000);
    expect(g.peer.output().match(/could not renew the certificate for backoff/g) ?? [], 'one line for the failing state, not one per attempt').to.have.length(1);
  });

  it('renew --dry-run with no proxy running listens on the ports itself and stores nothing', async () => {
    const dir = tempDir();
    const configFile = path.join(dir, 'gatehouse.yaml');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        listen: { http: `127.0.0.1:${httpPort}`, https: `127.0.0.1:${tlsPort}` },
        storage: path.join(dir, 'certs'),
        acme: acmeBlock(pebble),
        sites: [site(['dry.example.test'])],
      }),
    );
    const r = await runCli(['renew', '-c', configFile, '--dry-run']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/dry run: dry\.example\.test: a certificate was issued by .* and not stored/);
    expect(fs.existsSync(path.join(dir, 'certs'))).to.equal(false);
  });

  it('renew gives up on an unreachable CA quickly and exits 1', async () => {
    const dir = tempDir();
    const configFile = path.join(dir, 'gatehouse.yaml');
    const closed = await freePort();
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        listen: { http: `127.0.0.1:${await freePort()}`, https: `127.0.0.1:${await freePort()}` },
        storage: path.join(dir, 'certs'),
        acme: { ...acmeBlock(pebble), directory: `https://127.0.0.1:${closed}/dir` },
        sites: [site(['down.example.test'])],
      }),
    );
    const r = await runCli(['renew', '-c', configFile]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/cannot reach the ACME CA .*ECONNREFUSED/);
    expect(r.ms).to.be.below(60_000);
    // Pebble's HTTPS certificate without acme.trust: said so, with the key to set.
    const { trust: _trust, ...untrusted } = acmeBlock(pebble);
    fs.writeFileSync(configFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(configFile, 'utf8')), acme: untrusted }));
    const t = await runCli(['renew', '-c', configFile]);
    expect(t.code).to.equal(1);
    expect(t.stderr).to.match(/not trusted/).and.match(/acme\.trust/);
  });

  it('registers with external account binding (acme.eab) when the CA requires it, and says so when it is missing', async () => {
    const hmac = Buffer.from('a test-only EAB HMAC key of 32 b').toString('base64url');
    const ports = { http: await freePort(), https: await freePort() };
    const eabCa = await startPebble({ httpPort: ports.http, tlsPort: ports.https, eab: { 'kid-1': hmac } });
    try {
      const dir = tempDir();
      const configFile = path.join(dir, 'gatehouse.yaml');
      const write = (acme: Record<string, unknown>) =>
        fs.writeFileSync(configFile, JSON.stringify({ listen: { http: `127.0.0.1:${ports.http}`, https: `127.0.0.1:${ports.https}` }, storage: path.join(dir, 'certs'), acme, sites: [site(['eab.example.test'])] }));
      write(acmeBlock(eabCa));
      const without = await runCli(['renew', '-c', configFile]);
      expect(without.code).to.equal(1);
      expect(without.stderr).to.match(/likely fix: .*acme\.eab/);
      write(acmeBlock(eabCa, { eab: { kid: 'kid-1', hmac } }));
      const withEab = await runCli(['renew', '-c', configFile]);
      expect(withEab.code, withEab.stderr).to.equal(0);
      expect(withEab.stdout).to.match(/^obtained eab\.example\.test: serial/); // no proxy: renew answered the challenge itself
    } finally {
      await eabCa.stop();
    }
  });

  it('SIGHUP with a new tls: acme site obtains its certificate in the background', async () => {
    const g = await gatehouse({ acme: acmeBlock(pebble), sites: [site(['one.example.test'])] });
    await servedByPebble(tlsPort, 'one.example.test');
    g.writeConfig({ listen: { http: `127.0.0.1:${httpPort}`, https: `127.0.0.1:${tlsPort}` }, storage: path.join(g.dir, 'certs'), acme: acmeBlock(pebble), sites: [site(['one.example.test']), site(['two.example.test'])] });
    process.kill(g.peer.pid, 'SIGHUP');
    await servedByPebble(tlsPort, 'two.example.test');
    expect((await probe(tlsPort, 'one.example.test')).issuer).to.match(/Pebble/);
  });

  it('on-demand TLS: issues for a name the ask endpoint allows, and not for one it denies', async () => {
    const asked: string[] = [];
    const ask = http.createServer((req, res) => {
      const domain = new URL(req.url!, 'http://x').searchParams.get('domain') ?? '';
      asked.push(domain);
      res.writeHead(domain === 'yes.example.test' ? 200 : 403).end();
    });
    await new Promise<void>((r) => ask.listen(0, '127.0.0.1', r));
    try {
      const askUrl = `http://127.0.0.1:${(ask.address() as AddressInfo).port}/check`;
      await gatehouse({
        acme: acmeBlock(pebble, { onDemand: { ask: askUrl } }),
        sites: [{ hosts: ['localhost'], tls: 'internal', default: true, routes: [{ location: '/', return: '200 ok' }] }],
      });
      const yes = await probe(tlsPort, 'yes.example.test', ['http/1.1'], 15_000);
      expect(yes.issuer).to.match(/Pebble/);
      expect(yes.subjectAltName).to.equal('DNS:yes.example.test');
      const no = await probe(tlsPort, 'no.example.test');
      expect(no.issuer).to.match(/gatehouse Local CA/);
      expect(asked).to.include.members(['yes.example.test', 'no.example.test']);
      // Issued once: the next handshake gets the same certificate without asking again.
      const again = await probe(tlsPort, 'yes.example.test');
      expect(again.serial).to.equal(yes.serial);
      expect(asked.filter((d) => d === 'yes.example.test')).to.have.length(1);
    } finally {
      ask.close();
    }
  });
});
