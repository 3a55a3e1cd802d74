// The exec DNS provider driving BIND's own nsupdate (through a small hook script written here, fed with
// the TSIG key file) against a real BIND 9.18; dig sees the result. Also: a failing hook's stderr reaches
// the error, a hanging hook is killed at its timeout.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { ExecDnsProvider } from '../../src/tls/acme/dns/exec.js';
import { startBind9, type Bind9 } from '../helpers/bind9.js';
import { tempDir } from '../helpers/gatehouse.js';
import { rejection } from '../helpers/rejection.js';


function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

describe('DNS-01 exec provider driving nsupdate against BIND (integration)', function () {
  this.timeout(30_000);
  let bind: Bind9;
  let dir: string;
  let hook: string;

  before(async () => {
    bind = await startBind9({ zones: [{ name: 'test.zone' }], keys: [{ name: 'gh-hook', algorithm: 'hmac-sha256' }] });
    dir = tempDir('gh-dns-exec-');
    // What a user's hook looks like (README "DNS providers: rfc2136 and exec"): FQDN comes without a dot.
    hook = script(dir, 'nsupdate-hook.sh', `set -e
case "$1" in present) op="add $2. 60";; cleanup) op="delete $2.";; *) echo "unknown action $1" >&2; exit 2;; esac
nsupdate -k ${bind.keyFile('gh-hook')} <<EOF
server 127.0.0.1 ${bind.port}
update $op IN TXT "$3"
send
EOF`);
  });
  after(() => bind?.stop());

  it('present and cleanup through nsupdate: dig sees the value, then only the other one', async () => {
    const p = new ExecDnsProvider({ command: [hook], timeoutMs: 10_000 });
    const name = '_acme-challenge.hook.test.zone';
    await p.present(name, 'first-value');
    await p.present(name, 'second-value');
    expect(bind.txt(name)).to.deep.equal(['first-value', 'second-value']);
    await p.cleanup(name, 'first-value');
    expect(bind.txt(name)).to.deep.equal(['second-value']);
    await p.cleanup(name, 'second-value');
    expect(bind.txt(name)).to.deep.equal([]);
  });

  it('the arguments arrive as given, without a shell in between', async () => {
    const out = path.join(dir, 'args.txt');
    const echo = script(dir, 'args.sh', `printf '%s|' "$@" > ${out}`);
    await new ExecDnsProvider({ command: [echo, '--flag', 'two words'], timeoutMs: 10_000 }).present('_acme-challenge.x.test.zone', 'abc_DEF-123');
    expect(fs.readFileSync(out, 'utf8')).to.equal('--flag|two words|present|_acme-challenge.x.test.zone|abc_DEF-123|');
  });

  it('a failing command: the error carries its exit code and the last lines of its stderr', async () => {
    const failing = script(dir, 'fail.sh', `i=0; while [ $i -lt 50 ]; do echo "noise line $i" >&2; i=$((i+1)); done
echo "update failed: REFUSED" >&2; exit 3`);
    const err = await rejection(new ExecDnsProvider({ command: [failing], timeoutMs: 10_000 }).present('_acme-challenge.f.test.zone', 'v'));
    expect(err.message).to.include('exit 3').and.to.include('update failed: REFUSED').and.to.include('noise line 49');
    expect(err.message).not.to.include('noise line 10\n');
  });

  it('nsupdate with a wrong key file fails the hook, and the error says so', async () => {
    const badKey = path.join(dir, 'bad.key');
    fs.writeFileSync(badKey, 'key "gh-hook" {\n  algorithm hmac-sha256;\n  secret "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";\n};\n');
    const bad = script(dir, 'bad-hook.sh', `printf 'server 127.0.0.1 ${bind.port}\\nupdate add $2. 60 IN TXT "$3"\\nsend\\n' | nsupdate -k ${badKey}`);
    const err = await rejection(new ExecDnsProvider({ command: [bad], timeoutMs: 10_000 }).present('_acme-challenge.bad.test.zone', 'v'));
    expect(err.message).to.match(/failed \(exit \d+\)/).and.to.match(/REFUSED|NOTAUTH|BADSIG|tsig/i);
  });

  it('a command that does not exist: an error saying it could not start', async () => {
    const err = await rejection(new ExecDnsProvider({ command: [path.join(dir, 'no-such-hook')], timeoutMs: 10_000 }).present('_acme-challenge.n.test.zone', 'v'));
    expect(err.message).to.include('could not start');
  });

  it('a hook that exits but leaves a child holding its stderr open: done within a second, not at the timeout', async () => {
    const pidFile = path.join(dir, 'daemon.pid');
    const leaves = script(dir, 'leaves-child.sh', `setsid sleep 30 2>&2 & echo $! > ${pidFile}; echo "left a daemon" >&2; exit 0`);
    const started = Date.now();
    try {
      await new ExecDnsProvider({ command: [leaves], timeoutMs: 20_000 }).present('_acme-challenge.d.test.zone', 'v');
      expect(Date.now() - started).to.be.lessThan(5000);
    } finally {
      process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
    }
  });

  it('an aborted signal kills the hook', async () => {
    const hang = script(dir, 'hang-abort.sh', 'sleep 60');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const err = await rejection(new ExecDnsProvider({ command: [hang], timeoutMs: 20_000 }).present('_acme-challenge.a.test.zone', 'v', controller.signal));
    expect(err.message).to.include('was cancelled and killed');
  });

  it('a hanging command and its children are killed at the timeout', async () => {
    // 500 ms: timeoutMs is the user's own setting here, not a product default this test proves; a short one
    // keeps the test fast.
    const pidFile = path.join(dir, 'child.pid');
    const hang = script(dir, 'hang.sh', `sleep 60 & echo $! > ${pidFile}; echo "waiting for DNS" >&2; wait`);
    const started = Date.now();
    const err = await rejection(new ExecDnsProvider({ command: [hang], timeoutMs: 500 }).present('_acme-challenge.h.test.zone', 'v'));
    expect(Date.now() - started).to.be.lessThan(5000);
    expect(err.message).to.include('did not finish within 500 ms').and.to.include('waiting for DNS');
    const child = Number(fs.readFileSync(pidFile, 'utf8'));
    // The backgrounded sleep belonged to the hook's process group: it must be dead too (gone, or a zombie
    // waiting for this container's pid 1, which does not reap).
    await new Promise((r) => setTimeout(r, 100));
    const status = fs.existsSync(`/proc/${child}/status`) ? fs.readFileSync(`/proc/${child}/status`, 'utf8') : 'State:\tgone';
    expect(status).to.match(/State:\t(gone|Z)/);
  });
});
