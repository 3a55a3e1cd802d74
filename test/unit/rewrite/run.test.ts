// issue 17: the rewrite engine on a request: flags, `?` rules, set, break, return, if (file tests
// on the real filesystem), the rewritten URI normalised before the router sees it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { RewriteStep } from '../../../src/config/types.js';
import { compileSteps } from '../../../src/rewrite/compile.js';
import { runProgram, type RunResult } from '../../../src/rewrite/run.js';
import { serverRewrite, withRewrite } from '../../../src/rewrite/index.js';
import { parseCondition } from '../../../src/config/rewrite.js';
import { declareUserVariables } from '../../../src/http/variables.js';
import { request, type TestContext } from './helpers.js';

const rw = (regex: string, replacement: string, flag?: 'last' | 'break' | 'redirect' | 'permanent'): RewriteStep =>
  flag ? { kind: 'rewrite', regex, replacement, flag } : { kind: 'rewrite', regex, replacement };
const iff = (cond: string, ...then: RewriteStep[]): RewriteStep => ({ kind: 'if', condition: parseCondition(cond), source: cond, then });
const ret = (status: number, text?: string): RewriteStep => (text === undefined ? { kind: 'return', status } : { kind: 'return', status, text });
const set = (name: string, value: string): RewriteStep => ({ kind: 'set', name, value });

async function run(steps: RewriteStep[], ctx: TestContext): Promise<RunResult> {
  return runProgram({ ops: compileSteps(steps) }, ctx);
}

