// The escapings of nginx's log_format (ngx_http_log_module): `escape=default`, `escape=json` and
// `escape=none`. Values are byte strings: one char per byte (0x00-0xff), as Node hands request
// lines and header fields over (latin1); a char above 0xff (a config literal, an HTTP/2 field
// decoded otherwise) is first written as its UTF-8 bytes, so the line on disk is what the client sent.
export type LogEscape = 'default' | 'json' | 'none';

/** Chars above 0xff as their UTF-8 bytes, one char per byte; a string without any is returned as is. */
export function byteString(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\xff]/.test(value)) return value;
  return Buffer.from(value, 'utf8').toString('latin1');
}

const HEX = '0123456789ABCDEF';

// eslint-disable-next-line no-control-regex
const DEFAULT_UNSAFE = /["\\\x00-\x1f\x7f-\xff]/;
// eslint-disable-next-line no-control-regex
const DEFAULT_UNSAFE_ALL = /["\\\x00-\x1f\x7f-\xff]/g;

/**
 * ngx_http_log_escape: `"`, `\`, control bytes and every byte from 0x7f up become `\xHH` (upper-case
 * hex, as nginx writes them), so a hostile request line or User-Agent cannot forge log lines or
 * fields, nor put terminal escapes into a log read with `cat`.
 */
export function escapeDefault(value: string): string {
  const bytes = byteString(value);
  if (!DEFAULT_UNSAFE.test(bytes)) return bytes;
  return bytes.replace(DEFAULT_UNSAFE_ALL, (c) => {
    const b = c.charCodeAt(0);
    return `\\x${HEX[b >> 4]}${HEX[b & 0xf]}`;
  });
}

// eslint-disable-next-line no-control-regex
const JSON_UNSAFE = /["\\\x00-\x1f]/;
// eslint-disable-next-line no-control-regex
const JSON_UNSAFE_ALL = /["\\\x00-\x1f]/g;
const JSON_SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '"': '\\"', '\\': '\\\\' };

/**
 * ngx_escape_json: `"` and `\` backslashed, \n \r \t \b \f short, other control bytes \u00XX;
 * bytes from 0x7f up are copied as they are (nginx does not check UTF-8: the line is what was sent).
 */
export function escapeJson(value: string): string {
  const bytes = byteString(value);
  if (!JSON_UNSAFE.test(bytes)) return bytes;
  return bytes.replace(JSON_UNSAFE_ALL, (c) => {
    const short = JSON_SHORT[c];
    if (short) return short;
    const b = c.charCodeAt(0);
    return `\\u00${HEX[b >> 4]}${HEX[b & 0xf]}`;
  });
}

export function escapeFor(kind: LogEscape): (value: string) => string {
  return kind === 'json' ? escapeJson : kind === 'none' ? byteString : escapeDefault;
}
