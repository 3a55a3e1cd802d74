import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileStorage } from '../../../../src/storage/file-storage.js';
import { certificateKeys, issueLockName, issuerKeyFromDirectory } from '../../../../src/storage/keys.js';
import { createLeaf, createRootCa } from '../../../../src/tls/ca-certs.js';
import { AcmeCertStore } from '../../../../src/tls/acme/cert-store.js';
import { importCertificate, ImportError, type ImportResult } from '../../../../src/tls/acme/import.js';
import { ecKeyPem, MemoryStorage } from './helpers.js';

const DAY = 86_400_000;
const DIRECTORY = 'https://ca.test/dir';
const ISSUER = issuerKeyFromDirectory(DIRECTORY);
const root = createRootCa(new Date(Date.now() - DAY), new Date(Date.now() + 3650 * DAY));
const other = createRootCa(new Date(Date.now() - DAY), new Date(Date.now() + 3650 * DAY));

/** leaf + root, as certbot's fullchain.pem holds leaf + intermediate. */
function issued(names: string[], days: number, startDaysAgo = 1): { certPem: string; keyPem: string } {
  const l = createLeaf(root, names, new Date(Date.now() - startDaysAgo * DAY), new Date(Date.now() + days * DAY));
  return { certPem: l.certPem + root.certPem, keyPem: l.keyPem };
}

