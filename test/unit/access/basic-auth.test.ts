// The basic-auth check against a real htpasswd file: nginx's reading of the Authorization header,
// the file read again when it changes, nginx's statuses for a missing or unreadable file, the cache
// of verified passwords (successes only) and the bound on concurrent hashes.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { basicAuthCheck, parseBasic, MAX_PASSWORD_BYTES } from '../../../src/access/basic-auth.js';
import { HtpasswdFile, HTPASSWD_STAT_INTERVAL_MS } from '../../../src/access/htpasswd.js';
import { VerifyGate, MAX_ACTIVE, MAX_WAITING } from '../../../src/access/verify-gate.js';
import type { Verdict } from '../../../src/access/verdict.js';
import { silentLogger } from '../../../src/log/types.js';
import type { RequestContext } from '../../../src/request/context.js';

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

function request(authorization?: string): RequestContext {
  return {
    ex: {
      method: 'GET',
      rawTarget: '/',
      headers: authorization === undefined ? {} : { authorization },
      conn: { remoteAddress: '192.0.2.1' },
      closed: false,
    },
  } as unknown as RequestContext;
}

function htpasswdLine(flags: string[], user: string, password: string): string {
  return execFileSync('htpasswd', ['-nb', ...flags, user, password], { encoding: 'latin1' }).trim();
}

