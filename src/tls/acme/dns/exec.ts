// DNS-01 through a hook command, so any DNS CLI can be used: `COMMAND... present|cleanup FQDN VALUE`, the
// arguments of lego's exec provider and the job of certbot's manual auth/cleanup hooks. FQDN has no
// trailing dot (lego passes one; scripts written for it must cope with both). No shell (the arguments are
// never parsed again), bounded time: at the timeout the command's whole process group is killed, so a
// script's own children (nsupdate, curl…) die with it. A non-zero exit is an error carrying the last lines
// of its stderr, bounded.
import { spawn } from 'node:child_process';
import type { DnsProvider } from './provider.js';
import { assertDnsName } from './transport.js';

export interface ExecOptions {
  /** The program and its first arguments; `present|cleanup FQDN VALUE` are appended. */
  command: string[];
  timeoutMs: number;
}

/** Kept of the command's stderr: enough for its last words, never a flood held in memory. */
const STDERR_KEEP = 16 * 1024;
const STDERR_LINES = 10;
const MAX_VALUE = 1024;
const STDERR_GRACE_MS = 1000;

export class ExecDnsProvider implements DnsProvider {
  constructor(private readonly opts: ExecOptions) {
    if (opts.command.length === 0 || opts.command[0] === '') throw new Error('the exec DNS provider needs a command');
  }

  present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.run('present', fqdn, value, signal);
  }

  cleanup(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.run('cleanup', fqdn, value, signal);
  }

  private run(action: 'present' | 'cleanup', fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const name = assertDnsName(fqdn);
    // ACME values are base64url; anything else would be a caller's bug, refused before it reaches a script.
    if (!/^[A-Za-z0-9_-]{1,1024}$/.test(value) || value.length > MAX_VALUE) return Promise.reject(new Error(`TXT value for ${name} is not an ACME key authorization digest`));
    const [program, ...args] = this.opts.command as [string, ...string[]];
    const what = `DNS hook "${program} ${action} ${name}"`;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      // detached: the child leads its own process group, which the timeout kills as a whole.
      const child = spawn(program, [...args, action, name, value], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
      let stderr = '';
      let killedFor: string | null = null;
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        if (stderr.length > STDERR_KEEP * 2) stderr = stderr.slice(-STDERR_KEEP);
      });
      const kill = (why: string) => {
        killedFor = why;
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      };
      const timer = setTimeout(() => kill(`did not finish within ${this.opts.timeoutMs} ms and was killed`), this.opts.timeoutMs);
      const onAbort = () => kill('was cancelled and killed');
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      child.once('error', (err) => {
        done();
        reject(new Error(`${what} could not start: ${err.message}`, { cause: err }));
      });
      // 'close' waits for stderr to end too, which a daemon the hook left behind may hold open: give the
      // pipe a second after the hook itself exited, then stop reading.
      child.once('exit', () => setTimeout(() => child.stderr.destroy(), STDERR_GRACE_MS).unref());
      child.once('close', (code, sig) => {
        done();
        const tail = stderr.slice(-STDERR_KEEP).split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0).slice(-STDERR_LINES).join('\n');
        const said = tail ? `; its stderr ends with:\n${tail}` : '';
        if (killedFor) reject(new Error(`${what} ${killedFor}${said}`));
        else if (code !== 0) reject(new Error(`${what} failed (${code !== null ? `exit ${code}` : `signal ${sig}`})${said}`));
        else resolve();
      });
    });
  }
}
