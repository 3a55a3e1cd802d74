// The shape of a parsed nginx configuration: what the tokenizer and the parser hand to the adapter.
// It keeps nginx's own model (ngx_conf_t's `args` array plus an optional block) and adds where
// every piece came from, so each later message can point at FILE:LINE:COL.
import type { SourcePos } from '../types.js';

/** One argument word as ngx_conf_read_token delivers it: escapes resolved, quotes removed. */
export interface NginxArg {
  text: string;
  /** Written in single or double quotes (`"^/x{8}$"`), which nginx only uses to delimit the word. */
  quoted: boolean;
  /** Where the word starts; for a quoted word, its opening quote. */
  pos: SourcePos;
}

/** A directive: `name args... ;` or `name args... { block }`. */
export interface NginxDirective {
  name: string;
  args: NginxArg[];
  /** Where the directive's name starts. */
  pos: SourcePos;
  /** Present exactly when the directive was terminated by `{` (possibly empty). */
  block?: NginxDirective[];
}

/** One `include` the parser expanded: which files it read, for messages and for reload. */
export interface NginxInclude {
  pos: SourcePos;
  pattern: string;
  /** The absolute pattern after nginx's ngx_conf_full_name (conf prefix + relative name). */
  resolved: string;
  /** The files read, in order; a built-in stock file appears as its BUILTIN_DIR name. */
  files: string[];
}
