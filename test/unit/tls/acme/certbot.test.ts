import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { issuerKeyFromDirectory } from '../../../../src/storage/keys.js';
import { createLeaf, createRootCa } from '../../../../src/tls/ca-certs.js';
import { AcmeCertStore } from '../../../../src/tls/acme/cert-store.js';
import { importCertbotLineage } from '../../../../src/tls/acme/certbot.js';
import { ImportError } from '../../../../src/tls/acme/import.js';
import { MemoryStorage } from './helpers.js';

const DAY = 86_400_000;
const DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
const root = createRootCa(new Date(Date.now() - DAY), new Date(Date.now() + 3650 * DAY));

/** certbot's --config-dir with one lineage: live/NAME/*.pem linking to archive/NAME/*1.pem. */
function lineage(names: string[], server?: string): { configDir: string; live: string; certPem: string } {
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-certbot-'));
  const name = names[0]!;
  const leaf = createLeaf(root, names, new Date(Date.now() - DAY), new Date(Date.now() + 89 * DAY));
  const archive = path.join(configDir, 'archive', name);
  const live = path.join(configDir, 'live', name);
  fs.mkdirSync(archive, { recursive: true });
  fs.mkdirSync(live, { recursive: true });
  fs.writeFileSync(path.join(archive, 'fullchain1.pem'), leaf.certPem + root.certPem);
  fs.writeFileSync(path.join(archive, 'privkey1.pem'), leaf.keyPem, { mode: 0o600 });
  for (const f of ['fullchain', 'privkey']) fs.symlinkSync(`../../archive/${name}/${f}1.pem`, path.join(live, `${f}.pem`));
  if (server !== undefined) {
    fs.mkdirSync(path.join(configDir, 'renewal'));
    fs.writeFileSync(path.join(configDir, 'renewal', `${name}.conf`), `version = 2.1.0\n[renewalparams]\nauthenticator = nginx\nserver = ${server}\n`);
  }
  return { configDir, live, certPem: leaf.certPem + root.certPem };
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('importing a certbot lineage (certbot.ts)', function () {
  this.timeout(30_000);

  it('reads live/NAME through its links into archive/, stores it under the site\'s names', async () => {
    const { live, certPem } = lineage(['example.com', 'www.example.com'], DIRECTORY);
    const storage = new MemoryStorage();
    const { result, warnings } = await importCertbotLineage(storage, live, { names: ['example.com', 'www.example.com'], directory: DIRECTORY });
    expect(result.kind).to.equal('imported');
    expect(warnings).to.deep.equal([]);
    const stored = await new AcmeCertStore(storage, issuerKeyFromDirectory(DIRECTORY)).load('example.com');
    expect(stored!.certPem).to.equal(certPem);
    expect(stored!.meta!.importedFrom).to.equal(live);
  });

  it('warns when certbot renewed from another CA than acme.directory, and imports anyway', async () => {
    const staging = 'https://acme-staging-v02.api.letsencrypt.org/directory';
    const { configDir, live } = lineage(['example.com'], staging);
    const { result, warnings } = await importCertbotLineage(new MemoryStorage(), live, { directory: DIRECTORY });
    expect(result.kind).to.equal('imported');
    expect(warnings).to.deep.equal([
      `${configDir}/renewal/example.com.conf: certbot renews this certificate from ${staging}; gatehouse serves it until it is due, then renews it from ${DIRECTORY} (acme.directory; adapt --acme-directory keeps certbot's CA)`,
    ]);
  });

  it('no renewal/NAME.conf: imported without a warning', async () => {
    const { live } = lineage(['example.com']);
    const { result, warnings } = await importCertbotLineage(new MemoryStorage(), live, { directory: DIRECTORY });
    expect([result.kind, warnings]).to.deep.equal(['imported', []]);
  });

  it('a missing lineage, a missing file and a link into a missing archive file each say which', async () => {
    const { configDir, live } = lineage(['example.com']);
    const gone = path.join(configDir, 'live', 'gone.example.com');
    expect((await failure(importCertbotLineage(new MemoryStorage(), gone, { directory: DIRECTORY }))).message).to.equal(
      `${gone}: no such certbot lineage (run adapt --acme on the machine where certbot keeps its certificates)`,
    );
    fs.rmSync(path.join(configDir, 'archive', 'example.com', 'privkey1.pem'));
    const dangling = await failure(importCertbotLineage(new MemoryStorage(), live, { directory: DIRECTORY }));
    expect(dangling).to.be.instanceOf(ImportError);
    expect(dangling.message).to.equal(`${live}/privkey.pem: links to ../../archive/example.com/privkey1.pem, which does not exist (certbot's archive/ is incomplete)`);
    fs.rmSync(path.join(live, 'privkey.pem'));
    expect((await failure(importCertbotLineage(new MemoryStorage(), live, { directory: DIRECTORY }))).message).to.equal(`${live}/privkey.pem: no such file in certbot's lineage`);
  });

  it('a certificate that does not cover the site\'s names is refused, naming the lineage', async () => {
    const { live } = lineage(['example.com']);
    const err = await failure(importCertbotLineage(new MemoryStorage(), live, { names: ['example.com', 'shop.example.com'], directory: DIRECTORY }));
    expect(err.message).to.equal(`${live}: the certificate does not cover shop.example.com (it holds example.com)`);
  });
});
