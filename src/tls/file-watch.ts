// Notices when certificate files change, for manual `{ cert, key }` sites. fs.watch alone is not enough:
// it watches inodes, so it misses files replaced by rename or through a symlink swap (Kubernetes secrets,
// certbot's `live/` links), and it is unreliable on network filesystems. So the folders are watched for
// quick notice and the files' stat (following symlinks) is polled as the fallback. Changes are debounced
// because a certificate and its key are written one after the other.
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export interface FileWatchOptions {
  /** Quiet time after the last change before `onChange` runs; default 500 ms. */
  debounceMs?: number;
  /** Stat poll interval; default 5 s. */
  pollMs?: number;
}

export class FileWatch {
  private readonly watchers: FSWatcher[] = [];
  private readonly poll: NodeJS.Timeout;
  private debounce: NodeJS.Timeout | undefined;
  private signatures = new Map<string, string>();
  private closed = false;

  private constructor(
    private readonly paths: readonly string[],
    private readonly onChange: () => void,
    private readonly debounceMs: number,
    pollMs: number,
  ) {
    const names = new Set(paths.map((p) => basename(p)));
    for (const dir of new Set(paths.map((p) => dirname(p)))) {
      try {
        const w = watch(dir, { persistent: false }, (_event, filename) => {
          if (filename === null || names.has(filename.toString())) this.schedule();
        });
        w.on('error', () => w.close()); // folder removed or unwatchable: the poll still runs
        this.watchers.push(w);
      } catch {
        // fs.watch unsupported here; polling covers it
      }
    }
    this.poll = setInterval(() => void this.checkPoll(), pollMs);
    this.poll.unref();
  }

  static async start(paths: readonly string[], onChange: () => void, options: FileWatchOptions = {}): Promise<FileWatch> {
    const w = new FileWatch(paths, onChange, options.debounceMs ?? 500, options.pollMs ?? 5000);
    w.signatures = await w.snapshot();
    return w;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.poll);
    clearTimeout(this.debounce);
    for (const w of this.watchers) w.close();
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.fire(), this.debounceMs);
    this.debounce.unref();
  }

  private async fire(): Promise<void> {
    // Refresh first, so the poll does not report the same change again.
    this.signatures = await this.snapshot();
    if (!this.closed) this.onChange();
  }

  private async checkPoll(): Promise<void> {
    const now = await this.snapshot();
    for (const [path, sig] of now) {
      if (this.signatures.get(path) !== sig) return this.schedule();
    }
  }

  private async snapshot(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    await Promise.all(
      this.paths.map(async (p) => {
        try {
          const s = await stat(p);
          out.set(p, `${s.ino}:${s.size}:${s.mtimeMs}`);
        } catch {
          out.set(p, 'missing');
        }
      }),
    );
    return out;
  }
}
