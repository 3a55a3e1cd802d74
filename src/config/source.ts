// The config text as a YAML document that remembers where every key and value came from.
// JSON goes through the same parser (JSON is YAML 1.2 flow syntax), so it gets positions too.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { ConfigIssue, SourcePos } from './types.js';

/** A path into the config value: map keys and list indexes, as in `['sites', 0, 'hosts']`. */
export type Path = ReadonlyArray<string | number>;

/**
 * Where the values of a config came from: the YAML text's own positions (Source), or, for an nginx
 * file, the nginx positions the adapter recorded (nginx/adapt/object-source.ts), which spares
 * writing and re-reading YAML on every start and check.
 */
export interface ConfigSource {
  readonly file: string;
  /** Problems found while reading (syntax, duplicate keys); the pipeline reports them first. */
  readonly issues: ConfigIssue[];
  toValue(): unknown;
  pos(path: Path): SourcePos;
  keyPos(path: Path): SourcePos;
  posWithin(path: Path, needle: string): SourcePos;
}

export class Source implements ConfigSource {
  private readonly lines = new LineCounter();
  readonly doc: Document;
  /** Syntax errors, duplicate keys and YAML warnings (unresolved tags and the like). */
  readonly issues: ConfigIssue[] = [];

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false });
    for (const e of this.doc.errors) {
      const message = e.code === 'DUPLICATE_KEY' ? `duplicate key "${this.keyAt(e.pos[0])}"` : `syntax error: ${firstSentence(e.message)}`;
      this.issues.push({ pos: this.at(e.pos[0]), message, severity: 'error' });
    }
    visit(this.doc, {
      Alias: (_, alias) => {
        if (alias.resolve(this.doc) === undefined) {
          this.issues.push({ pos: this.at(alias.range?.[0] ?? 0), message: `unknown alias "*${alias.source}"`, severity: 'error' });
        }
      },
    });
    for (const w of this.doc.warnings) {
      this.issues.push({ pos: this.at(w.pos[0]), message: firstSentence(w.message), severity: 'warning' });
    }
  }

  /** The plain value; throws an Error (e.g. an unknown alias) that the caller reports at 1:1. */
  toValue(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 });
  }

  at(offset: number): SourcePos {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }

  /** Where the value at `path` starts; the nearest existing ancestor when it is missing. */
  pos(path: Path): SourcePos {
    return this.at(this.offset(path, false));
  }

  /**
   * issue 17: logs. Where `needle` is written in the value at `path` (a variable in a template), when
   * the value is written as it reads; else where the value starts.
   */
  posWithin(path: Path, needle: string): SourcePos {
    const start = this.offset(path, false);
    const end = this.text.indexOf('\n', start) === -1 ? this.text.length : this.text.indexOf('\n', start);
    const at = this.text.slice(start, end).indexOf(needle);
    return this.at(at === -1 ? start : start + at);
  }

  /** Where the key of the map entry at `path` starts (for unknown keys). */
  keyPos(path: Path): SourcePos {
    return this.at(this.offset(path, true));
  }

  private offset(path: Path, wantKey: boolean): number {
    let node: unknown = this.doc.contents;
    let best = rangeStart(node) ?? 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i] as string | number;
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
        if (!pair) return best;
        const keyStart = rangeStart(pair.key);
        if (i === path.length - 1 && wantKey && keyStart !== undefined) return keyStart;
        node = pair.value;
        // `key:` with no value: the key is the best place to point at.
        best = rangeStart(node) ?? keyStart ?? best;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        const start = rangeStart(node);
        if (start === undefined) return best;
        best = start;
      } else {
        return best;
      }
    }
    return best;
  }

  private keyAt(offset: number): string {
    let found = '';
    visit(this.doc, {
      Pair(_, pair) {
        if (rangeStart(pair.key) === offset) {
          found = keyText(pair.key);
          return visit.BREAK;
        }
        return undefined;
      },
    });
    return found;
  }
}

function rangeStart(node: unknown): number | undefined {
  if (node && typeof node === 'object' && 'range' in node) {
    const range = (node as Node).range;
    if (range) return range[0];
  }
  return undefined;
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

// yaml names JSON's {} and [] "flow map" and "flow sequence"; say it in the file's own terms.
const REWORDED: Array<[RegExp, string]> = [
  [/^Flow sequence in block collection must be .* end with a \]$/, '"[" is not closed with "]" (or the next line is not indented enough)'],
  [/^Flow map in block collection must be .* end with a \}$/, '"{" is not closed with "}" (or the next line is not indented enough)'],
  [/^Flow sequence must end with a \]$/, '"[" is not closed with "]"'],
  [/^Flow map must end with a \}$/, '"{" is not closed with "}"'],
];

/** yaml's messages end with "at line X, column Y" and a code frame; the position is ours to print. */
function firstSentence(message: string): string {
  const cut = message.search(/ at line \d+, column \d+|\n/);
  const text = cut === -1 ? message : message.slice(0, cut);
  return REWORDED.find(([re]) => re.test(text))?.[1] ?? text;
}
