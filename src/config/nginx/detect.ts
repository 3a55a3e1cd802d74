// Telling nginx syntax from YAML/JSON by content, for the files whose name says nothing: Debian's
// sites-available/default, `*.vhost`, a config with no extension. nginx syntax is a sequence of
// `name args... ;` or `name args... {`, every name a bare identifier; YAML's `key:` and JSON's `{`
// never are (the tokenizer reads `listen: {` as a directive named "listen:", and `{` alone as an error).
import { Tokenizer } from './tokenize.js';

const DIRECTIVE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** How many top-level directives must look right before the answer is yes. */
const ENOUGH = 3;
/** How much of a file is read at most to decide (a whole nginx.conf is one `http` block). */
const MAX_STATEMENTS = 500;
const MAX_WORDS = 20_000;

export function looksLikeNginx(text: string): boolean {
  const tokens = new Tokenizer(text, '', { left: MAX_WORDS, limit: MAX_WORDS });
  let depth = 0;
  let seen = 0;
  try {
    for (let n = 0; n < MAX_STATEMENTS; n++) {
      const st = tokens.next();
      if (st.end === 'eof') return seen > 0;
      if (st.end === '}') {
        depth--;
        continue;
      }
      // Inside blocks the first word is often data (`types`, `map`): judge only the top level.
      if (depth === 0) {
        const name = st.words[0];
        if (!name || name.quoted || !DIRECTIVE_NAME.test(name.text)) return false;
        if (++seen >= ENOUGH) return true;
      }
      if (st.end === '{') depth++;
    }
    return seen > 0;
  } catch {
    // A broken nginx file is still nginx: its syntax error is the useful answer.
    return seen > 0;
  }
}
