// pm2 from node_modules with its own PM2_HOME in a temp dir: a private daemon that never touches a
// global pm2. Apps come from the repository's ecosystem.config.js, as users start them.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, tempDir } from './gatehouse.js';

const PM2_BIN = path.join(REPO, 'node_modules/pm2/bin/pm2');
export const ECOSYSTEM = path.join(REPO, 'ecosystem.config.js');

export interface Pm2Process {
  name: string;
  /** pm2's id (pm_id), which also names the log files: NAME-out-ID.log. */
  id: number;
  pid: number;
  status: string;
  restarts: number;
  exitCode: number | undefined;
}

export interface Pm2 {
  home: string;
  /** Runs `pm2 ARGS` (cwd: the repository) and resolves with its output; rejects on a non-zero exit. */
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<string>;
  list(): Promise<Pm2Process[]>;
  /** Everything the process with pm2 id `id` of app `name` wrote to stdout and stderr so far. */
  logs(name: string, id: number): string;
  /** `pm2 kill`, then SIGKILL the daemon by its pid if it is still there. */
  kill(): Promise<void>;
}

export function startPm2(env: NodeJS.ProcessEnv = {}): Pm2 {
  const home = tempDir('gh-pm2-');
  const baseEnv = { ...process.env, ...env, PM2_HOME: home };
  const run = (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(process.execPath, [PM2_BIN, ...args], { cwd: REPO, env: { ...baseEnv, ...extra }, timeout: 120_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`pm2 ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`));
        else resolve(stdout + stderr);
      });
    });
  const readLog = (file: string): string => {
    try {
      return fs.readFileSync(path.join(home, 'logs', file), 'utf8');
    } catch {
      return '';
    }
  };
  return {
    home,
    run,
    async list() {
      const raw = await run(['jlist']);
      // jlist prints JSON, sometimes after daemon notices: take the array.
      const procs = JSON.parse(raw.slice(raw.indexOf('['), raw.lastIndexOf(']') + 1)) as Array<{
        name: string;
        pm_id: number;
        pid: number;
        pm2_env: { status: string; restart_time: number; exit_code?: number };
      }>;
      return procs.map((p) => ({ name: p.name, id: p.pm_id, pid: p.pid, status: p.pm2_env.status, restarts: p.pm2_env.restart_time, exitCode: p.pm2_env.exit_code }));
    },
    logs: (name, id) => readLog(`${name}-out-${id}.log`) + readLog(`${name}-error-${id}.log`),
    async kill() {
      const pidFile = path.join(home, 'pm2.pid');
      const daemon = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : undefined;
      await run(['kill']).catch(() => undefined);
      if (daemon) {
        try {
          process.kill(daemon, 'SIGKILL');
        } catch {
          /* gone, as it should be */
        }
      }
    },
  };
}

/** Polls `pm2 jlist` until `check` accepts the list. */
export async function waitForList(pm2: Pm2, what: string, check: (list: Pm2Process[]) => boolean, timeoutMs = 30_000): Promise<Pm2Process[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await pm2.list();
    if (check(list)) return list;
    if (Date.now() > deadline) throw new Error(`pm2: timed out waiting for ${what}: ${JSON.stringify(list)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
