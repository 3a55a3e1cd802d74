import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStorage } from '../../../../src/storage/file-storage.js';
import { certificateKeys } from '../../../../src/storage/keys.js';
import { AcmeCertStore, type CertMeta } from '../../../../src/tls/acme/cert-store.js';
import { leaf, MemoryStorage } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/save-loop.ts', import.meta.url));
const DAY = 86_400_000;

function meta(pair: { serial: string; fingerprint256: string }): CertMeta {
  return { names: ['a.test'], issuerKey: 'ca', directory: 'https://ca/dir', serial: pair.serial, fingerprint256: pair.fingerprint256, notBefore: '', notAfter: '', issuedAt: '', keyType: 'ecdsa-p256' };
}

describe('ACME certificate store', function () {
  this.timeout(30_000);

  it('stores a pair with its metadata and marks the change for other processes', async () => {
    const storage = new MemoryStorage();
    const store = new AcmeCertStore(storage, 'ca');
    const p = leaf(['a.test'], new Date(Date.now() - DAY), new Date(Date.now() + 90 * DAY));
    const before = await store.changedMarker();
    await store.save('a.test', p, meta(p));
    const loaded = await store.load('a.test');
    expect(loaded).to.include({ certPem: p.certPem, keyPem: p.keyPem });
    expect(loaded!.meta!.serial).to.equal(p.serial);
    expect(await store.changedMarker()).to.not.equal(before);
    expect(await store.primaries()).to.deep.equal(['a.test']);
    expect(storage.values.has(certificateKeys('ca', 'a.test').pending)).to.equal(false);
  });

  it('a crash between the key and the cert write is finished from the pending pair', async () => {
    const storage = new MemoryStorage();
    const store = new AcmeCertStore(storage, 'ca');
    const old = leaf(['a.test'], new Date(Date.now() - DAY), new Date(Date.now() + 30 * DAY));
    const next = leaf(['a.test'], new Date(Date.now() - DAY), new Date(Date.now() + 90 * DAY));
    await store.save('a.test', old, meta(old));
    const keys = certificateKeys('ca', 'a.test');
    // What save() leaves when killed right after writing the new key:
    await storage.store(keys.pending, JSON.stringify({ certPem: next.certPem, keyPem: next.keyPem }));
    await storage.store(keys.key, next.keyPem);
    const loaded = await store.load('a.test');
    expect(loaded!.certPem).to.equal(next.certPem);
    expect(loaded!.keyPem).to.equal(next.keyPem);
    expect(loaded!.meta).to.equal(undefined); // the metadata describes the old certificate
  });

  it('kill -9 in the middle of saving leaves a whole pair, old or new, never a torn one', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-crash-'));
    const pairs = [
      leaf(['crash.test'], new Date(Date.now() - DAY), new Date(Date.now() + 30 * DAY)),
      leaf(['crash.test'], new Date(Date.now() - DAY), new Date(Date.now() + 60 * DAY)),
    ];
    const pairsFile = path.join(root, 'pairs.json');
    fs.writeFileSync(pairsFile, JSON.stringify(pairs.map((p) => ({ certPem: p.certPem, keyPem: p.keyPem }))));
    const storageRoot = path.join(root, 'certs');
    const serials = new Set(pairs.map((p) => p.serial));
    for (let round = 0; round < 6; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, storageRoot, pairsFile], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
      });
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
      await new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill('SIGKILL');
      });
      const loaded = await new AcmeCertStore(new FileStorage(storageRoot), 'ca.test-dir').load('crash.test');
      expect(loaded, `round ${round}`).to.not.equal(undefined);
      const x = new X509Certificate(loaded!.certPem);
      expect(serials.has(x.serialNumber)).to.equal(true);
      expect(x.checkPrivateKey((await import('node:crypto')).createPrivateKey(loaded!.keyPem))).to.equal(true);
    }
  });
});
