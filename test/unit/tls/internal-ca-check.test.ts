// `gatehouse check` on the internal CA's stored roots: it warns before a start would make a root that
// clients must trust (security review F13).
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../../../src/log/types.js';
import { FileStorage } from '../../../src/storage/file-storage.js';
import { internalCaKeys } from '../../../src/storage/keys.js';
import { createRootCa } from '../../../src/tls/ca-certs.js';
import { internalCaNotes } from '../../../src/tls/internal-ca-check.js';
import { InternalCa } from '../../../src/tls/internal-ca.js';
import { config, site, tempDir } from './fixtures.js';

const DAY = 86400_000;

describe('gatehouse check: internal CA notes', () => {
  let dir: string;
  let storage: FileStorage;
  beforeEach(async () => {
    dir = await tempDir('gatehouse-cacheck-');
    storage = new FileStorage(join(dir, 'certs'));
  });
  afterEach(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });
  const cfg = (...hosts: string[][]) => config(hosts.map((h) => site(h, { kind: 'internal' })), join(dir, 'certs'));

  it('says nothing before a root exists, nor when the root permits every internal name', async () => {
    expect(await internalCaNotes(cfg(['a.test'], ['app.corp']))).to.deep.equal([]);
    const ca = new InternalCa(storage, silentLogger);
    ca.want(['a.test', 'app.corp']);
    await ca.issue(['a.test']);
    expect(await internalCaNotes(cfg(['a.test'], ['app.corp'], ['b.test', '10.0.0.5']))).to.deep.equal([]);
  });

  it('warns about internal names the stored root does not permit, until a successor permits them', async () => {
    await new InternalCa(storage, silentLogger).issue(['a.test']);
    const notes = await internalCaNotes(cfg(['a.test'], ['app.corp', '203.0.113.7']));
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(/the stored root does not permit app\.corp, 203\.0\.113\.7 .*clients must trust that root .*internal-ca\/next\.crt/);
    const ca = new InternalCa(storage, silentLogger);
    ca.want(['a.test', 'app.corp', '203.0.113.7']);
    await ca.issue(['app.corp', '203.0.113.7']);
    const after = await internalCaNotes(cfg(['a.test'], ['app.corp', '203.0.113.7']));
    expect(after).to.have.length(1);
    expect(after[0]).to.match(/a new root takes over on \d{4}-\d\d-\d\d: add it to the trust stores/);
  });

  it('warns about a root made by an older gatehouse', async () => {
    const legacy = createRootCa(new Date(Date.now() - 3600_000), new Date(Date.now() + 3650 * DAY));
    await storage.store(internalCaKeys().key, legacy.keyPem, { secret: true });
    await storage.store(internalCaKeys().cert, legacy.certPem);
    expect(await internalCaNotes(cfg(['a.test']))).to.have.length(1);
    expect((await internalCaNotes(cfg(['a.test'])))[0]).to.match(/made by an older gatehouse \(valid until .*, no name constraints\).*takes over 30 days later/);
  });

  it('says when the successor of a root near its end is made', async () => {
    await new InternalCa(storage, silentLogger).issue(['a.test']);
    expect(await internalCaNotes(cfg(['a.test']), Date.now() + 200 * DAY)).to.deep.equal([]);
    const notes = await internalCaNotes(cfg(['a.test']), Date.now() + 295 * DAY);
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(/the root expires on (\d{4}-\d\d-\d\d); its successor is made on (\d{4}-\d\d-\d\d) and takes over 30 days later/);
    const [, expires, made] = /expires on (\S+); its successor is made on (\S+) /.exec(notes[0]!)!;
    expect(Date.parse(expires!) - Date.parse(made!)).to.equal(60 * DAY);
  });

  it('leaves Redis storage alone', async () => {
    const c = { ...cfg(['app.corp']), storage: 'redis://127.0.0.1:1/0' };
    expect(await internalCaNotes(c)).to.deep.equal([]);
  });
});
