// Renewal by the loop alone, against Pebble issuing short-lived certificates (24 s: renewed at half-life,
// README "Automatic HTTPS (ACME)"), and what happens when the CA goes away: the old certificate keeps serving, `gatehouse certs`
// says why, and the next attempt is backed off. Also ARI (RFC 9773) through a renewalInfo front.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { acmeBlock, ACME_TEST_ENV, certsJson, eventually, probe, servedByPebble } from '../helpers/acme.js';
import { startAriFront, type AriFront } from '../helpers/ari-front.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';
import { freePort } from '../helpers/ports.js';

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
  this.timeout(60_000);
  let pebble: Pebble;
  let httpPort: number;
  let tlsPort: number;
  const running: Gatehouse[] = [];

  before(async () => {
    httpPort = await freePort();
    tlsPort = await freePort();
    pebble = await startPebble({ httpPort, tlsPort, validitySeconds: 24 });
  });
  after(async () => {
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

  it('renews a short-lived certificate by the loop alone and serves the new one without a restart', async () => {
    const g = await gatehouse({ acme: acmeBlock(pebble), sites: [site(['loop.example.test'])] });
    const first = await servedByPebble(tlsPort, 'loop.example.test');
    const second = await servedByPebble(tlsPort, 'loop.example.test', 25_000, first.serial);
    expect(g.peer.output()).to.match(/certificate renewed .*loop\.example\.test/);
    const [row] = (await certsJson(g.configFile)).filter((r) => r.names.includes('loop.example.test'));
    expect(row).to.include({ serial: second.serial, lastError: null });
  });

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
      // The window opens now: renewal follows, long before the 24 s certificate's half-life.
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

  // Stops the CA: keep this test last in the file.
  it('CA stopped during renewal: the old certificate keeps serving, certs shows failing with the error and a backed-off next attempt', async () => {
    const g = await gatehouse({ acme: acmeBlock(pebble), sites: [site(['down.example.test'])] });
    const first = await servedByPebble(tlsPort, 'down.example.test');
    await pebble.stopCa();
    const row = await eventually(
      'a failing renewal',
      async () => (await certsJson(g.configFile)).find((r) => r.names.includes('down.example.test') && r.status === 'failing'),
      20_000,
      500,
    );
    expect(row.serial).to.equal(first.serial);
    expect(row.lastError!.challenge).to.equal(null);
    expect(row.lastError!.detail).to.match(/cannot reach the ACME server .*ECONNREFUSED/);
    expect(Date.parse(row.nextAttempt!) - Date.parse(row.lastError!.at)).to.be.within(55_000, 65_000);
    expect((await probe(tlsPort, 'down.example.test')).serial).to.equal(first.serial);
    expect(g.peer.output()).to.match(/could not renew a certificate for down\.example\.test.*"serving":"the current certificate/);
  });
});
