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
