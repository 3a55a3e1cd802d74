// What every normalising step shares: where to report a problem, which parts of the value the
// schema already rejected (so semantic checks skip them instead of tripping over bad types), and
// the folder that relative paths are resolved against.
import path from 'node:path';
import type { Path, Source } from './source.js';
import type { ConfigIssue, SourcePos } from './types.js';

export class Ctx {
  readonly issues: ConfigIssue[] = [];
  readonly dir: string;
  /** issue 17: logs. The log format names `log.format` and `accessLog` may use, once `log.formats` is read. */
  logFormats?: Set<string>;

  constructor(
    readonly source: Source,
    private readonly rejected: Path[],
  ) {
    this.dir = path.dirname(source.file);
  }

  get file(): string {
    return this.source.file;
  }

  error(at: Path, message: string, where: 'value' | 'key' = 'value'): void {
    this.issues.push({ pos: this.pos(at, where), message, severity: 'error' });
  }

  warn(at: Path, message: string, where: 'value' | 'key' = 'value'): void {
    this.issues.push({ pos: this.pos(at, where), message, severity: 'warning' });
  }

  pos(at: Path, where: 'value' | 'key' = 'value'): SourcePos {
    return where === 'key' ? this.source.keyPos(at) : this.source.pos(at);
  }

  get hasErrors(): boolean {
    return this.issues.some((i) => i.severity === 'error');
  }

  /**
   * True when the schema found nothing wrong at, above or below `at`: only then may a semantic
   * check trust the value's shape. Semantic errors are reported by each check itself.
   */
  clean(at: Path): boolean {
    return !this.rejected.some((bad) => isPrefix(bad, at) || isPrefix(at, bad));
  }

  /**
   * True when the value at `at` has the shape the schema wants (nothing rejected at or above it);
   * for containers, whose items are then checked one by one with `clean`/`shaped`.
   */
  shaped(at: Path): boolean {
    return !this.rejected.some((bad) => isPrefix(bad, at));
  }

  /** Runs `fn`; an Error it throws becomes an issue at `at` and the result is undefined. */
  attempt<T>(at: Path, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.error(at, (err as Error).message);
      return undefined;
    }
  }

  /** Relative paths in the config are relative to the config file, not to the working directory. */
  resolve(p: string): string {
    return path.resolve(this.dir, p);
  }
}

function isPrefix(prefix: Path, full: Path): boolean {
  if (prefix.length > full.length) return false;
  return prefix.every((seg, i) => String(seg) === String(full[i]));
}
