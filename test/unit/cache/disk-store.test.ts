import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskStore, decode, encode } from '../../../src/cache/disk-store.js';
import { variant } from './fixtures.js';

const entries = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => n.endsWith('.entry'));

describe('cache/disk-store', () => {
  let dir: string;
  let errors: string[];
  const open = (maxBytes = 1 << 20): DiskStore => new DiskStore(dir, maxBytes, (m) => errors.push(m));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-cache-'));
    errors = [];
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('round-trips variants, policies and bodies through the file format', () => {
    const v = variant('héllo\nworld', { 'cache-control': 'max-age=60', etag: '"e1"', vary: 'Accept' }, { accept: 'text/plain' });
    const [back] = decode(encode('https://a.test/x', [v, variant('second')]), 'https://a.test/x') ?? [];
    expect(back?.body.toString()).to.equal('héllo\nworld');
    expect(back?.secondary).to.equal(v.secondary);
    expect(back?.status).to.equal(200);
    expect(back?.policy.responseHeaders().etag).to.equal('"e1"');
    expect(back?.policy.stale()).to.equal(false);
  });

  it('serves what an earlier process stored (a restart)', async () => {
    await open().set('https://a.test/x', [variant('kept')]);
    const later = open();
    expect((await later.get('https://a.test/x'))?.[0]?.body.toString()).to.equal('kept');
    expect(await later.get('https://a.test/other')).to.equal(undefined);
  });

  it('ignores and removes a truncated or foreign file instead of serving it', async () => {
    const store = open();
    await store.set('https://a.test/x', [variant('a whole body')]);
    const [name] = await entries(dir);
    const file = join(dir, name as string);
    const data = await readFile(file);
    await writeFile(file, data.subarray(0, data.length - 3));
    const reopened = open();
    expect(await reopened.get('https://a.test/x')).to.equal(undefined);
    expect(await entries(dir)).to.deep.equal([]);
    expect(errors.join()).to.match(/unreadable; removed/);
    // A file whose metadata names another key (a hash collision, a copied file) is not served either.
    expect(decode(data, 'https://a.test/y')).to.equal(undefined);
    expect(decode(Buffer.from('not json\n'), 'https://a.test/x')).to.equal(undefined);
  });

  it('removes temporary files a crashed write left behind, not those another worker is writing', async () => {
    const old = join(dir, '.abc.entry.123456.tmp');
    await writeFile(old, 'partial');
    const anHourAgo = new Date(Date.now() - 3600_000);
    await utimes(old, anHourAgo, anHourAgo);
    await writeFile(join(dir, '.def.entry.654321.tmp'), 'being written');
    const store = open();
    await store.get('https://a.test/x');
    expect(await readdir(dir)).to.deep.equal(['.def.entry.654321.tmp']);
  });

  it('stays under its size by unlinking the least recently used files', async () => {
    const body = 'x'.repeat(1000);
    const one = encode('https://a.test/0', [variant(body)]).length;
    const store = open(one * 2 + 100);
    await store.set('https://a.test/0', [variant(body)]);
    await store.set('https://a.test/1', [variant(body)]);
    await store.get('https://a.test/0');
    await store.set('https://a.test/2', [variant(body)]);
    await new Promise((r) => setTimeout(r, 50));
    expect(await entries(dir)).to.have.length(2);
    expect(await store.get('https://a.test/1')).to.equal(undefined);
    expect(await store.get('https://a.test/0')).to.not.equal(undefined);
  });

  it('does not let a write still in flight undo a delete that came after it', async () => {
    const store = open();
    const writing = store.set('https://a.test/x', [variant('x')]);
    expect(await store.delete('https://a.test/x')).to.equal(true);
    await writing;
    expect(await entries(dir)).to.deep.equal([]);
    expect(await store.get('https://a.test/x')).to.equal(undefined);
  });

  it('deletes a key and says whether it had one', async () => {
    const store = open();
    await store.set('https://a.test/x', [variant('x')]);
    expect(await store.delete('https://a.test/x')).to.equal(true);
    expect(await store.delete('https://a.test/x')).to.equal(false);
    expect(await entries(dir)).to.deep.equal([]);
  });
});
