// The nginx parser: statements from the tokenizer into a tree, as ngx_conf_parse builds its contexts,
// with `include` expanded in place (ngx_conf_include). Like nginx, every file is parsed on its own
// (`parse_file`): a block cannot open in one file and close in another, a `}` with no block open in
// its file is "unexpected", and the first error ends the parse.
import type { ConfigIssue, SourcePos } from '../types.js';
import type { NginxDirective, NginxInclude } from './ast.js';
import { nginxError } from './errors.js';
import { IncludeReader, type IncludeLimits } from './include.js';
import { Tokenizer } from './tokenize.js';

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

class Parser {
  readonly includes: NginxInclude[] = [];
  readonly warnings: ConfigIssue[] = [];
  private readonly maxBlockDepth: number;
  private readonly expand: boolean;

  constructor(
    private readonly reader: IncludeReader,
    private readonly options: NginxParseOptions,
  ) {
    this.maxBlockDepth = options.maxBlockDepth ?? DEFAULT_MAX_BLOCK_DEPTH;
    this.expand = options.expandIncludes ?? true;
  }

  /** One file, as ngx_conf_parse(cf, filename) with type parse_file. */
  parseFile(text: string, file: string): NginxDirective[] {
    return this.parseBlock(new Tokenizer(text, file), 0);
  }

  /** The statements up to the matching `}` (depth > 0) or the end of the file (depth 0). */
  private parseBlock(tokens: Tokenizer, depth: number): NginxDirective[] {
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
      if (st.end === '{') {
        if (depth + 1 > this.maxBlockDepth) throw nginxError(st.endPos, `blocks nested more than ${this.maxBlockDepth} deep`);
        directive.block = this.parseBlock(tokens, depth + 1);
      }
      if (directive.name === 'include' && this.expand) out.push(...this.include(directive, st.end === '{'));
      else out.push(directive);
    }
  }

  /** ngx_conf_include: the directive's checks (ngx_conf_handler), then every file it names, parsed in place. */
  private include(directive: NginxDirective, hasBlock: boolean): NginxDirective[] {
    if (hasBlock) throw nginxError(directive.pos, 'directive "include" is not terminated by ";"');
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
        out.push(...this.parseFile(text, label));
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
  const directives = parser.parseFile(text, file);
  return { directives, includes: parser.includes, files: reader.files, warnings: parser.warnings };
}

/** Reads and parses an nginx configuration file (ngx_conf_parse of `nginx -c FILE`). */
export function parseNginxFile(file: string, options: NginxParseOptions = {}): NginxParseResult {
  const pos: SourcePos = { file, line: 1, col: 1 };
  const text = IncludeReader.readMain(file, pos, options);
  return parseNginx(text, file, options);
}
