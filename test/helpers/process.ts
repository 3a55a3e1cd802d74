// Child processes for tests: started with spawn (so we hold the real pid), stopped by that pid,
// always awaited so no zombie or orphan outlives a test file.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Peer {
  readonly proc: ChildProcess;
  readonly pid: number;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` to the pid and waits for exit; SIGKILL after `graceMs`. Returns the exit code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<Peer>();

export function startPeer(command: string, args: string[], options: SpawnOptions = {}): Peer {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  if (proc.pid === undefined) throw new Error(`could not start ${command}`);
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
    for (const w of waiters) w();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      // Set before waking the waiters, so a waiter sees the exit and rejects at once.
      done = true;
      live.delete(peer);
      for (const w of waiters) w();
      resolve({ code, signal });
    });
  });
  const peer: Peer = {
    proc,
    pid: proc.pid,
    exited,
    output: () => out,
    waitForOutput(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            cleanup();
            resolve(m);
          } else if (done) {
            cleanup();
            reject(new Error(`${command} exited before printing ${pattern}:\n${out.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${command} did not print ${pattern} within ${timeoutMs} ms:\n${out.slice(-4000)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (!done) {
        try {
          process.kill(peer.pid, signal);
        } catch {
          /* already gone */
        }
        const timer = setTimeout(() => {
          try {
            process.kill(peer.pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }, graceMs);
        await exited;
        clearTimeout(timer);
      }
      return (await exited).code;
    },
  };
  live.add(peer);
  return peer;
}

/** Stops every peer still running (for an `after` hook of last resort). */
export async function stopAllPeers(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop('SIGKILL', 1000)));
}
