// Several CAs (README "Several CAs: acme.issuers") against two real Pebbles, each with its own roots (Pebble
// makes a new root at every start). The first CA is made to refuse in the two ways a real CA does: its
// port closed (a TCP relay taken down: connections refused, as for a stopped server, while Pebble keeps
// its state for when it comes back) and a 503 on new orders (test/helpers/acme-order-refusing-front.ts).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ACME_TEST_ENV, certsJson, orderCount, runCli, servedByPebble } from '../helpers/acme.js';
import { startOrderRefusingFront, type OrderRefusingFront } from '../helpers/acme-order-refusing-front.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';
import { freePort } from '../helpers/ports.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';
import { certificateKeys, issuerKeyFromDirectory } from '../../src/storage/keys.js';

const site = (hosts: string[]) => ({ hosts, tls: 'acme', routes: [{ location: '/', return: '200 ok' }] });

/** `openssl verify` of a stored chain (leaf first) against a root: true when it chains. */
function chainsTo(chainPem: string, rootPem: string): boolean {
  const dir = tempDir('gh-verify-');
  const pems = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
  fs.writeFileSync(path.join(dir, 'root.pem'), rootPem);
  fs.writeFileSync(path.join(dir, 'leaf.pem'), pems[0]!);
  fs.writeFileSync(path.join(dir, 'chain.pem'), pems.slice(1).join(''));
  try {
    return execFileSync('openssl', ['verify', '-CAfile', 'root.pem', '-untrusted', 'chain.pem', 'leaf.pem'], { cwd: dir, stdio: 'pipe' }).toString().trim() === 'leaf.pem: OK';
  } catch {
    return false;
  }
}

