// The nginx configuration reader's public face: the parser, its tree, the detector and the stock files.
export type { NginxArg, NginxDirective, NginxInclude } from './ast.js';
export { DEFAULT_MAX_BLOCK_DEPTH, DEFAULT_MAX_WORDS, parseNginx, parseNginxFile, type NginxParseOptions, type NginxParseResult } from './parse.js';
export { Tokenizer, type Statement, type StatementEnd } from './tokenize.js';
export { looksLikeNginx } from './detect.js';
export { BUILTIN_DIR, STOCK_DIR, STOCK_NAMES, builtinText, stockNameOf } from './stock.js';
export { DEFAULT_INCLUDE_LIMITS, type IncludeLimits } from './include.js';
