// The folder the processes of one pm2 cluster share for what they tell each other (merged metrics,
// rate-limit counters). pm2 cluster workers are Node cluster workers of pm2's own daemon, so they
// cannot use the cluster IPC channel to reach one another; a private folder in the temp dir can.
import cluster from 'node:cluster';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Shared only when clustered, or when a folder is given (GATEHOUSE_RUNTIME_DIR). */
export function runtimeDir(key: string, env = process.env): string | undefined {
  if (env.GATEHOUSE_RUNTIME_DIR) return env.GATEHOUSE_RUNTIME_DIR;
  if (!cluster.isWorker) return undefined;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return path.join(os.tmpdir(), `gatehouse-${uid}-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`);
}

/** Creates the folder; throws unless this user owns it and nobody else can write to it (it may sit in a shared /tmp). */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await fs.stat(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  if (st.uid !== uid || (st.mode & 0o022) !== 0) throw new Error(`runtime folder ${dir} is not private to this user`);
}

/** A peer file not rewritten (or touched) for this long belongs to a process that is gone or stuck. */
const PEER_STALE_MS = 5_000;
/** Files of dead processes are removed once this old. */
const PEER_REMOVE_MS = 60_000;

/** Replaces this process's file in the folder (temp file + rename: peers never read half of it; no fsync, it is runtime state). */
export async function writePeerFile(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await fs.writeFile(tmp, text, { mode: 0o600 });
  await fs.rename(tmp, file);
}

/**
 * The contents of the other processes' `<name><suffix>` files written in the last PEER_STALE_MS;
 * files of processes gone for PEER_REMOVE_MS are deleted on the way. A file renamed away or half-gone
 * between the listing and the read is skipped for this round.
 */
export async function readPeerFiles(dir: string, suffix: string, self: string, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const texts = await Promise.all(
    names
      .filter((n) => n.endsWith(suffix) && n !== `${self}${suffix}`)
      .map(async (n): Promise<string | undefined> => {
        const file = path.join(dir, n);
        try {
          const age = now - (await fs.stat(file)).mtimeMs;
          if (age > PEER_REMOVE_MS) await fs.rm(file, { force: true });
          return age > PEER_STALE_MS ? undefined : await fs.readFile(file, 'utf8');
        } catch {
          return undefined;
        }
      }),
  );
  return texts.filter((t): t is string => t !== undefined);
}
