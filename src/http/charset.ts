// nginx's charset filter (ngx_http_charset_filter_module.c) without recoding: `; charset=NAME` is
// added to the Content-Type of a response whose type is one of the charset types and that names no
// charset yet — a file, a built-in error page, a `return` text, a proxied or FastCGI answer alike.
// Decided per location at config load (config/charset.ts); per response it is one Set lookup.
/** The charset of a location and the types it is added to; `*` adds it to every type. */
export interface CharsetRule {
  /** `; charset=NAME`, ready to append. */
  readonly suffix: string;
  /** Lower-case `type/subtype`s. */
  readonly types: ReadonlySet<string> | '*';
}

/** `off` is kept: a route's `off` overrides its site's charset. */
export type CharsetConfig = CharsetRule | 'off';

/** nginx's charset_types default (ngx_http_charset_default_types). */
export const DEFAULT_CHARSET_TYPES: readonly string[] = ['text/html', 'text/xml', 'text/plain', 'text/vnd.wap.wml', 'application/javascript', 'application/rss+xml'];

/** ngx_http_upstream_copy_content_type: a `charset=` parameter after a `;` and spaces. */
const NAMES_CHARSET = /; *charset=/i;

/** The Content-Type with the charset added, or undefined when nginx leaves it as it is. */
export function withCharset(rule: CharsetRule, status: number, type: string): string | undefined {
  // ngx_http_set_charset: none on a 301 or 302 ("NN 4.x use this charset instead of the next page charset").
  if (status === 301 || status === 302 || type === '') return undefined;
  if (rule.types === '*') {
    // ngx_http_destination_charset: a type that names a charset keeps it (no override_charset).
    return NAMES_CHARSET.test(type) ? undefined : type + rule.suffix;
  }
  // A type with parameters is looked up whole (nginx's content_type_len): the listed types have
  // none, so it never matches — nor does one that names a charset.
  return rule.types.has(type) || rule.types.has(type.toLowerCase()) ? type + rule.suffix : undefined;
}