describe('access/basic-auth', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-auth-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('parseBasic (ngx_http_auth_basic_user)', () => {
    it('takes "Basic" in any case, spaces, base64 up to the first "=", user to the first ":"', () => {
      expect(parseBasic(`Basic ${b64('alice:se:cret')}`)).to.deep.equal({ user: 'alice', password: Buffer.from('se:cret') });
      expect(parseBasic(`bAsIc    ${b64('a:b')}`)?.user).to.equal('a');
      expect(parseBasic(`Basic ${b64('ab:cde')}!x`)).to.equal(undefined);
      expect(parseBasic(`Basic ${b64('ab:c')}garbage`)?.password.toString()).to.equal('c');
      expect(parseBasic(`Basic ${b64('a:bc')}`.replace(/=*$/, '') + '=!!!')?.password.toString()).to.equal('bc');
      expect(parseBasic(`Basic ${b64('a:')}`)?.password.length).to.equal(0);
    });

    it('refuses what nginx declines: no header, another scheme, no ":", an empty user, bad base64', () => {
      for (const v of [undefined, '', 'Basic', 'Basic ', 'Basic    ', 'Bearer abc', `Basic${b64('a:b')}`, `Basic ${b64('nocolon')}`, `Basic ${b64(':pw')}`, 'Basic a', 'Basic ab$d']) {
        expect(parseBasic(v), String(v)).to.equal(undefined);
      }
    });

    it('refuses a huge header without decoding it', () => {
      expect(parseBasic(`Basic ${b64(`a:${'x'.repeat(5000)}`)}`)).to.equal(undefined);
    });
  });

  async function check(file: string, authorization?: string, gate = new VerifyGate()): Promise<Verdict> {
    const c = basicAuthCheck({ realm: 'Restricted area', file: new HtpasswdFile(file, silentLogger), logger: silentLogger, gate });
    return c(request(authorization));
  }

  it('passes the right password; 401 with the realm for a wrong one, an unknown user, no header', async () => {
    const file = path.join(dir, 'htpasswd');
    fs.writeFileSync(file, `${htpasswdLine(['-B', '-C', '4'], 'alice', 'wonder')}\n${htpasswdLine(['-m'], 'bob', 'builder')}\n`);
    expect(await check(file, `Basic ${b64('alice:wonder')}`)).to.deep.equal({ kind: 'pass' });
    expect(await check(file, `Basic ${b64('bob:builder')}`)).to.deep.equal({ kind: 'pass' });
    const challenge = { kind: 'refuse', status: 401, headers: { 'www-authenticate': 'Basic realm="Restricted area"' } };
    expect(await check(file, `Basic ${b64('alice:Wonder')}`)).to.deep.equal(challenge);
    expect(await check(file, `Basic ${b64('carol:wonder')}`)).to.deep.equal(challenge);
    expect(await check(file, `Basic ${b64('Alice:wonder')}`)).to.deep.equal(challenge);
    expect(await check(file)).to.deep.equal(challenge);
    expect(await check(file, `Basic ${b64(`alice:${'w'.repeat(MAX_PASSWORD_BYTES + 1)}`)}`)).to.deep.equal(challenge);
  });

  it('a missing file is 403 and an unreadable one 500, as in nginx', async () => {
    expect(await check(path.join(dir, 'none'), `Basic ${b64('a:b')}`)).to.deep.equal({ kind: 'refuse', status: 403 });
    expect(await check(dir, `Basic ${b64('a:b')}`)).to.deep.equal({ kind: 'fail', status: 500 });
  });

  // The real interval of htpasswd.ts: a change counts at the first request after it.
  const statInterval = () => new Promise((r) => setTimeout(r, HTPASSWD_STAT_INTERVAL_MS + 50));

  it('reads the file again when it changes: a removed user is refused within the stat interval (1 s), cached or not', async () => {
    const file = path.join(dir, 'htpasswd');
    fs.writeFileSync(file, `${htpasswdLine(['-s'], 'alice', 'one')}\n`);
    const gate = new VerifyGate();
    const c = basicAuthCheck({ realm: 'r', file: new HtpasswdFile(file, silentLogger), logger: silentLogger, gate });
    expect((await c(request(`Basic ${b64('alice:one')}`))).kind).to.equal('pass');
    // A new file renamed over the old one, as htpasswd does: another inode.
    fs.writeFileSync(`${file}.new`, `${htpasswdLine(['-s'], 'alice', 'two')}\n`);
    fs.renameSync(`${file}.new`, file);
    await statInterval();
    expect((await c(request(`Basic ${b64('alice:one')}`))).kind).to.equal('refuse');
    expect((await c(request(`Basic ${b64('alice:two')}`))).kind).to.equal('pass');
    // Edited in place, same size: mtime/ctime tell.
    fs.writeFileSync(file, `${htpasswdLine(['-s'], 'bobby', 'two')}\n`.slice(0, fs.statSync(file).size));
    await statInterval();
    expect((await c(request(`Basic ${b64('alice:two')}`))).kind).to.equal('refuse');
    fs.rmSync(file);
    await statInterval();
    expect(await c(request(`Basic ${b64('bobby:two')}`))).to.deep.equal({ kind: 'refuse', status: 403 });
  });

  it('caches a verified password (bcrypt runs once), never a wrong one', async () => {
    const file = path.join(dir, 'htpasswd');
    fs.writeFileSync(file, `${htpasswdLine(['-B', '-C', '10'], 'alice', 'wonder')}\n`);
    const gate = new VerifyGate();
    const c = basicAuthCheck({ realm: 'r', file: new HtpasswdFile(file, silentLogger), logger: silentLogger, gate });
    let t = performance.now();
    expect((await c(request(`Basic ${b64('alice:wonder')}`))).kind).to.equal('pass');
    const first = performance.now() - t;
    expect(gate.size).to.equal(1);
    t = performance.now();
    for (let i = 0; i < 20; i++) expect((await c(request(`Basic ${b64('alice:wonder')}`))).kind).to.equal('pass');
    const twenty = performance.now() - t;
    expect(twenty).to.be.below(first);
    for (let i = 0; i < 2; i++) expect((await c(request(`Basic ${b64('alice:wronger')}`))).kind).to.equal('refuse');
    expect(gate.size).to.equal(1);
  });

  it('bounds the hashes running at once and sheds the overflow with 503', async () => {
    const gate = new VerifyGate();
    let running = 0;
    let peak = 0;
    const releases: Array<() => void> = [];
    const slow = () =>
      new Promise<boolean>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        releases.push(() => {
          running--;
          resolve(false);
        });
      });
    const all = Array.from({ length: MAX_ACTIVE + MAX_WAITING + 5 }, (_, i) => gate.check(`k${i}`, slow));
    const early = await Promise.race([Promise.all(all.slice(-5)), new Promise((r) => setTimeout(() => r('pending'), 50))]);
    expect(early).to.deep.equal(['busy', 'busy', 'busy', 'busy', 'busy']);
    while (releases.length > 0) {
      releases.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    const results = await Promise.all(all);
    expect(peak).to.equal(MAX_ACTIVE);
    expect(results.filter((r) => r === false)).to.have.length(MAX_ACTIVE + MAX_WAITING);
    expect(gate.size).to.equal(0);
  });

  it('one check at a time per key: concurrent identical credentials share one hash', async () => {
    const gate = new VerifyGate();
    let calls = 0;
    const verify = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return true;
    };
    const results = await Promise.all([gate.check('k', verify), gate.check('k', verify), gate.check('k', verify)]);
    expect(results).to.deep.equal([true, true, true]);
    expect(calls).to.equal(1);
    expect(gate.cached('k')).to.equal(true);
    expect(gate.key(['a', 'b'])).to.not.equal(gate.key(['a\0b', '']));
  });
});
