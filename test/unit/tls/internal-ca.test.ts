import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import { silentLogger } from '../../../src/log/types.js';
import { FileStorage } from '../../../src/storage/file-storage.js';
import { certificateKeys, INTERNAL_ISSUER, internalCaKeys } from '../../../src/storage/keys.js';
import { InternalCa } from '../../../src/tls/internal-ca.js';
import { parseSubjectAltName } from '../../../src/tls/names.js';
import { TLS_CONTEXT_OPTIONS } from '../../../src/tls/tls-options.js';
import { tempDir } from './fixtures.js';

const run = promisify(execFile);
const DAY = 86400_000;

describe('InternalCa', function () {
  this.timeout(20_000);
  let dir: string;
  let storage: FileStorage;
  beforeEach(async () => {
    dir = await tempDir('gatehouse-ca-');
    storage = new FileStorage(join(dir, 'certs'));
  });
  afterEach(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('issues an ECDSA P-256 leaf for DNS names and IPs that openssl verifies against the root', async () => {
    const ca = new InternalCa(storage, silentLogger);
    const names = ['localhost', '*.localhost', '127.0.0.1', '::1'];
    const leaf = await ca.issue(names);
    await writeFile(join(dir, 'root.pem'), await ca.rootPem());
    await writeFile(join(dir, 'leaf.pem'), leaf.certPem);
    const { stdout } = await run('openssl', ['verify', '-CAfile', join(dir, 'root.pem'), '-purpose', 'sslserver', join(dir, 'leaf.pem')]);
    expect(stdout.trim()).to.equal(`${join(dir, 'leaf.pem')}: OK`);

    const x509 = new X509Certificate(leaf.certPem);
    expect(parseSubjectAltName(x509.subjectAltName)).to.deep.equal(names);
    expect(x509.publicKey.asymmetricKeyType).to.equal('ec');
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
    expect(createPrivateKey(leaf.keyPem).asymmetricKeyType).to.equal('ec');
    expect(x509.keyUsage).to.include('1.3.6.1.5.5.7.3.1'); // serverAuth EKU
    expect(x509.ca).to.equal(false);
    const lifetime = new Date(x509.validTo).getTime() - Date.now();
    expect(lifetime).to.be.within(29 * DAY, 30 * DAY + 60_000);
    expect(leaf.notAfter.getTime()).to.equal(new Date(x509.validTo).getTime());

    const root = new X509Certificate(await ca.rootPem());
    expect(root.ca).to.equal(true);
    // A year at most (security review F13); roots are rolled over by internal-ca-roots.ts.
    expect(new Date(root.validTo).getTime() - Date.now()).to.be.within(364 * DAY, 365 * DAY);
  });

  it('serves a chain that a TLS client trusting the root accepts for the name and IP, and rejects for another', async () => {
    const ca = new InternalCa(storage, silentLogger);
    const leaf = await ca.issue(['app.test', '127.0.0.1']);
    const rootPem = await ca.rootPem();
    const server = tls.createServer({ ...TLS_CONTEXT_OPTIONS, cert: leaf.certPem, key: leaf.keyPem }, (s) => s.end('hi'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    // Without a servername, Node checks the certificate against the IP it connected to.
    const connect = (servername?: string) =>
      new Promise<string>((resolve, reject) => {
        const sock = tls.connect({ host: '127.0.0.1', port, ca: [rootPem], ...(servername ? { servername } : {}) }, () => {
          sock.setEncoding('utf8');
          let data = '';
          sock.on('data', (d: string) => (data += d));
          sock.on('end', () => resolve(data));
        });
        sock.on('error', reject);
      });
    try {
      expect(await connect('app.test')).to.equal('hi');
      expect(await connect()).to.equal('hi');
      const err = await connect('other.test').then(
        () => undefined,
        (e: unknown) => e as NodeJS.ErrnoException,
      );
      expect(err?.code).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      server.close();
    }
  });

  it('reuses the stored certificate, also from a new instance over the same storage', async () => {
    const first = await new InternalCa(storage, silentLogger).issue(['reuse.test']);
    const again = await new InternalCa(new FileStorage(join(dir, 'certs')), silentLogger).issue(['REUSE.test']);
    expect(new X509Certificate(again.certPem).serialNumber).to.equal(new X509Certificate(first.certPem).serialNumber);
  });

  it('stores private keys 0600 under the internal issuer', async () => {
    await new InternalCa(storage, silentLogger).issue(['keys.test']);
    const root = join(dir, 'certs');
    expect((await stat(join(root, internalCaKeys().key))).mode & 0o777).to.equal(0o600);
    expect((await stat(join(root, certificateKeys(INTERNAL_ISSUER, 'keys.test').key))).mode & 0o777).to.equal(0o600);
  });

  it('issues anew when the stored certificate does not cover every name', async () => {
    const ca = new InternalCa(storage, silentLogger);
    const a = await ca.issue(['grow.test']);
    const b = await ca.issue(['grow.test', 'www.grow.test']);
    expect(new X509Certificate(b.certPem).serialNumber).to.not.equal(new X509Certificate(a.certPem).serialNumber);
    expect(parseSubjectAltName(new X509Certificate(b.certPem).subjectAltName)).to.deep.equal(['grow.test', 'www.grow.test']);
  });

  it('issues anew once a third of the lifetime is left', async () => {
    let now = Date.now();
    const ca = new InternalCa(storage, silentLogger, { now: () => now });
    const a = await ca.issue(['renew.test']);
    now += 19 * DAY;
    const b = await ca.issue(['renew.test']);
    expect(new X509Certificate(b.certPem).serialNumber, 'still reused with 11 days left').to.equal(new X509Certificate(a.certPem).serialNumber);
    now += 2 * DAY;
    const c = await ca.issue(['renew.test']);
    expect(new X509Certificate(c.certPem).serialNumber, 'renewed with 9 days left').to.not.equal(new X509Certificate(a.certPem).serialNumber);
  });

  it('makes one root and one certificate when two instances ask at once', async () => {
    const other = new FileStorage(join(dir, 'certs'));
    const [a, b] = await Promise.all([
      new InternalCa(storage, silentLogger).issue(['race.test']),
      new InternalCa(other, silentLogger).issue(['race.test']),
    ]);
    expect(a.certPem).to.equal(b.certPem);
    await other.close();
  });
});