async function rejected(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('importing a certificate into the ACME storage (import.ts)', function () {
  this.timeout(30_000);

  it('stores it as an order from the directory stores it: pair, metadata, clean state, change announced', async () => {
    const storage = new MemoryStorage();
    const store = new AcmeCertStore(storage, ISSUER);
    const pair = issued(['example.com', 'www.example.com'], 90);
    const r = await importCertificate(storage, { ...pair, names: ['www.example.com', 'example.com'], directory: DIRECTORY, source: '/etc/letsencrypt/live/example.com' });
    expect(r.kind).to.equal('imported');
    const loaded = await store.load('www.example.com');
    expect(loaded).to.include({ certPem: pair.certPem, keyPem: pair.keyPem });
    expect(loaded!.meta).to.include({ issuerKey: ISSUER, directory: DIRECTORY, keyType: 'ecdsa-p256', importedFrom: '/etc/letsencrypt/live/example.com' });
    expect(loaded!.meta!.names).to.deep.equal(['www.example.com', 'example.com']);
    expect(await store.loadState('www.example.com')).to.deep.equal({ names: ['www.example.com', 'example.com'], failures: 0, lastError: null, nextAttempt: null });
    expect(await store.changedMarker()).to.be.a('string');
    expect(storage.values.has(certificateKeys(ISSUER, 'www.example.com').pending)).to.equal(false);
    // Renewal by the normal rule: a third of a 91-day lifetime before the end, or renewBefore.
    const due = (r as Extract<ImportResult, { kind: 'imported' }>).due.getTime();
    expect(Math.abs(due - (Date.now() + 90 * DAY - (91 * DAY) / 3))).to.be.below(DAY);
    const r2 = await importCertificate(new MemoryStorage(), { ...pair, directory: DIRECTORY, renewBeforeMs: 10 * DAY });
    expect(Math.abs((r2 as Extract<ImportResult, { kind: 'imported' }>).due.getTime() - (Date.now() + 80 * DAY))).to.be.below(DAY);
  });

  it('without names, stores it under its SANs, the first being the primary', async () => {
    const storage = new MemoryStorage();
    const r = await importCertificate(storage, { ...issued(['a.example.com', 'b.example.com'], 30), directory: DIRECTORY });
    expect(r.names).to.deep.equal(['a.example.com', 'b.example.com']);
    expect(await new AcmeCertStore(storage, ISSUER).primaries()).to.deep.equal(['a.example.com']);
  });

  it('in a folder: the private key is written 0600, nothing half-written is left', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-import-'));
    const storage = new FileStorage(dir);
    await importCertificate(storage, { ...issued(['example.com'], 90), directory: DIRECTORY });
    const keys = certificateKeys(ISSUER, 'example.com');
    expect(fs.statSync(path.join(dir, keys.key)).mode & 0o777).to.equal(0o600);
    expect(fs.existsSync(path.join(dir, keys.pending))).to.equal(false);
    expect(fs.readdirSync(path.dirname(path.join(dir, keys.cert))).sort()).to.deep.equal(['example.com.crt', 'example.com.json', 'example.com.key']);
    await storage.close();
  });

  it('refuses a key that is not the certificate\'s', async () => {
    const err = await rejected(importCertificate(new MemoryStorage(), { certPem: issued(['example.com'], 90).certPem, keyPem: ecKeyPem(), directory: DIRECTORY }));
    expect(err).to.be.instanceOf(ImportError);
    expect(err.message).to.equal('the private key does not match the certificate');
  });

  it('refuses an expired certificate', async () => {
    const err = await rejected(importCertificate(new MemoryStorage(), { ...issued(['example.com'], -1, 91), directory: DIRECTORY }));
    expect(err).to.be.instanceOf(ImportError);
    expect(err.message).to.match(/^the certificate expired on \d{4}-/);
  });

  it('refuses names the certificate does not cover; a wildcard covers one label only (RFC 6125)', async () => {
    const pair = issued(['example.com', '*.example.com'], 90);
    const ok = await importCertificate(new MemoryStorage(), { ...pair, names: ['example.com', 'www.example.com'], directory: DIRECTORY });
    expect(ok.kind).to.equal('imported');
    const err = await rejected(importCertificate(new MemoryStorage(), { ...pair, names: ['example.com', 'a.b.example.com', 'example.org'], directory: DIRECTORY }));
    expect(err).to.be.instanceOf(ImportError);
    expect(err.message).to.equal('the certificate does not cover a.b.example.com, example.org (it holds example.com, *.example.com)');
  });

  it('refuses a chain whose next certificate did not issue the previous one, and a file without a certificate', async () => {
    const l = createLeaf(root, ['example.com'], new Date(Date.now() - DAY), new Date(Date.now() + 90 * DAY));
    const err = await rejected(importCertificate(new MemoryStorage(), { certPem: l.certPem + other.certPem, keyPem: l.keyPem, directory: DIRECTORY }));
    expect(err.message).to.equal('the chain is broken: certificate 2 did not issue certificate 1');
    const none = await rejected(importCertificate(new MemoryStorage(), { certPem: 'not a pem', keyPem: l.keyPem, directory: DIRECTORY }));
    expect(none.message).to.equal('no certificate in the chain file');
  });

  it('never replaces a certificate that lasts as long or longer; replaces an older one; the same one again changes nothing', async () => {
    const storage = new MemoryStorage();
    const store = new AcmeCertStore(storage, ISSUER);
    const newer = issued(['example.com'], 80);
    const older = issued(['example.com'], 40, 50);
    await importCertificate(storage, { ...newer, directory: DIRECTORY });
    const writes = storage.writes;
    const kept = await importCertificate(storage, { ...older, directory: DIRECTORY });
    expect(kept.kind).to.equal('kept');
    expect(storage.writes).to.equal(writes);
    expect((await store.load('example.com'))!.certPem).to.equal(newer.certPem);
    expect((await importCertificate(storage, { ...newer, directory: DIRECTORY })).kind).to.equal('unchanged');
    expect(storage.writes).to.equal(writes);

    const storage2 = new MemoryStorage();
    await importCertificate(storage2, { ...older, directory: DIRECTORY });
    const r = await importCertificate(storage2, { ...newer, directory: DIRECTORY });
    expect(r.kind).to.equal('imported');
    const loaded = await new AcmeCertStore(storage2, ISSUER).load('example.com');
    expect(loaded!.certPem).to.equal(newer.certPem);
    expect(loaded!.meta!.replaced).to.equal((r as Extract<ImportResult, { kind: 'imported' }>).replaced).and.to.be.a('string');
  });

  it('a stored certificate for other names is not serving these: it is replaced', async () => {
    const storage = new MemoryStorage();
    await importCertificate(storage, { ...issued(['example.com', 'other.example.com'], 89), names: ['example.com'], directory: DIRECTORY });
    const r = await importCertificate(storage, { ...issued(['example.com', 'www.example.com'], 30), names: ['example.com', 'www.example.com'], directory: DIRECTORY });
    expect(r.kind).to.equal('imported');
  });

  it('waits for the storage lock an order holds, and gives up when the signal says so', async () => {
    const storage = new MemoryStorage();
    const unlock = await storage.lock(issueLockName(ISSUER, 'example.com'));
    const err = await rejected(importCertificate(storage, { ...issued(['example.com'], 90), directory: DIRECTORY, signal: AbortSignal.timeout(100) }));
    expect(err.name).to.equal('TimeoutError');
    expect(await new AcmeCertStore(storage, ISSUER).load('example.com')).to.equal(undefined);
    const pending = importCertificate(storage, { ...issued(['example.com'], 90), directory: DIRECTORY });
    await new Promise((r) => setTimeout(r, 50));
    expect(await new AcmeCertStore(storage, ISSUER).load('example.com')).to.equal(undefined);
    await unlock();
    expect((await pending).kind).to.equal('imported');
  });
});
