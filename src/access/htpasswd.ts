// An htpasswd file while gatehouse runs. nginx opens and reads auth_basic_user_file on every
// request; here it is read once and read again when its identity (device, inode, size, mtime)
// changes, which a stat at most once a second finds (concurrent requests share one stat; a stat on
// every request cost a thread-pool round trip each, docs/request-model.md "Access control"). So an edited,
// replaced (`htpasswd` writes a new file and renames it) or removed file counts within a second.
import { readFile, stat } from 'node:fs/promises';
import { parseHtpasswd, type HtpasswdEntry } from '../config/htpasswd-lines.js';
import type { Logger } from '../log/types.js';

export type Lookup =
  /** The file as read: `identity` changes whenever its content may have. */
  | { readonly ok: true; readonly identity: string; readonly entry: HtpasswdEntry | undefined; readonly first: HtpasswdEntry | undefined }
  /** nginx: a missing file is 403 (logged as an error), any other failure 500 (logged as critical). */
  | { readonly ok: false; readonly status: 403 | 500 };

interface Loaded {
  identity: string;
  entries: Map<string, HtpasswdEntry>;
  first: HtpasswdEntry | undefined;
}

/** Larger than any real user file; a bigger one is refused rather than read into memory on a request path. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** How long a stat of the file is trusted: a change counts within this. */
export const HTPASSWD_STAT_INTERVAL_MS = 1000;

export class HtpasswdFile {
  private loaded: Loaded | undefined;
  private pending: Promise<Loaded | NodeJS.ErrnoException> | undefined;
  /** performance.now() of the last stat that found `loaded` current. */
  private checkedAt = -Infinity;

  constructor(
    readonly path: string,
    private readonly logger: Logger,
  ) {}

  /** The line of `user` (a latin1 string of its bytes), reading the file again if it changed. */
  async lookup(user: string): Promise<Lookup> {
    const fresh = this.loaded;
    if (fresh && performance.now() - this.checkedAt < HTPASSWD_STAT_INTERVAL_MS) {
      return { ok: true, identity: fresh.identity, entry: fresh.entries.get(user), first: fresh.first };
    }
    this.pending ??= this.refresh().finally(() => {
      this.pending = undefined;
    });
    const state = await this.pending;
    if (state instanceof Error) {
      const missing = state.code === 'ENOENT';
      const message = `open() "${this.path}" failed (${state.code ?? state.message})`;
      if (missing) this.logger.error(message);
      else this.logger.error(`${message}: answering 500`);
      return { ok: false, status: missing ? 403 : 500 };
    }
    return { ok: true, identity: state.identity, entry: state.entries.get(user), first: state.first };
  }

  private async refresh(): Promise<Loaded | NodeJS.ErrnoException> {
    try {
      const st = await stat(this.path);
      this.checkedAt = performance.now();
      const identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
      if (this.loaded?.identity === identity) return this.loaded;
      if (!st.isFile()) return Object.assign(new Error('not a regular file'), { code: 'EISDIR' }) as NodeJS.ErrnoException;
      if (st.size > MAX_FILE_BYTES) return Object.assign(new Error('file too large'), { code: 'EFBIG' }) as NodeJS.ErrnoException;
      const text = await readFile(this.path, 'latin1');
      const parsed = parseHtpasswd(text);
      for (const p of parsed.problems) if (p.severity === 'error') this.logger.error(`${this.path}:${p.line}: ${p.message}`);
      const first = [...parsed.entries.values()].find((e) => e.scheme !== undefined);
      this.loaded = { identity, entries: parsed.entries, first };
      return this.loaded;
    } catch (err) {
      this.loaded = undefined;
      return err as NodeJS.ErrnoException;
    }
  }
}
