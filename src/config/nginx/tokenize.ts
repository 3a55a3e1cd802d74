// The nginx tokenizer: a character-for-character port of ngx_conf_read_token (src/core/ngx_conf_file.c),
// so gatehouse splits words exactly where nginx does, including its surprises:
//   - `{` ends an unquoted word (`location /{`), except right after `$` (`${var}`); `}` ends nothing inside
//     a word, so an unquoted regex `^/x{8}$` is cut at its `{` just as nginx cuts it;
//   - `#` starts a comment only where a word could start (`a#b` is one word);
//   - after a closing quote only whitespace, `;`, `{` or `)` may follow (the `)` of `if (... "x")`);
//   - `\` makes the next character part of the word, and the word copy resolves \" \' \\ \t \r \n only;
//   - a word, comment or quoted string longer than NGX_CONF_BUFFER (4096 bytes) is refused.
// Only one thing differs on purpose: a UTF-8 byte order mark at the start is skipped (nginx would read
// it as part of the first directive's name).
import type { SourcePos } from '../types.js';
import type { NginxArg } from './ast.js';
import { nginxError } from './errors.js';

/** How a statement ended: the return codes of ngx_conf_read_token. */
export type StatementEnd = ';' | '{' | '}' | 'eof';

export interface Statement {
  words: NginxArg[];
  end: StatementEnd;
  /** Where the terminator is (for `}` and end of file, where the parser reports its errors). */
  endPos: SourcePos;
}

/** NGX_CONF_BUFFER: nginx reads the file through a buffer this big, so no word may be longer. */
export const NGX_CONF_BUFFER = 4096;

const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;

function isSpace(ch: number): boolean {
  return ch === SPACE || ch === TAB || ch === CR || ch === LF;
}

/** The UTF-8 length of the UTF-16 unit `ch` (a surrogate pair counts 4 on its high half). */
function utf8Bytes(ch: number): number {
  if (ch < 0x80) return 1;
  if (ch < 0x800) return 2;
  if (ch >= 0xd800 && ch <= 0xdbff) return 4;
  if (ch >= 0xdc00 && ch <= 0xdfff) return 0;
  return 3;
}

