// FileStorage.watch: notices when another process rewrites one key's file, as Redis's pub/sub does for
// RedisStorage. Values are replaced by rename (fs-atomic.ts), so the file's inode changes at every store
// and a watch on the file itself would go deaf after the first one: the folder is watched instead, and
// events are filtered by name. fs.watch is silent on some filesystems (NFS, some container mounts) and
// cannot watch a folder that does not exist yet, so a stat poll runs beside it: inotify answers in
// milliseconds, the poll within POLL_MS. A change is reported once, whichever path saw it first.
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/** The fallback's period; a few seconds, so a renewal from cron is served within 5 s even without inotify. */
export const POLL_MS = 2000;
/** A rename shows as several events; they are read as one. */
const SETTLE_MS = 20;

export class KeyWatch {
  private watcher: FSWatcher | undefined;
  private readonly poll: NodeJS.Timeout;
  private soon: NodeJS.Timeout | undefined;
  private signature: string | undefined;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly onChange: () => void,
    pollMs = POLL_MS,
  ) {
    this.attach();
    void this.read().then((sig) => (this.signature ??= sig));
    this.poll = setInterval(() => void this.look(), pollMs);
    this.poll.unref();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.poll);
    clearTimeout(this.soon);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private attach(): void {
    if (this.watcher || this.closed) return;
    const name = basename(this.path);
    try {
      const w = watch(dirname(this.path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename.toString() === name) this.lookSoon();
      });
      w.on('error', () => {
        w.close(); // the folder went away: the poll goes on and attaches again when it is back
        if (this.watcher === w) this.watcher = undefined;
      });
      this.watcher = w;
    } catch {
      // no folder yet, or no fs.watch here: the poll covers it
    }
  }

  private lookSoon(): void {
    if (this.soon || this.closed) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.look();
    }, SETTLE_MS);
    this.soon.unref();
  }

  private async look(): Promise<void> {
    this.attach();
    const sig = await this.read();
    if (this.closed || sig === this.signature) return;
    this.signature = sig;
    try {
      this.onChange();
    } catch {
      // the watcher's own failure; the poll must keep running for the others
    }
  }

  private async read(): Promise<string> {
    try {
      const s = await stat(this.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }
}
