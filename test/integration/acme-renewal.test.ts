// Renewal against Pebble issuing 90-second certificates, on the product's defaults (the only knob is
// GATEHOUSE_ACME_POLL, Pebble's order polling: ACME_TEST_ENV). ARI (RFC 9773) through a renewalInfo front;
// the CA going away behind a TCP relay (Pebble keeps its accounts, only its port closes) while `gatehouse
// renew --force` runs from cron: the failure is recorded for `certs`, /status and /metrics, and the
// running proxy retries at the recorded time by itself. Renewal by the timers alone over 5 minutes, and a
// CA down past notAfter, are in acme-lifetime.test.ts.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { acmeBlock, ACME_TEST_ENV, adminGet, certsJson, eventually, probe, runCli, servedByPebble } from '../helpers/acme.js';
import { startAriFront, type AriFront } from '../helpers/ari-front.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';
import { freePort } from '../helpers/ports.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';

const site = (hosts: string[]) => ({ hosts, tls: 'acme', routes: [{ location: '/', return: '200 ok' }] });

/** RFC 9773 CertID computed with openssl, independently of src/tls/acme/der.ts. */
function certIdWithOpenssl(pem: string): string {
  const dir = tempDir('gh-certid-');
  fs.writeFileSync(path.join(dir, 'c.pem'), pem);
  const text = execFileSync('openssl', ['x509', '-in', 'c.pem', '-noout', '-ext', 'authorityKeyIdentifier', '-serial'], { cwd: dir }).toString();
  const kid = /(?:keyid:)?((?:[0-9A-F]{2}:)+[0-9A-F]{2})/.exec(text)![1]!.replace(/:/g, '');
  let serial = /serial=([0-9A-F]+)/.exec(text)![1]!;
  if (serial.length % 2) serial = `0${serial}`;
  if (parseInt(serial.slice(0, 2), 16) >= 0x80) serial = `00${serial}`; // DER INTEGER content bytes
  return `${Buffer.from(kid, 'hex').toString('base64url')}.${Buffer.from(serial, 'hex').toString('base64url')}`;
}

