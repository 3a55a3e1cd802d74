// The internal CA's roots over time (security review F13): a year's life and name constraints that
// include the configured names; a name outside them signed by an announced successor; the yearly
// rollover with 30 days' notice; an older version's 10-year unconstrained root retired the same way.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FileStorage } from '../../../src/storage/file-storage.js';
import { internalCaKeys, internalCaNextKeys } from '../../../src/storage/keys.js';
import { createRootCa } from '../../../src/tls/ca-certs.js';
import { InternalCa } from '../../../src/tls/internal-ca.js';
import { LOCAL_SUBTREES, permits, readSubtrees } from '../../../src/tls/name-constraints.js';
import { recordingLogger, tempDir, type RecordingLogger } from './fixtures.js';

const run = promisify(execFile);
const DAY = 86400_000;

describe('InternalCa roots', function () {
  this.timeout(30_000);
  let dir: string;
  let storage: FileStorage;
  let logger: RecordingLogger;
  let now: number;
  const clock = { now: () => now };
  beforeEach(async () => {
    dir = await tempDir('gatehouse-roots-');
    storage = new FileStorage(join(dir, 'certs'));
    logger = recordingLogger();
    now = Date.now();
  });
  afterEach(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  const text = async (key: string): Promise<string | undefined> => storage.load(key).then((b) => b.toString(), () => undefined);
  const subjectOf = (pem: string | undefined): string => (pem ? new X509Certificate(pem).subject : '');
  const signedBy = (leafPem: string, rootPem: string | undefined): boolean => rootPem !== undefined && new X509Certificate(leafPem).verify(new X509Certificate(rootPem).publicKey);
  const warnings = (): string[] => logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
  /** openssl verify of `leafPem` against `rootPem` alone (real time: only for certificates made now). */
  const opensslVerify = async (leafPem: string, rootPem: string): Promise<string> => {
    await writeFile(join(dir, 'leaf.pem'), leafPem);
    await writeFile(join(dir, 'root.pem'), rootPem);
    return run('openssl', ['verify', '-CAfile', join(dir, 'root.pem'), '-purpose', 'sslserver', join(dir, 'leaf.pem')]).then(
      ({ stdout }) => stdout.trim(),
      (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`.trim(),
    );
  };

  it('makes a one-year root that permits the local names and the configured ones outside them', async () => {
    const ca = new InternalCa(storage, logger);
    ca.want(['a.test', 'app.corp', '*.wild.corp', '203.0.113.5']);
    const leaf = await ca.issue(['app.corp', '203.0.113.5']);
    const root = await ca.rootPem();
    const x509 = new X509Certificate(root);
    expect(Date.parse(x509.validTo) - Date.parse(x509.validFrom)).to.equal(365 * DAY + 3600_000);
    const subtrees = readSubtrees(root)!;
    for (const n of ['a.test', 'x.wild.corp', 'app.corp', '203.0.113.5', '192.168.1.1']) expect(permits(subtrees, n), n).to.equal(true);
    expect(permits(subtrees, 'other.corp')).to.equal(false);
    expect(await opensslVerify(leaf.certPem, root)).to.match(/: OK$/);
    expect(await text(internalCaNextKeys().cert)).to.equal(undefined);
    expect(warnings()).to.deep.equal([]);
  });

  it('signs a name the root does not permit with an announced successor; the root in use stays, and the successor takes over 30 days later', async () => {
    const first = new InternalCa(storage, logger, clock);
    first.want(['a.test']);
    const aLeaf = await first.issue(['a.test']);
    const rootPem = await text(internalCaKeys().cert);

    // A restart with a config that adds a site the root does not permit.
    const ca = new InternalCa(storage, logger, clock);
    ca.want(['a.test', 'new.corp']);
    const leaf = await ca.issue(['new.corp']);
    const nextPem = await text(internalCaNextKeys().cert);
    expect(nextPem, 'a successor root').to.be.a('string');
    expect(await text(internalCaKeys().cert), 'the root in use is unchanged').to.equal(rootPem);
    expect(await opensslVerify(leaf.certPem, nextPem!)).to.match(/: OK$/);
    expect(await opensslVerify(leaf.certPem, rootPem!)).to.not.match(/: OK$/);
    expect(warnings()).to.have.length(1);
    expect(warnings()[0]).to.match(/made a new root that takes over on \d{4}-\d\d-\d\d: add it to the trust stores.*does not permit new\.corp/);
    expect(logger.lines.find((l) => l.level === 'warn')?.meta?.key).to.equal('internal-ca/next.crt');
    // Sites the root permits keep their certificates and their root.
    expect((await ca.issue(['a.test'])).certPem).to.equal(aLeaf.certPem);
    expect(await ca.signedByCurrentRoot(['a.test'], aLeaf.certPem)).to.equal(true);

    now += 29 * DAY;
    await ca.maintain();
    expect(await text(internalCaKeys().cert), 'not before 30 days').to.equal(rootPem);
    now += 1 * DAY + 60_000;
    await ca.maintain();
    expect(await text(internalCaKeys().cert), 'the successor took over').to.equal(nextPem);
    expect(await text(internalCaNextKeys().cert)).to.equal(undefined);
    expect(warnings()[1]).to.match(/a new root took over .*clients must trust it/);
    expect(await ca.signedByCurrentRoot(['a.test'], aLeaf.certPem), 'a.test is re-issued from the new root').to.equal(false);
    const renewed = await ca.issue(['a.test']);
    expect(signedBy(renewed.certPem, nextPem)).to.equal(true);
  });

  it('rolls over yearly: a successor 30 days before the root could not outlive a new leaf, the takeover when it could not', async () => {
    const ca = new InternalCa(storage, logger, clock);
    await ca.issue(['a.test']);
    const rootPem = await text(internalCaKeys().cert);
    const end = Date.parse(new X509Certificate(rootPem!).validTo);
    now = end - 30 * DAY - 30 * DAY - 60_000;
    await ca.maintain();
    expect(await text(internalCaNextKeys().cert), 'not yet').to.equal(undefined);
    now += 2 * 60_000;
    await ca.maintain();
    const nextPem = await text(internalCaNextKeys().cert);
    expect(nextPem).to.be.a('string');
    expect(warnings()).to.have.length(1);
    expect(warnings()[0]).to.match(/takes over on .*the current root expires on/);
    expect(signedBy((await ca.issue(['a.test'])).certPem, rootPem), 'the old root still signs').to.equal(true);

    now += 30 * DAY;
    await ca.maintain();
    expect(await text(internalCaKeys().cert)).to.equal(nextPem);
    expect(signedBy((await ca.issue(['a.test'])).certPem, nextPem)).to.equal(true);
    // The new root lives a year from when it was made.
    const made = new X509Certificate(nextPem!);
    expect(Date.parse(made.validTo) - Date.parse(made.validFrom)).to.equal(365 * DAY + 3600_000);
  });

  it('keeps a root made by an older gatehouse (10 years, no constraints) working, and retires it after 30 days of notice', async () => {
    const legacy = createRootCa(new Date(now - 3600_000), new Date(now + 3650 * DAY));
    await storage.store(internalCaKeys().key, legacy.keyPem, { secret: true });
    await storage.store(internalCaKeys().cert, legacy.certPem);
    const ca = new InternalCa(storage, logger, clock);
    const leaf = await ca.issue(['a.test']);
    expect(await opensslVerify(leaf.certPem, legacy.certPem), 'still signs, so nothing breaks at the upgrade').to.match(/: OK$/);
    const nextPem = await text(internalCaNextKeys().cert);
    expect(readSubtrees(nextPem!)).to.not.equal(undefined);
    expect(warnings()).to.have.length(1);
    expect(warnings()[0]).to.match(/made by an older gatehouse \(valid until \d{4}-\d\d-\d\d, no name constraints\)/);

    now += 30 * DAY + 60_000;
    await ca.maintain();
    expect(await text(internalCaKeys().cert)).to.equal(nextPem);
    expect(signedBy((await ca.issue(['a.test'])).certPem, nextPem)).to.equal(true);
  });

  it('announces a successor found in the storage once per process', async () => {
    const legacy = createRootCa(new Date(now - 3600_000), new Date(now + 3650 * DAY));
    await storage.store(internalCaKeys().key, legacy.keyPem, { secret: true });
    await storage.store(internalCaKeys().cert, legacy.certPem);
    await new InternalCa(storage, recordingLogger(), clock).issue(['a.test']);
    const ca = new InternalCa(storage, logger, clock);
    await ca.issue(['b.test']);
    await ca.maintain();
    await ca.maintain();
    expect(warnings()).to.have.length(1);
    expect(warnings()[0]).to.match(/a new root takes over on \d{4}-\d\d-\d\d: add it to the trust stores/);
  });

  it('replaces an expired root without a successor at once, saying clients must trust the new one', async () => {
    const old = createRootCa(new Date(now - 355 * DAY), new Date(now + 10 * DAY), LOCAL_SUBTREES);
    await storage.store(internalCaKeys().key, old.keyPem, { secret: true });
    await storage.store(internalCaKeys().cert, old.certPem);
    const ca = new InternalCa(storage, logger, clock);
    await ca.issue(['a.test']);
    expect(subjectOf(await text(internalCaKeys().cert))).to.not.equal(subjectOf(old.certPem));
    expect(warnings()).to.have.length(1);
    expect(warnings()[0]).to.match(/stored root is expiring .* was replaced; clients must trust the new root/);
  });

  it('makes one successor when two processes sharing the storage need it at once', async () => {
    await new InternalCa(storage, recordingLogger(), clock).issue(['a.test']);
    const other = new FileStorage(join(dir, 'certs'));
    const a = new InternalCa(storage, recordingLogger(), clock);
    const b = new InternalCa(other, recordingLogger(), clock);
    a.want(['x.corp']);
    b.want(['x.corp']);
    const [la, lb] = await Promise.all([a.issue(['x.corp']), b.issue(['x.corp'])]);
    expect(la.certPem).to.equal(lb.certPem);
    expect(signedBy(la.certPem, await text(internalCaNextKeys().cert))).to.equal(true);
    await other.close();
  });
});
