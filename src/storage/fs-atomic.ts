// Crash-safe file replacement: a reader (or the next process after a crash or power loss) sees the old
// content or the new one, never a mix. The new bytes go to a temporary file in the same folder (rename is
// only atomic within one filesystem), are fsynced, renamed over the target, and then the folder is fsynced
// so the rename itself is durable.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Temporary files start with a dot; FileStorage never accepts such a segment as a key, so never lists one. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

export async function writeFileAtomic(path: string, data: Uint8Array | string, mode: number): Promise<void> {
  const tmp = tempPathFor(path);
  // Created with its final mode, so private material is never readable by others, not even briefly.
  const fh = await open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, mode);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(path));
}

/** Makes renames, creations and unlinks in `dir` durable. Not every platform can fsync a folder. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, constants.O_RDONLY);
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await fh?.close();
  }
}
