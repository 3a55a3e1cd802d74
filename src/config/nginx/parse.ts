// The nginx parser: statements from the tokenizer into a tree, as ngx_conf_parse builds its contexts,
// with `include` expanded in place (ngx_conf_include). Like nginx, every file is parsed on its own
// (`parse_file`): a block cannot open in one file and close in another, a `}` with no block open in
// its file is "unexpected", and the first error ends the parse.
import type { ConfigIssue, SourcePos } from '../types.js';
import type { NginxDirective, NginxInclude } from './ast.js';
import { nginxError } from './errors.js';
import { IncludeReader, type IncludeLimits } from './include.js';
import { Tokenizer, type WordBudget } from './tokenize.js';

export interface NginxParseOptions extends Partial<IncludeLimits> {
  /**
   * nginx's conf prefix, against which relative include paths resolve (ngx_conf_full_name). Default:
   * the main file's directory, as `nginx -c FILE` sets it in ngx_process_options.
   */
  prefix?: string;
  /** Where a missing stock include (fastcgi_params, mime.types, ...) is looked for first; default /etc/nginx. */
  stockDir?: string;
  /** false: `include` directives stay in the tree as they are and nothing is read. Default true. */
  expandIncludes?: boolean;
  /**
   * 'error' (nginx's behaviour, the default): a missing plain include file is an error at the include.
   * 'keep': the `include` directive stays in the tree unexpanded and a warning says so.
   */
  missingIncludes?: 'error' | 'keep';
  /** Blocks nested deeper than this are refused (nginx has no limit; its C stack has). Default 100. */
  maxBlockDepth?: number;
  /**
   * Words (names and arguments) in all files together: the bound on the tree's size in memory, since a
   * file of `a;` makes a directive of every two bytes. Default 250 000 (real configs: a few thousand).
   */
  maxWords?: number;
}

export interface NginxParseResult {
  directives: NginxDirective[];
  /** Every include the parser expanded, in reading order. */
  includes: NginxInclude[];
  /** Every file read: the main file first, then includes in reading order (what a reload re-reads). */
  files: string[];
  warnings: ConfigIssue[];
}

export const DEFAULT_MAX_BLOCK_DEPTH = 100;

/**
 * Blocks whose content nginx hands to a custom handler (cf->handler in ngx_conf_parse) instead of
 * looking its directives up: their lines are data (`text/html html;`, `~^/old /new;`), and a `{`
 * among them is "unexpected".
 */
const DATA_BLOCKS = new Set(['types', 'map', 'geo', 'split_clients', 'charset_map']);
export const DEFAULT_MAX_WORDS = 250_000;

/** push(...items) without spreading: a file of 200 000 directives would overflow the call stack. */
function append<T>(to: T[], items: readonly T[]): void {
  for (const item of items) to.push(item);
}

class Parser {
  readonly includes: NginxInclude[] = [];
  readonly warnings: ConfigIssue[] = [];
  private readonly maxBlockDepth: number;
  private readonly expand: boolean;
  private readonly budget: WordBudget;

  constructor(
    private readonly reader: IncludeReader,
    private readonly options: NginxParseOptions,
  ) {
    this.maxBlockDepth = options.maxBlockDepth ?? DEFAULT_MAX_BLOCK_DEPTH;
    this.expand = options.expandIncludes ?? true;
    const limit = options.maxWords ?? DEFAULT_MAX_WORDS;
    this.budget = { left: limit, limit };
  }

  /** One file, as ngx_conf_parse(cf, filename) with type parse_file. */
  parseFile(text: string, file: string, inData: boolean): NginxDirective[] {
    return this.parseBlock(new Tokenizer(text, file, this.budget), 0, inData);
  }

  /**
   * The statements up to the matching `}` (depth > 0) or the end of the file (depth 0); `inData` inside
   * a DATA_BLOCKS block, where an include still works (the handlers of types, map and geo call
   * ngx_conf_include themselves) and its files are data too.
   */
  private parseBlock(tokens: Tokenizer, depth: number, inData: boolean): NginxDirective[] {
    const out: NginxDirective[] = [];
    for (;;) {
      const st = tokens.next();
      if (st.end === '}') {
        if (depth === 0) throw nginxError(st.endPos, 'unexpected "}"');
        return out;
      }
      if (st.end === 'eof') {
        if (depth > 0) throw nginxError(st.endPos, 'unexpected end of file, expecting "}"');
        return out;
      }
      const [first, ...args] = st.words as [(typeof st.words)[0], ...typeof st.words];
      const directive: NginxDirective = { name: first.text, args, pos: first.pos };
      const isInclude = directive.name === 'include' && this.expand;
      if (st.end === '{') {
        if (inData) throw nginxError(st.endPos, 'unexpected "{"');
        // nginx runs include's checks at its `{`, before anything inside is read.
        if (isInclude) throw nginxError(directive.pos, 'directive "include" is not terminated by ";"');
        if (depth + 1 > this.maxBlockDepth) throw nginxError(st.endPos, `blocks nested more than ${this.maxBlockDepth} deep`);
        directive.block = this.parseBlock(tokens, depth + 1, DATA_BLOCKS.has(directive.name));
      }
      if (isInclude) append(out, this.include(directive, inData));
      else out.push(directive);
    }
  }

  /** ngx_conf_include: the directive's checks (ngx_conf_handler), then every file it names, parsed in place. */
  private include(directive: NginxDirective, inData: boolean): NginxDirective[] {
    const arg = directive.args[0];
    if (directive.args.length !== 1 || !arg) throw nginxError(directive.pos, 'invalid number of arguments in "include" directive');
    const found = this.reader.resolve(arg.text);
    if (found.missing !== undefined) {
      if (this.options.missingIncludes !== 'keep') throw nginxError(directive.pos, found.missing);
      this.warnings.push({ pos: directive.pos, message: `${found.missing}; the include is kept unexpanded`, severity: 'warning' });
      return [directive];
    }
    const record: NginxInclude = { pos: directive.pos, pattern: arg.text, resolved: found.resolved, files: [] };
    this.includes.push(record);
    const out: NginxDirective[] = [];
    for (const file of found.files) {
      const { text, label } = this.reader.open(file, directive.pos);
      record.files.push(label);
      try {
        append(out, this.parseFile(text, label, inData));
      } finally {
        this.reader.leave();
      }
    }
    return out;
  }
}

/** Parses nginx configuration text; `file` names it in positions and anchors the conf prefix. */
export function parseNginx(text: string, file: string, options: NginxParseOptions = {}): NginxParseResult {
  const reader = new IncludeReader(file, options);
  reader.enterMain(file, text);
  const parser = new Parser(reader, options);
  const directives = parser.parseFile(text, file, false);
  return { directives, includes: parser.includes, files: reader.files, warnings: parser.warnings };
}

/** Reads and parses an nginx configuration file (ngx_conf_parse of `nginx -c FILE`). */
export function parseNginxFile(file: string, options: NginxParseOptions = {}): NginxParseResult {
  const pos: SourcePos = { file, line: 1, col: 1 };
  const text = IncludeReader.readMain(file, pos, options);
  return parseNginx(text, file, options);
}
