// Which includes are nginx's stock files, and their built-in text for when they are not on disk.
// An include is read from disk whenever the file is there; only a missing file whose name ends in a
// stock name (`fastcgi_params`, `/etc/nginx/mime.types`, `/path/to/your/mysite/uwsgi_params`,
// `snippets/fastcgi-php.conf`) falls back to STOCK_DIR's copy, and then to the facts of stock-data.ts.
import {
  FASTCGI_CONF,
  FASTCGI_PARAMS,
  FASTCGI_PHP_SNIPPET,
  MIME_TYPES,
  PROXY_PARAMS,
  SCGI_PARAMS,
  UWSGI_PARAMS,
  type Param,
} from './stock-data.js';

/** Where Debian (and nginx.org's packages) keep the stock files. */
export const STOCK_DIR = '/etc/nginx';

/** The file name given to built-in text in positions and messages: `<built-in>/fastcgi_params:3:1`. */
export const BUILTIN_DIR = '<built-in>';

const params = (directive: string, rows: readonly Param[]): string[][] => rows.map((row) => [directive, ...row]);

/** Each stock file as directives, name first (mime.types is one `types` block). */
const STOCK: ReadonlyMap<string, () => string> = new Map([
  ['mime.types', () => `types {\n${MIME_TYPES.map((row) => `    ${row.map(word).join(' ')};\n`).join('')}}\n`],
  ['fastcgi_params', () => render(params('fastcgi_param', FASTCGI_PARAMS))],
  ['fastcgi.conf', () => render(params('fastcgi_param', FASTCGI_CONF))],
  ['uwsgi_params', () => render(params('uwsgi_param', UWSGI_PARAMS))],
  ['scgi_params', () => render(params('scgi_param', SCGI_PARAMS))],
  ['proxy_params', () => render(params('proxy_set_header', PROXY_PARAMS))],
  ['snippets/fastcgi-php.conf', () => render(FASTCGI_PHP_SNIPPET)],
]);

export const STOCK_NAMES: readonly string[] = [...STOCK.keys()];

/** A word as nginx would read it back: bare when the tokenizer leaves it alone, else double-quoted. */
export function word(text: string): string {
  const bare = /^[^\s;{}"'#\\]/.test(text) && !/[\s;{]/.test(text) && !/\\(["'\\tnr]|$)/.test(text);
  return bare ? text : `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function render(directives: ReadonlyArray<readonly string[]>): string {
  return directives.map((d) => `${d.map(word).join(' ')};\n`).join('');
}

/** The stock name that `file` (an absolute include path) ends with, if any. */
export function stockNameOf(file: string): string | undefined {
  const normal = file.replace(/\/+/g, '/');
  return STOCK_NAMES.find((name) => normal === name || normal.endsWith(`/${name}`));
}

/** The built-in text of a stock file, in nginx syntax. */
export function builtinText(name: string): string | undefined {
  return STOCK.get(name)?.();
}
