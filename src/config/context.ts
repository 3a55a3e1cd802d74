// What every normalising step shares: where to report a problem, which parts of the value the
// schema already rejected (so semantic checks skip them instead of tripping over bad types), and
// the folder that relative paths are resolved against.
import path from 'node:path';
import type { ConfigSource, Path } from './source.js';
import type { ConfigIssue, SourcePos } from './types.js';

/** Turns a path as a route sees it into where the value is written (config/inherit.ts). */
export type PathMap = (at: Path) => Path;

export class Ctx {
  readonly dir: string;
  /** issue 17: logs. The log format names `log.format` and `accessLog` may use, once `log.formats` is read. */
  logFormats?: Set<string>;
  /** issue 18: `defaults: nginx` — nginx's `server_name _` is read as a name that matches nothing. */
  nginxNames = false;

  constructor(
    readonly source: ConfigSource,
    private readonly rejected: Path[],
    private readonly map: PathMap = (at) => at,
    readonly issues: ConfigIssue[] = [],
  ) {
    this.dir = path.dirname(source.file);
  }

  /**
   * The same context seen from a route that inherits values (config/inherit.ts): `map` sends a
   * path under the route to the path where its parent wrote the value, so that checks, positions
   * and errors of an inherited value are those of the line it is written on.
   */
  derive(map: PathMap): Ctx {
    const derived = new Ctx(this.source, this.rejected, (at) => this.map(map(at)), this.issues);
    // issue 17: logs. A route's accessLog names the formats of the whole config.
    if (this.logFormats) derived.logFormats = this.logFormats;
    derived.nginxNames = this.nginxNames;
    return derived;
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
    const real = this.map(at);
    return where === 'key' ? this.source.keyPos(real) : this.source.pos(real);
  }

  get hasErrors(): boolean {
    return this.issues.some((i) => i.severity === 'error');
  }

  /**
   * True when the schema found nothing wrong at, above or below `at`: only then may a semantic
   * check trust the value's shape. Semantic errors are reported by each check itself.
   */
  clean(at: Path): boolean {
    const real = this.map(at);
    return !this.rejected.some((bad) => isPrefix(bad, real) || isPrefix(real, bad));
  }

  /**
   * True when the value at `at` has the shape the schema wants (nothing rejected at or above it);
   * for containers, whose items are then checked one by one with `clean`/`shaped`.
   */
  shaped(at: Path): boolean {
    const real = this.map(at);
    return !this.rejected.some((bad) => isPrefix(bad, real));
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
