// From URI to file under `alias`: nginx's mapping where it is safe, and no way out of the alias
// folder where nginx pastes bytes (the off-by-slash, captures holding `..`).
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseLocation } from '../../../src/config/location-spec.js';
import { aliasMap, type DocumentMap } from '../../../src/handler/static-alias.js';
import { compileTemplate } from '../../../src/http/variables.js';
import type { RequestContext } from '../../../src/request/context.js';

/** The two fields the map reads of a request: its URI and its regex captures. */
function request(p: string, captures?: string[]): RequestContext {
  return { path: p, vars: { captures } } as unknown as RequestContext;
}

async function kind(doc: DocumentMap, ctx: RequestContext): Promise<string> {
  const rel = doc.file(ctx);
  if (rel === undefined) return 'none';
  const found = await doc.files.lookup(rel);
  return found.kind === 'error' ? String(found.status) : found.kind === 'file' ? fs.readFileSync(found.file, 'utf8') : 'dir';
}

describe('handler/static-alias', () => {
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-alias-'));
    fs.mkdirSync(path.join(dir, 'pics', 'sub'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'pics-private'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'home', 'bob'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'pics', 'cat.txt'), 'cat');
    fs.writeFileSync(path.join(dir, 'pics-private', 'key.txt'), 'private');
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'SECRET');
    fs.writeFileSync(path.join(dir, 'home', 'bob', 'page.txt'), 'bob');
    fs.writeFileSync(path.join(dir, 'home', '.hidden'), 'hidden');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prefix alias: the location name is replaced by the folder', async () => {
    const doc = aliasMap({ path: `${dir}/pics/`, location: parseLocation('/img/') }, undefined, 'inside');
    expect(await kind(doc, request('/img/cat.txt'))).to.equal('cat');
    expect(await kind(doc, request('/img/'))).to.equal('dir');
    expect(await kind(doc, request('/img/sub'))).to.equal('dir');
    expect(await kind(doc, request('/img/none'))).to.equal('404');
  });

  it('off-by-slash: `location /img` + `alias .../pics/` never leaves the folder (nginx serves /img../secret.txt)', async () => {
    const doc = aliasMap({ path: `${dir}/pics/`, location: parseLocation('/img') }, undefined, 'inside');
    expect(await kind(doc, request('/img/cat.txt'))).to.equal('cat');
    expect(await kind(doc, request('/img../secret.txt'))).to.equal('404');
    expect(await kind(doc, request('/img..'))).to.equal('404');
    expect(await kind(doc, request('/img../pics-private/key.txt'))).to.equal('404');
  });

  it('an exact location aliased to a file serves that file', async () => {
    const doc = aliasMap({ path: `${dir}/pics/cat.txt`, location: parseLocation('= /favicon.ico') }, undefined, 'inside');
    expect(await kind(doc, request('/favicon.ico'))).to.equal('cat');
  });

  it('a URI outside the location names no file', async () => {
    const doc = aliasMap({ path: `${dir}/pics/`, location: parseLocation('/img/') }, undefined, 'inside');
    expect(doc.file(request('/other/cat.txt'))).to.equal(undefined);
  });

  it('try_files items are mapped like nginx: the location name is stripped when present', () => {
    const doc = aliasMap({ path: `${dir}/pics/`, location: parseLocation('/img/') }, undefined, 'inside');
    expect(doc.tried(request('/img/x'), '/img/cat.txt')).to.equal('/cat.txt');
    expect(doc.tried(request('/img/x'), '/cat.txt')).to.equal('//cat.txt');
    expect(doc.found(request('/img/x'), '/img/cat.txt', false)).to.equal('/img/cat.txt');
  });

  describe('regex alias with captures', () => {
    const alias = (p: string) => ({ path: p, location: parseLocation('~ ^/u/([^/]+)/(.*)$') });

    it('serves the alias with the captures filled in', async () => {
      const p = `${dir}/home/$1/$2`;
      const doc = aliasMap(alias(p), compileTemplate(p), 'inside');
      expect(await kind(doc, request('/u/bob/page.txt', ['bob', 'page.txt']))).to.equal('bob');
    });

    it('captures that climb or name dotfiles find nothing, the fixed folder is never left', async () => {
      const p = `${dir}/home/$1/$2`;
      const doc = aliasMap(alias(p), compileTemplate(p), 'inside');
      // A capture is decoded text: a regex like ([^/]+) takes "..", and "%2e%2e" arrives as "..".
      expect(await kind(doc, request('/u/../secret.txt', ['..', '../secret.txt']))).to.equal('404');
      expect(await kind(doc, request('/u/x/y', ['..', 'secret.txt']))).to.equal('404');
      expect(await kind(doc, request('/u/x/y', ['.hidden', '']))).to.equal('404');
      expect(await kind(doc, request('/u/x/y', ['bob', '']))).to.equal('dir');
    });

    it('a capture that makes the name relative finds nothing', () => {
      const p = '$1/x';
      const doc = aliasMap(alias(p), compileTemplate(p), 'inside');
      expect(doc.file(request('/u/a/b', ['etc', 'b']))).to.equal(undefined);
    });
  });
});