/** The word copy at the end of ngx_conf_read_token: only \" \' \\ \t \r \n are escapes. */
export function unescapeWord(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\' && i + 1 < raw.length) {
      const n = raw[i + 1];
      if (n === '"' || n === "'" || n === '\\') {
        out += n;
        i++;
        continue;
      }
      if (n === 't' || n === 'r' || n === 'n') {
        out += n === 't' ? '\t' : n === 'r' ? '\r' : '\n';
        i++;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** Words left to read in a whole configuration, shared by its files (nginx has no bound; its heap has). */
export interface WordBudget {
  left: number;
  limit: number;
}

/** Reads one file's text statement by statement, like repeated ngx_conf_read_token calls. */
export class Tokenizer {
  private readonly text: string;
  private i = 0;
  private line = 1;
  private lineStart = 0;
  /** Bytes consumed so far, for the NGX_CONF_BUFFER limit, which nginx counts in bytes. */
  private byte = 0;

  constructor(
    text: string,
    readonly file: string,
    private readonly budget: WordBudget = { left: Infinity, limit: Infinity },
  ) {
    this.text = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  private at(index: number, line = this.line, lineStart = this.lineStart): SourcePos {
    return { file: this.file, line, col: index - lineStart + 1 };
  }

  /** The next statement; throws a ConfigError with nginx's message at the offending character. */
  next(): Statement {
    const { text } = this;
    const n = text.length;
    const words: NginxArg[] = [];
    let needSpace = false;
    let lastSpace = true;
    let sharpComment = false;
    let variable = false;
    let quoted = false;
    let sQuoted = false;
    let dQuoted = false;
    // `start` is where the current word (or comment) began, as in nginx; the word's own position
    // includes its opening quote, `start` does not.
    let start = this.i;
    let startByte = this.byte;
    let startLine = this.line;
    let startLineStart = this.lineStart;
    let wordPos: SourcePos = this.at(this.i);
    let wordQuoted = false;

    for (;;) {
      if (this.i >= n) {
        if (words.length > 0 || !lastSpace) {
          throw nginxError(this.at(this.i), 'unexpected end of file, expecting ";" or "}"');
        }
        return { words, end: 'eof', endPos: this.at(this.i) };
      }

      if (this.byte - startByte >= NGX_CONF_BUFFER) {
        const pos = this.at(start, startLine, startLineStart);
        if (dQuoted || sQuoted) {
          throw nginxError(pos, `too long parameter, probably missing terminating "${dQuoted ? '"' : "'"}" character`);
        }
        const head = Buffer.from(text.slice(start, start + 10), 'utf8').subarray(0, 10).toString('utf8');
        throw nginxError(pos, `too long parameter "${head}..." started`);
      }

      const index = this.i;
      const ch = text.charCodeAt(index);
      this.i++;
      this.byte += utf8Bytes(ch);
      const lineOfCh = this.line;
      const lineStartOfCh = this.lineStart;

      if (ch === LF) {
        this.line++;
        this.lineStart = this.i;
        sharpComment = false;
      }

      if (sharpComment) continue;

      if (quoted) {
        quoted = false;
        continue;
      }

      if (needSpace) {
        if (isSpace(ch)) {
          lastSpace = true;
          needSpace = false;
          continue;
        }
        if (ch === 0x3b /* ; */) return { words, end: ';', endPos: this.at(index, lineOfCh, lineStartOfCh) };
        if (ch === 0x7b /* { */) return { words, end: '{', endPos: this.at(index, lineOfCh, lineStartOfCh) };
        if (ch === 0x29 /* ) */) {
          lastSpace = true;
          needSpace = false;
        } else {
          throw nginxError(this.at(index, lineOfCh, lineStartOfCh), `unexpected "${String.fromCodePoint(text.codePointAt(index) ?? ch)}"`);
        }
      }

      if (lastSpace) {
        start = index;
        startByte = this.byte - utf8Bytes(ch);
        startLine = lineOfCh;
        startLineStart = lineStartOfCh;

        if (isSpace(ch)) continue;

        const pos = this.at(index, lineOfCh, lineStartOfCh);
        switch (ch) {
          case 0x3b: // ;
          case 0x7b: // {
            if (words.length === 0) throw nginxError(pos, `unexpected "${ch === 0x3b ? ';' : '{'}"`);
            return { words, end: ch === 0x3b ? ';' : '{', endPos: pos };
          case 0x7d: // }
            if (words.length !== 0) throw nginxError(pos, 'unexpected "}"');
            return { words, end: '}', endPos: pos };
          case 0x23: // #
            sharpComment = true;
            continue;
          case 0x5c: // \
            quoted = true;
            break;
          case 0x22: // "
            start++;
            startByte++;
            dQuoted = true;
            break;
          case 0x27: // '
            start++;
            startByte++;
            sQuoted = true;
            break;
          case 0x24: // $
            variable = true;
            break;
        }
        lastSpace = false;
        wordPos = pos;
        wordQuoted = dQuoted || sQuoted;
        continue;
      }

      // Inside a word.
      if (ch === 0x7b && variable) continue;
      variable = false;
      if (ch === 0x5c) {
        quoted = true;
        continue;
      }
      if (ch === 0x24) {
        variable = true;
        continue;
      }

      let found = false;
      if (dQuoted) {
        if (ch === 0x22) {
          dQuoted = false;
          needSpace = true;
          found = true;
        }
      } else if (sQuoted) {
        if (ch === 0x27) {
          sQuoted = false;
          needSpace = true;
          found = true;
        }
      } else if (isSpace(ch) || ch === 0x3b || ch === 0x7b) {
        lastSpace = true;
        found = true;
      }

      if (found) {
        if (--this.budget.left < 0) throw nginxError(wordPos, `more than ${this.budget.limit} words in the configuration`);
        words.push({ text: unescapeWord(text.slice(start, index)), quoted: wordQuoted, pos: wordPos });
        if (ch === 0x3b) return { words, end: ';', endPos: this.at(index, lineOfCh, lineStartOfCh) };
        if (ch === 0x7b) return { words, end: '{', endPos: this.at(index, lineOfCh, lineStartOfCh) };
      }
    }
  }
}