describe('ACME with several issuers (integration)', function () {
  this.timeout(90_000);
  let first: Pebble;
  let second: Pebble;
  let relay: TcpRelay;
  let httpPort: number;
  let tlsPort: number;
  const running: Gatehouse[] = [];

  before(async () => {
    httpPort = await freePort();
    tlsPort = await freePort();
    [first, second] = await Promise.all([startPebble({ httpPort, tlsPort }), startPebble({ httpPort, tlsPort })]);
    relay = await startTcpRelay(first.port);
  });
  after(async () => {
    await relay?.close();
    await Promise.all([first?.stop(), second?.stop()]);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((g) => g.stop()));
  });

  async function gatehouse(directories: string[], names: string[]): Promise<Gatehouse> {
    const acme = { email: 'ops@example.test', trust: first.listenerCaFile, issuers: directories.map((directory) => ({ directory })) };
    const g = await startGatehouse(() => ({ listen: { http: `127.0.0.1:${httpPort}`, https: `127.0.0.1:${tlsPort}` }, acme, sites: [site(names)] }), { env: ACME_TEST_ENV });
    running.push(g);
    return g;
  }

  /** The stored chain and the path of its metadata (certificates stay under the first CA's key). */
  function stored(g: Gatehouse, firstDirectory: string, name: string): { chain: string; metaFile: string } {
    const keys = certificateKeys(issuerKeyFromDirectory(firstDirectory), name);
    return { chain: fs.readFileSync(path.join(g.dir, 'certs', keys.cert), 'utf8'), metaFile: path.join(g.dir, 'certs', keys.meta) };
  }

  it('first CA stopped: the second issues, certs names it, the leaf chains to its root; renewals go to the CA that signed last', async () => {
    const name = 'fallback.example.test';
    const firstDir = `https://127.0.0.1:${relay.port}/dir`;
    await relay.down();
    let g: Gatehouse;
    try {
      g = await gatehouse([firstDir, second.directory], [name]);
      await servedByPebble(tlsPort, name, 30_000);
    } finally {
      await relay.up();
    }
    expect(g.peer.output()).to.match(new RegExp(`ACME: https://127\\.0\\.0\\.1:${relay.port}/dir could not issue for ${name.replace(/\./g, '\\.')}; trying ${second.directory.replace(/\./g, '\\.')}`));
    const s1 = stored(g, firstDir, name);
    expect(chainsTo(s1.chain, await second.rootPem()), 'chains to the second Pebble\'s root').to.equal(true);
    expect(chainsTo(s1.chain, await first.rootPem()), 'not to the first Pebble\'s root').to.equal(false);
    const row1 = (await certsJson(g.configFile)).find((r) => r.names.includes(name))!;
    expect(row1).to.include({ source: 'acme', status: 'valid', ca: second.directory, lastError: null });
    const table = await runCli(['certs', '-c', g.configFile]);
    expect(table.stdout).to.match(/\bCA\b/).and.include(second.directory);

    // The first CA is back and would issue; the renewal still goes to the second, which signed last.
    const ordersAtFirst = orderCount(first);
    const r2 = await runCli(['renew', '-c', g.configFile, '--force', '--name', name]);
    expect(r2.code, r2.stdout + r2.stderr).to.equal(0);
    expect(r2.stdout).to.include(`renewed ${name}`).and.include(`by ${second.directory}`);
    expect(orderCount(first), 'no order at the first CA').to.equal(ordersAtFirst);
    const row2 = (await certsJson(g.configFile)).find((r) => r.names.includes(name))!;
    expect(row2).to.include({ status: 'valid', ca: second.directory });
    expect(row2.serial).to.not.equal(row1.serial);

    // The recorded issuer is what decides: say in the metadata that the first CA signed it, and the next
    // renewal goes to the first CA.
    const meta = JSON.parse(fs.readFileSync(s1.metaFile, 'utf8')) as { issuerKey: string; directory: string };
    expect(meta).to.include({ issuerKey: issuerKeyFromDirectory(second.directory), directory: second.directory });
    fs.writeFileSync(s1.metaFile, JSON.stringify({ ...meta, issuerKey: issuerKeyFromDirectory(firstDir), directory: firstDir }));
    const r3 = await runCli(['renew', '-c', g.configFile, '--force', '--name', name]);
    expect(r3.code, r3.stdout + r3.stderr).to.equal(0);
    expect(r3.stdout).to.include(`by ${firstDir}`);
    expect(orderCount(first)).to.equal(ordersAtFirst + 1);
    const row3 = (await certsJson(g.configFile)).find((r) => r.names.includes(name))!;
    expect(row3).to.include({ status: 'valid', ca: firstDir });
    expect(chainsTo(stored(g, firstDir, name).chain, await first.rootPem()), 'now chains to the first Pebble\'s root').to.equal(true);
  });

  it('first CA answers 503 to new orders: the second issues in the same attempt, with no back-off', async () => {
    let front: OrderRefusingFront | undefined;
    try {
      front = await startOrderRefusingFront(first);
      const name = 'refused.example.test';
      const started = Date.now();
      const g = await gatehouse([front.directory, second.directory], [name]);
      await servedByPebble(tlsPort, name, 30_000);
      const ms = Date.now() - started;
      expect(front.refused, 'the first CA was asked and refused').to.be.at.least(1);
      // A failed attempt would wait for its back-off (1 minute after a first failure) before the next.
      expect(ms).to.be.below(30_000);
      const log = g.peer.output();
      expect(log).to.include(`could not issue for ${name}; trying ${second.directory}`);
      expect(log).to.not.match(/could not obtain a certificate/);
      expect(log.match(/certificate obtained/g)).to.have.length(1);
      const row = (await certsJson(g.configFile)).find((r) => r.names.includes(name))!;
      expect(row).to.include({ status: 'valid', ca: second.directory, lastError: null });
      console.log(`      first CA refused (503), second issued, in one attempt: ${ms} ms`);
    } finally {
      await front?.close();
    }
  });

  it('every CA failing: the attempt fails, and the failure recorded for certs names each CA', async () => {
    let front: OrderRefusingFront | undefined;
    await relay.down();
    try {
      front = await startOrderRefusingFront(second);
      const name = 'nobody.example.test';
      const firstDir = `https://127.0.0.1:${relay.port}/dir`;
      const g = await gatehouse([firstDir, front.directory], [name]);
      const fails = await runCli(['renew', '-c', g.configFile, '--name', name]);
      expect(fails.code).to.equal(1);
      const row = (await certsJson(g.configFile)).find((r) => r.names.includes(name))!;
      expect(row.status).to.equal('failing');
      expect(row.lastError).to.include({ ca: front.directory, challenge: null });
      expect(row.lastError!.detail).to.match(/new orders are refused/);
      const table = (await runCli(['certs', '-c', g.configFile])).stdout;
      expect(table).to.include(`last error (${front.directory}, order,`);
      expect(table).to.match(new RegExp(`also tried https://127\\.0\\.0\\.1:${relay.port}/dir order: cannot reach the ACME server .*ECONNREFUSED`));
    } finally {
      await relay.up();
      await front?.close();
    }
  });
});
