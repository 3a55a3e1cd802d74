// DNS-01 end to end with real peers only (issue 19): a real BIND authoritative for test.zone takes
// TSIG-signed RFC 2136 updates, Pebble validates against that BIND (-dnsserver), and `gatehouse run`
// obtains *.test.zone and test.zone in one order with `acme.dns: { provider: rfc2136 }`, waiting for BIND
// through the real propagation check (nameservers: BIND's port, since an NS record carries no port). The
// exec provider does the same through an nsupdate hook script.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { ACME_TEST_ENV, acmeBlock, probe, runCli, servedByPebble } from '../helpers/acme.js';
import { startBind9, type Bind9 } from '../helpers/bind9.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';
import { freePort } from '../helpers/ports.js';

describe('ACME DNS-01 with a wildcard through RFC 2136 and exec to a real BIND (integration)', function () {
  this.timeout(90_000);
  let bind: Bind9;
  let pebble: Pebble;
  let gatehouse: Gatehouse | undefined;
  let tlsPort: number;
  let configFile: string;
  let firstSerial: string;

  /** Cleanup runs after the certificate is stored; give it a moment rather than racing it. */
  async function noTxtLeft(): Promise<string[]> {
    const until = Date.now() + 5000;
    let left = bind.txt('_acme-challenge.test.zone');
    while (left.length && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      left = bind.txt('_acme-challenge.test.zone');
    }
    return left;
  }

  before(async () => {
    bind = await startBind9({ zones: [{ name: 'test.zone' }], keys: [{ name: 'gatehouse', algorithm: 'hmac-sha256' }] });
    tlsPort = await freePort();
    // Pebble's HTTP-01/TLS-ALPN-01 ports point at nothing: only DNS-01 can pass.
    pebble = await startPebble({ httpPort: await freePort(), tlsPort: await freePort(), dnsServer: `127.0.0.1:${bind.port}` });
  });
  after(async () => {
    await gatehouse?.stop();
    await pebble?.stop();
    await bind?.stop();
  });

  it('obtains one certificate for *.test.zone and test.zone, serves it, and leaves no TXT behind', async () => {
    const dir = tempDir('gh-dns01-bind-');
    configFile = path.join(dir, 'gatehouse.yaml');
    fs.writeFileSync(configFile, [
      `listen: { https: "127.0.0.1:${tlsPort}" }`,
      `storage: ${path.join(dir, 'certs')}`,
      'acme:',
      ...Object.entries(acmeBlock(pebble)).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
      '  dns:',
      '    provider: rfc2136',
      `    server: "127.0.0.1:${bind.port}"`,
      '    tsig: { name: gatehouse, algorithm: hmac-sha256, secret: "${GH_TEST_TSIG}" }',
      `    resolver: "127.0.0.1:${bind.port}"`,
      `    nameservers: ["127.0.0.1:${bind.port}"]`,
      'sites:',
      '  - hosts: [fallback.test]',
      '    default: true',
      '    routes: [{ location: /, return: "200 fallback" }]',
      '  - hosts: ["*.test.zone", test.zone]',
      '    tls: acme',
      '    routes: [{ location: /, return: "200 wild" }]',
      '',
    ].join('\n'));
    gatehouse = await startGatehouse(() => ({}), { configFile, dir, env: { ...ACME_TEST_ENV, GH_TEST_TSIG: bind.keys['gatehouse']!.secret } });
    const base = await servedByPebble(tlsPort, 'test.zone', 60_000);
    expect(base.subjectAltName.split(', ').sort()).to.deep.equal(['DNS:*.test.zone', 'DNS:test.zone']);
    expect((await probe(tlsPort, 'a.test.zone')).serial).to.equal(base.serial);
    expect(await noTxtLeft()).to.deep.equal([]);
    expect(gatehouse.peer.output()).not.to.include(bind.keys['gatehouse']!.secret);
    firstSerial = base.serial;
  });

  it('renews through the same path (`renew --force` from cron) and the running proxy serves the new certificate', async () => {
    const r = await runCli(['renew', '--force', '-c', configFile], { GH_TEST_TSIG: bind.keys['gatehouse']!.secret });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout + r.stderr).not.to.include(bind.keys['gatehouse']!.secret);
    const renewed = await servedByPebble(tlsPort, 'test.zone', 30_000, firstSerial);
    expect(renewed.subjectAltName).to.include('DNS:*.test.zone');
    expect(await noTxtLeft()).to.deep.equal([]);
  });

  it('the exec provider with an nsupdate hook (README example) obtains the same pair from BIND', async () => {
    const dir = tempDir('gh-dns01-exec-');
    const hook = path.join(dir, 'dns-hook.sh');
    fs.writeFileSync(hook, [
      '#!/bin/sh',
      'set -e',
      'case "$1" in present) op="add $2. 60" ;; cleanup) op="delete $2." ;; *) echo "unknown action $1" >&2; exit 2 ;; esac',
      `nsupdate -k ${bind.keyFile('gatehouse')} <<EOF`,
      `server 127.0.0.1 ${bind.port}`,
      'update $op IN TXT "$3"',
      'send',
      'EOF',
      '',
    ].join('\n'), { mode: 0o755 });
    const port = await freePort();
    const file = path.join(dir, 'gatehouse.yaml');
    fs.writeFileSync(file, [
      `listen: { https: "127.0.0.1:${port}" }`,
      `storage: ${path.join(dir, 'certs')}`,
      'acme:',
      ...Object.entries(acmeBlock(pebble)).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
      `  dns: { provider: exec, command: [${JSON.stringify(hook)}], resolver: "127.0.0.1:${bind.port}", nameservers: ["127.0.0.1:${bind.port}"] }`,
      'sites:',
      '  - hosts: ["*.test.zone", test.zone]',
      '    tls: acme',
      '    default: true',
      '    routes: [{ location: /, return: "200 wild" }]',
      '',
    ].join('\n'));
    const second = await startGatehouse(() => ({}), { configFile: file, dir, env: ACME_TEST_ENV });
    try {
      const served = await servedByPebble(port, 'b.test.zone', 60_000);
      expect(served.subjectAltName.split(', ').sort()).to.deep.equal(['DNS:*.test.zone', 'DNS:test.zone']);
      expect(await noTxtLeft()).to.deep.equal([]);
    } finally {
      await second.stop();
    }
  });
});