describe('ACME renewal (integration)', function () {
  this.timeout(90_000);
  let pebble: Pebble;
  let relay: TcpRelay;
  let httpPort: number;
  let tlsPort: number;
  const running: Gatehouse[] = [];

  before(async () => {
    httpPort = await freePort();
    tlsPort = await freePort();
    pebble = await startPebble({ httpPort, tlsPort, validitySeconds: 90 });
    relay = await startTcpRelay(pebble.port);
  });
  after(async () => {
    await relay?.close();
    await pebble?.stop();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((g) => g.stop()));
  });

  async function gatehouse(config: Record<string, unknown>): Promise<Gatehouse> {
    const g = await startGatehouse(() => ({ listen: { http: `127.0.0.1:${httpPort}`, https: `127.0.0.1:${tlsPort}` }, ...config }), { env: ACME_TEST_ENV });
    running.push(g);
    return g;
  }

  it('ARI: follows the CA\'s renewal window and sends `replaces` in the new order', async () => {
    let front: AriFront | undefined;
    try {
      front = await startAriFront(pebble);
      const g = await gatehouse({ acme: { ...acmeBlock(pebble), directory: front.directory }, sites: [site(['ari.example.test'])] });
      const first = await servedByPebble(tlsPort, 'ari.example.test');
      const certId = certIdWithOpenssl(first.pem);
      await eventually('a renewalInfo request for the certificate', async () => (front!.asked.includes(certId) ? true : undefined));
      expect(front.orders).to.have.length(1);
      expect(front.orders[0]).to.not.have.property('replaces');
      // The window opens now: renewal follows, long before the 90 s certificate's half-life.
      front.setWindow(certId, new Date(Date.now() - 1000), new Date(Date.now() + 1000));
      const second = await servedByPebble(tlsPort, 'ari.example.test', 8_000, first.serial);
      expect(front.orders).to.have.length(2);
      expect(front.orders[1]).to.have.property('replaces', certId);
      expect(g.peer.output()).to.match(/ACME renewal window \(ARI\)/);
      expect(second.serial).to.not.equal(first.serial);
    } finally {
      await front?.close();
    }
  });

  it('CA down: renew --force exits 1 within 60 s and records the failure for certs, /status and /metrics; CA back: the proxy retries at nextAttempt by itself and clears it', async () => {
    const adminPort = await freePort();
    const name = 'down.example.test';
    const g = await gatehouse({ admin: `127.0.0.1:${adminPort}`, acme: { ...acmeBlock(pebble), directory: `https://127.0.0.1:${relay.port}/dir` }, sites: [site([name])] });
    const first = await servedByPebble(tlsPort, name);
    const x = new X509Certificate(first.pem);
    const due = (Date.parse(x.validFrom) + Date.parse(x.validTo)) / 2; // half-life: the proxy's own timer
    await relay.down();
    let nextAttempt: number;
    let renewMs: number;
    try {
      const r = await runCli(['renew', '-c', g.configFile, '--force', '--name', name]);
      renewMs = r.ms;
      expect(r.code, r.stdout + r.stderr).to.equal(1);
      expect(r.ms).to.be.below(60_000);
      expect(r.stderr).to.match(/cannot reach the ACME CA .*ECONNREFUSED/).and.match(/down\.example\.test: recorded; next attempt/);
      const row = (await certsJson(g.configFile)).find((c) => c.names.includes(name))!;
      expect(row).to.include({ status: 'failing', serial: first.serial });
      expect(row.lastError!.challenge).to.equal(null);
      expect(row.lastError!.detail).to.match(/cannot reach the ACME server .*ECONNREFUSED/);
      nextAttempt = Date.parse(row.nextAttempt!);
      expect(nextAttempt).to.be.greaterThan(Date.now());
      // A quarter of the ~85 s left (schedule.ts), not the fixed 1-minute first step.
      expect(nextAttempt - Date.parse(row.lastError!.at)).to.be.within(15_000, 25_000);

      // The running proxy says the same, told by the storage's change notice (not its 15 s refresh).
      const status = await eventually('/status.json with the failure', async () => {
        const s = JSON.parse(await adminGet(adminPort, '/status.json')) as { certificates: Array<{ names: string[]; lastError: unknown; nextAttempt: string }> };
        const c = s.certificates.find((c) => c.names.includes(name));
        return c?.lastError ? c : undefined;
      }, 5000);
      expect(status).to.deep.include({ lastError: row.lastError, nextAttempt: row.nextAttempt });
      const metrics = await adminGet(adminPort, '/metrics');
      expect(metrics).to.match(/^gatehouse_certificate_renewal_failures_total\{name="down\.example\.test"\} 1$/m);
      expect(Number(/^gatehouse_certificate_renewal_last_error_age_seconds\{name="down\.example\.test"\} (\d+)$/m.exec(metrics)?.[1])).to.be.within(0, 30);
      expect((await probe(tlsPort, name)).serial).to.equal(first.serial);
      await eventually('the proxy to log the failure', async () => (/another process could not renew the certificate for down\.example\.test/.test(g.peer.output()) ? true : undefined), 5000);
    } finally {
      await relay.up();
    }
    // CA back: nobody runs a command. The proxy's timer for the recorded next attempt renews.
    const second = await servedByPebble(tlsPort, name, 40_000, first.serial);
    const at = Date.now();
    expect(at, 'renewed at the recorded next attempt').to.be.at.least(nextAttempt! - 1000);
    expect(at, 'before the certificate was due by its own timer').to.be.below(due);
    const after = (await certsJson(g.configFile)).find((c) => c.names.includes(name))!;
    expect(after).to.include({ status: 'valid', lastError: null, serial: second.serial });
    const cleared = await eventually('/metrics without the last error', async () => {
      const m = await adminGet(adminPort, '/metrics');
      return /gatehouse_certificate_renewal_last_error_age_seconds\{name="down/.test(m) ? undefined : m;
    }, 5000);
    expect(cleared).to.match(/^gatehouse_certificate_renewal_failures_total\{name="down\.example\.test"\} 1$/m);
    expect(g.peer.output().match(/could not renew/g) ?? [], 'one failure line').to.have.length(1);
    expect(g.peer.output()).to.match(/certificate renewed .*down\.example\.test.*"afterFailures":1/);
    console.log(`      renew --force with the CA down: exit 1 after ${(renewMs! / 1000).toFixed(1)} s; retried by the proxy ${((at - nextAttempt!) / 1000).toFixed(1)} s after the recorded next attempt, ${((due - at) / 1000).toFixed(0)} s before the certificate was due`);
  });
});
