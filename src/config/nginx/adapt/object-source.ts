// The translated config handed to the native pipeline as it is, with the nginx positions the
// adapter recorded, instead of as YAML text to be parsed again: `check` and a start on a .conf skip
// writing and re-reading the YAML (about a tenth of `check`, docs/performance.md "Start-up").
// `gatehouse adapt` still writes the YAML; test/integration/nginx-adapt-roundtrip.test.ts proves that
// both give the same Config.
import type { ConfigSource, Path } from '../../source.js';
import type { ConfigIssue, SourcePos } from '../../types.js';
import type { AdaptCtx } from './context.js';

export class ObjectSource implements ConfigSource {
  readonly issues: ConfigIssue[] = [];
  private readonly origins = new Map<string, SourcePos>();

  constructor(
    readonly file: string,
    private readonly value: unknown,
    origins: AdaptCtx['origins'],
  ) {
    // The first record of a path wins: it is the directive that created the value.
    for (const { path, pos } of origins) {
      const key = pathKey(path);
      if (!this.origins.has(key)) this.origins.set(key, pos);
    }
  }

  /** A copy without undefined members, as the YAML the adapter prints would read back. */
  toValue(): unknown {
    return withoutUndefined(this.value);
  }

  /** The nginx position of the value at `path`, else of the nearest enclosing value that has one. */
  pos(path: Path): SourcePos {
    for (let n = path.length; n >= 0; n--) {
      const found = this.origins.get(pathKey(path.slice(0, n)));
      if (found) return found;
    }
    return { file: this.file, line: 1, col: 1 };
  }

  keyPos(path: Path): SourcePos {
    return this.pos(path);
  }

  posWithin(path: Path): SourcePos {
    return this.pos(path);
  }
}

function pathKey(path: Path): string {
  return path.join('\0');
}

function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = withoutUndefined(v);
  return out;
}
