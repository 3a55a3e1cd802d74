// issue 19: sites' TLS policies in the CertManager — one certificate shared by sites with different
// policies answers each site's names with that site's context, and a changed policy on reload keeps an
// ACME certificate serving. (What the contexts negotiate is proven by test/integration/tls-policy.test.ts.)
import { expect } from 'chai';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TlsPolicy } from '../../../src/config/types.js';
import { silentLogger } from '../../../src/log/types.js';
import { FileStorage } from '../../../src/storage/file-storage.js';
import { createCertEntry, type LoadedCertEntry } from '../../../src/tls/cert-entry.js';
import { CertManager } from '../../../src/tls/cert-manager.js';
import { config, makeSelfSigned, site, tempDir } from './fixtures.js';

const ONLY13: TlsPolicy = { protocols: { min: 'TLSv1.3', max: 'TLSv1.3' } };
const ONLY12: TlsPolicy = { protocols: { min: 'TLSv1.2', max: 'TLSv1.2' } };

describe('CertManager with TLS policies', function () {
  this.timeout(20_000);
  let dir: string;
  let manager: CertManager | undefined;
  let storage: FileStorage;
  let wild: { kind: 'files'; cert: string; key: string };

  beforeEach(async () => {
    dir = await tempDir();
    storage = new FileStorage(join(dir, 'certs'));
    wild = { kind: 'files', cert: join(dir, 'wild.crt'), key: join(dir, 'wild.key') };
    await makeSelfSigned(['*.example.com'], wild.cert, wild.key);
  });
  afterEach(async () => {
    manager?.close();
    manager = undefined;
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers each site\'s names with its own policy\'s context when they share one certificate', async () => {
    manager = await CertManager.create(
      config([site(['a.example.com'], { ...wild, policy: ONLY13 }), site(['b.example.com'], { ...wild, policy: ONLY12 }), site(['c.example.com'], wild)]),
      storage,
      silentLogger,
    );
    const pick = (name: string): LoadedCertEntry => manager!.select(name) as LoadedCertEntry;
    const [a, b, c] = [pick('a.example.com'), pick('b.example.com'), pick('c.example.com')];
    expect(a.serial).to.equal(b.serial);
    expect(a.context).to.not.equal(b.context);
    expect(a.context).to.not.equal(c.context);
    expect(b.context).to.not.equal(c.context);
    expect(manager.select('a.example.com')!.context, 'the same context at each handshake').to.equal(a.context);
    // A name no site lists: the first slot covering it, with that slot's policy.
    expect(manager.select('x.example.com')!.context).to.equal(a.context);
  });

  it('keeps serving an ACME certificate when a reload changes the site\'s policy', async () => {
    await makeSelfSigned(['shop.test'], join(dir, 'shop.crt'), join(dir, 'shop.key'));
    manager = await CertManager.create(config([site(['shop.test'], { kind: 'acme' }, { default: true })]), storage, silentLogger);
    const issued = createCertEntry({ certPem: await readFile(join(dir, 'shop.crt')), keyPem: await readFile(join(dir, 'shop.key')), source: 'acme' });
    manager.replaceEntry(['shop.test'], issued);
    expect(manager.select('shop.test')!.context).to.equal(issued.context);
    await manager.reload(config([site(['shop.test'], { kind: 'acme', policy: ONLY13 }, { default: true })]));
    const served = manager.select('shop.test') as LoadedCertEntry;
    expect(served.serial).to.equal(issued.serial);
    expect(served.context, 'the policy\'s context, not the default one').to.not.equal(issued.context);
    expect(manager.acmeNames()).to.deep.equal([['shop.test']]);
  });
});