describe('rewrite/run', () => {
  before(() => declareUserVariables(['a', 'who', 'name']));

  it('a rewrite without a flag changes the URI and goes on; the next one sees the new URI', async () => {
    const ctx = request('/a/x?k=v');
    const r = await run([rw('^/a/(.*)$', '/b/$1'), rw('^/b/(.*)$', '/c/$1')], ctx);
    expect(r).to.deep.equal({ signal: undefined, uriChanged: true });
    expect([ctx.path, ctx.args, ctx.internal]).to.deep.equal(['/c/x', 'k=v', true]);
  });

  it('last and break stop the list; a non-matching rewrite changes nothing', async () => {
    const ctx = request('/a/x');
    expect(await run([rw('^/a/(.*)$', '/b/$1', 'last'), rw('^/b/', '/never')], ctx)).to.deep.equal({ signal: 'last', uriChanged: true });
    expect(ctx.path).to.equal('/b/x');
    const b = request('/a/x');
    expect(await run([rw('^/a/(.*)$', '/b/$1', 'break'), rw('^/b/', '/never')], b)).to.deep.equal({ signal: 'break', uriChanged: true });
    const n = request('/z');
    expect(await run([rw('^/a/', '/b')], n)).to.deep.equal({ signal: undefined, uriChanged: false });
    expect(n.internal).to.equal(undefined);
  });

  it('redirect, permanent and an absolute replacement answer at once', async () => {
    const r = request('/a/x?k=1');
    expect((await run([rw('^/a/(.*)$', '/n/$1', 'redirect'), ret(200, 'no')], r)).signal).to.equal('done');
    expect(r.answered).to.deep.include({ status: 302 });
    expect(r.answered?.headers.location).to.equal('/n/x?k=1');
    const p = request('/a/x');
    await run([rw('^/a/(.*)$', '/n/$1', 'permanent')], p);
    expect(p.answered?.status).to.equal(301);
    const h = request('/a/x');
    await run([rw('^/a/(.*)$', 'https://$host/n/$1')], h);
    expect([h.answered?.status, h.answered?.headers.location]).to.deep.equal([302, 'https://a.test/n/x']);
  });

  it('the rewritten URI is normalised: dot segments and double slashes never reach the router', async () => {
    const ctx = request('/j/.-.');
    await run([rw('^/j/([^/]*)-([^/]*)$', '/api/$1$2/etc//passwd')], ctx);
    expect(ctx.path).to.equal('/etc/passwd');
    const up = request('/j/x');
    expect((await run([rw('^/j/(.*)$', '/../$1')], up)).signal).to.equal('done');
    expect(up.answered?.status).to.equal(400);
    const empty = request('/j/x');
    await run([rw('^/j/(.*)$', '$arg_none')], empty);
    expect(empty.answered?.status).to.equal(500);
  });

  it('an encoded slash was decoded before the regex saw it, so a capture cannot smuggle one', async () => {
    const ctx = request('/e/a%2Fb');
    await run([rw('^/e/(.*)$', '/p/$1')], ctx);
    expect(ctx.path).to.equal('/p/a/b');
  });

  it('set, then variables in return; break stops the list', async () => {
    const ctx = request('/s', { 'x-user': 'ann' });
    const r = await run([set('who', 'anon'), iff('$http_x_user', set('who', '$http_x_user')), { kind: 'break' }, ret(200, 'never')], ctx);
    expect(r.signal).to.equal('break');
    expect(ctx.vars.getUser('who')).to.equal('ann');
    const b = request('/s');
    await run([set('who', 'anon'), ret(200, 'who=$who uri=$uri\n')], b);
    expect(b.answered?.body).to.equal('who=anon uri=/s\n');
  });

  it('if regex captures become $1 for the steps after it; named captures are variables', async () => {
    const ctx = request('/x', { 'user-agent': 'Bot-42' });
    await run([iff('$http_user_agent ~ ^Bot-(?<name>\\d+)', ret(200, '$1 $name'))], ctx);
    expect(ctx.answered?.body).to.equal('42 42');
    const miss = request('/x', { 'user-agent': 'no' });
    miss.vars.captures = ['old'];
    await run([iff('$http_user_agent ~ ^Bot-(\\d+)', ret(200, 'x')), ret(200, '[$1]')], miss);
    expect(miss.answered?.body).to.equal('[]');
  });

  it('return: 444 closes, a code >= 400 without text is the usual answer, 204 has no body', async () => {
    const c = request('/x');
    await run([ret(444)], c);
    expect(c.aborted).to.equal(true);
    const f = request('/x');
    await run([ret(403)], f);
    expect(f.answered?.status).to.equal(403);
    const n = request('/x');
    await run([ret(204)], n);
    expect([n.answered?.status, n.answered?.body]).to.deep.equal([204, '']);
  });

  it('file tests stat the path without blocking: -f, -d, -e, -x and their negations', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-rw-'));
    fs.writeFileSync(path.join(dir, 'f.txt'), 'x');
    fs.mkdirSync(path.join(dir, 'd'));
    fs.writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    try {
      const probe = async (cond: string, target: string): Promise<boolean> => {
        const ctx = request(target, {}, dir);
        const r = runProgram({ ops: compileSteps([iff(cond, ret(200, 'yes'))]) }, ctx);
        expect(r, 'a file test waits for the stat').to.be.instanceOf(Promise);
        await r;
        return ctx.answered?.body === 'yes';
      };
      expect(await probe('-f $request_filename', '/f.txt')).to.equal(true);
      expect(await probe('-f $request_filename', '/d')).to.equal(false);
      expect(await probe('!-f $request_filename', '/nothing')).to.equal(true);
      expect(await probe('-d $request_filename', '/d')).to.equal(true);
      expect(await probe('!-d $request_filename', '/f.txt')).to.equal(true);
      expect(await probe('-e $request_filename', '/d')).to.equal(true);
      expect(await probe('-e $request_filename', '/f.txt/x')).to.equal(false);
      expect(await probe('!-e $request_filename', '/gone')).to.equal(true);
      expect(await probe('-x $request_filename', '/run.sh')).to.equal(true);
      expect(await probe('-x $request_filename', '/f.txt')).to.equal(false);
      expect(await probe('!-x $request_filename', '/f.txt')).to.equal(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a list without file tests runs synchronously', () => {
    const ctx = request('/a');
    const r = runProgram({ ops: compileSteps([rw('^/a$', '/b'), iff('$uri = /b', set('a', '1'))]) }, ctx);
    expect(r).to.not.be.instanceOf(Promise);
    expect(ctx.vars.getUser('a')).to.equal('1');
  });

  it('route phase: last or a changed URI searches again; break and no change go on; answered stops', async () => {
    const seen: string[] = [];
    const next = (c: TestContext) => {
      seen.push(c.path);
    };
    const phase = (steps: RewriteStep[]) => withRewrite(steps)(next as never);
    const a = request('/a');
    await phase([rw('^/a$', '/b', 'last')])(a);
    expect(a.redirects).to.deep.equal([['/b', '']]);
    const n = request('/a?q=1');
    await phase([rw('^/a$', '/c')])(n);
    expect(n.redirects).to.deep.equal([['/c', 'q=1']]);
    const b = request('/a');
    await phase([rw('^/a$', '/d', 'break')])(b);
    expect([b.redirects, seen]).to.deep.equal([[], ['/d']]);
    const z = request('/z');
    await phase([rw('^/a$', '/d')])(z);
    expect(seen).to.deep.equal(['/d', '/z']);
    const r = request('/a');
    await phase([ret(403)])(r);
    expect(seen).to.have.length(2);
  });

  it('server level: the site list runs, last and break both go on to the location search', async () => {
    const ctx = request('/old/x');
    (ctx.site.config as { rewrite?: RewriteStep[] }).rewrite = [rw('^/old/(.*)$', '/new/$1', 'last'), ret(403)];
    expect(await serverRewrite(ctx)).to.equal(true);
    expect(ctx.path).to.equal('/new/x');
    const none = request('/x');
    expect(serverRewrite(none)).to.equal(true);
    const answered = request('/x');
    (answered.site.config as { rewrite?: RewriteStep[] }).rewrite = [ret(403)];
    expect(await serverRewrite(answered)).to.equal(false);
  });
});
