// Looking files up under a root: what may reach the file system, symlink policies, precompressed
// siblings, and the cache that makes a repeated lookup synchronous.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StaticFiles, servablePath, type Lookup } from '../../../src/handler/static-files.js';

async function lookup(files: StaticFiles, rel: string): Promise<Lookup> {
  return files.lookup(rel);
}

describe('handler/static-files', () => {
  let dir: string;
  let root: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-static-files-'));
    root = path.join(dir, 'root');
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'a.css'), 'body{}');
    fs.writeFileSync(path.join(root, 'a.css.gz'), 'GZ');
    fs.writeFileSync(path.join(root, 'big.bin'), Buffer.alloc(100 * 1024));
    fs.writeFileSync(path.join(dir, 'secret'), 'x');
    fs.symlinkSync(path.join(dir, 'secret'), path.join(root, 'out'));
    fs.symlinkSync(path.join(root, 'a.css'), path.join(root, 'in.css'));
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps dot segments, NUL and lone surrogates away from the file system, except /.well-known/', () => {
    expect(servablePath('/a/b.txt')).to.equal(true);
    expect(servablePath('/.well-known/acme')).to.equal(true);
    expect(servablePath('/x/.well-known/acme')).to.equal(false);
    for (const p of ['/.env', '/a/.git/config', '/a/../b', '/..', '/a\0b', '/\udc80x', 'relative']) {
      expect(servablePath(p), JSON.stringify(p)).to.equal(false);
    }
    expect(servablePath('/caf\u00e9/\ud83d\ude00.txt')).to.equal(true);
  });

  it('finds a file with its type, nginx ETag, precompressed sibling and (small files) bytes', async () => {
    const files = new StaticFiles(root, 'inside');
    const found = await lookup(files, '/a.css');
    if (found.kind !== 'file') expect.fail(`expected a file, got ${found.kind}`);
    const st = fs.statSync(path.join(root, 'a.css'));
    expect(found.contentType).to.equal('text/css; charset=utf-8');
    expect(found.etag).to.equal(`"${Math.floor(st.mtimeMs / 1000).toString(16)}-6"`);
    expect(found.body?.toString()).to.equal('body{}');
    expect([...found.available]).to.deep.equal(['gzip']);
    expect(found.encoded.get('gzip')?.etag).to.match(/^"[0-9a-f]+-2-gzip"$/);
    const big = await lookup(files, '/big.bin');
    expect(big.kind === 'file' && big.body === undefined && big.size === 100 * 1024).to.equal(true);
  });

  it('answers a second lookup from the cache, synchronously', async () => {
    fs.writeFileSync(path.join(root, 'once.txt'), 'once');
    const files = new StaticFiles(root, 'inside');
    const first = files.lookup('/once.txt');
    expect(first).to.be.instanceOf(Promise);
    // A second request while the first lookup is in flight shares it.
    expect(files.lookup('/once.txt')).to.equal(first);
    await first;
    const again = files.lookup('/once.txt');
    expect(again).not.to.be.instanceOf(Promise);
    expect(again).to.deep.include({ kind: 'file', size: 4 });
  });

  it('tells files, directories and missing paths apart', async () => {
    const files = new StaticFiles(`${root}/`, 'inside');
    expect((await lookup(files, '/sub')).kind).to.equal('dir');
    expect((await lookup(files, '/sub/')).kind).to.equal('dir');
    expect(await lookup(files, '/nope')).to.deep.equal({ kind: 'error', status: 404 });
    expect(await lookup(files, '/a.css/x')).to.deep.equal({ kind: 'error', status: 404 });
    expect(await lookup(new StaticFiles(path.join(dir, 'missing-root'), 'inside'), '/a.css')).to.deep.equal({ kind: 'error', status: 404 });
  });

  it('never finds a regular file for a path ending in "/" (open("file/") is ENOTDIR, as in nginx)', async () => {
    fs.symlinkSync(path.join(root, 'sub'), path.join(root, 'sub-link'));
    for (const policy of ['inside', 'follow', 'refuse'] as const) {
      const files = new StaticFiles(root, policy);
      for (const rel of ['/a.css/', '/in.css/', '/big.bin/', '/out/']) {
        expect(await lookup(files, rel), `${policy} ${rel}`).to.deep.equal({ kind: 'error', status: 404 });
      }
      // Asked once with and once without the slash: the two answers are cached apart.
      expect((await lookup(files, '/a.css')).kind, policy).to.equal('file');
      expect((await lookup(files, '/sub/')).kind, policy).to.equal('dir');
    }
    expect((await lookup(new StaticFiles(root, 'inside'), '/sub-link/')).kind).to.equal('dir');
    expect(await lookup(new StaticFiles(root, 'refuse'), '/sub-link/')).to.deep.equal({ kind: 'error', status: 403 });
  });

  it('applies the symlink policy: inside (default), follow, refuse', async () => {
    const inside = new StaticFiles(root, 'inside');
    expect(await lookup(inside, '/out')).to.deep.equal({ kind: 'error', status: 403 });
    expect((await lookup(inside, '/in.css')).kind).to.equal('file');
    expect((await lookup(new StaticFiles(root, 'follow'), '/out')).kind).to.equal('file');
    const refuse = new StaticFiles(root, 'refuse');
    expect(await lookup(refuse, '/in.css')).to.deep.equal({ kind: 'error', status: 403 });
    expect((await lookup(refuse, '/a.css')).kind).to.equal('file');
  });

  it('serves a root that is itself reached through a symlink', async () => {
    const alias = path.join(dir, 'alias');
    fs.symlinkSync(root, alias);
    expect((await lookup(new StaticFiles(alias, 'refuse'), '/a.css')).kind).to.equal('file');
    expect((await lookup(new StaticFiles(alias, 'inside'), '/a.css')).kind).to.equal('file');
  });
});
