// issue 17: logs. `log.formats` (nginx log_format), `log.format` naming one, and the `accessLog` of
// sites and routes (nginx access_log): every name checked, with a hint for a misspelt one.
import type { Ctx } from './context.js';
import { checkTemplate } from './route-parts.js';
import type { RawAccessLog, RawLogFormat } from './schema.js';
import type { Path } from './source.js';
import { didYouMean } from './suggest.js';
import type { AccessLogSetting, LogFormatConfig } from './types.js';

/** Formats every config has: nginx's `combined` and gatehouse's own `json`. */
export const PREDEFINED_FORMATS: readonly string[] = ['combined', 'json'];

const NAME = /^[A-Za-z0-9_-]+$/;

/** Variables whose bytes a client chooses. */
const CLIENT_BYTES = /\$\{?(?:(?:request|request_uri|uri|document_uri|args|query_string|remote_user|content_type)(?![A-Za-z0-9_])|http_|arg_|cookie_|sent_http_|upstream_http_)/;

/** `log.formats`; also records the names known for `log.format` and `accessLog` (Ctx.logFormats). */
export function logFormatsConfig(ctx: Ctx, raw: Record<string, RawLogFormat> | undefined): Record<string, LogFormatConfig> {
  const out: Record<string, LogFormatConfig> = {};
  const at: Path = ['log', 'formats'];
  ctx.logFormats = new Set(PREDEFINED_FORMATS);
  if (raw === undefined || !ctx.shaped(at)) return out;
  for (const [name, value] of Object.entries(raw)) {
    const here = [...at, name];
    // A name is known even when its template is wrong, so its users are not reported twice.
    ctx.logFormats.add(name);
    if (PREDEFINED_FORMATS.includes(name)) {
      ctx.error(here, `log format "${name}" is predefined and cannot be redefined; give yours another name`, 'key');
      continue;
    }
    if (!NAME.test(name)) {
      ctx.error(here, `log format name "${name}" may have only letters, digits, "_" and "-"`, 'key');
      continue;
    }
    if (!ctx.clean(here)) continue;
    const long = typeof value === 'object';
    const format = long ? value.format : value;
    const templateAt = long ? [...here, 'format'] : here;
    if (/[\r\n]/.test(format)) {
      ctx.error(templateAt, 'a log format cannot contain a line break (each request is one line)');
      continue;
    }
    if (!checkFormat(ctx, templateAt, format)) continue;
    const escape = long ? (value.escape ?? 'default') : 'default';
    // nginx allows it; a client's CR/LF would then start a forged line of its own choosing.
    if (escape === 'none' && CLIENT_BYTES.test(format)) {
      ctx.warn([...here, 'escape'], `log format "${name}" has escape: none and logs what clients send: a request can forge log lines (use default or json)`);
    }
    out[name] = { format, escape };
  }
  return out;
}

/** checkTemplate, with the error at the unknown variable itself when the format is on one line. */
function checkFormat(ctx: Ctx, at: Path, format: string): boolean {
  const before = ctx.issues.length;
  if (checkTemplate(ctx, at, format)) return true;
  const issue = ctx.issues[before];
  const name = issue && /unknown variable "\$([^"]+)"/.exec(issue.message)?.[1];
  if (issue && name !== undefined) {
    const braced = ctx.source.posWithin(at, `\${${name}}`);
    const plain = ctx.source.posWithin(at, `$${name}`);
    issue.pos = format.includes(`\${${name}}`) ? braced : plain;
  }
  return false;
}

/** A format name where one is expected: known, or an error with a hint. */
export function checkFormatName(ctx: Ctx, at: Path, name: string): boolean {
  const known = ctx.logFormats ?? new Set(PREDEFINED_FORMATS);
  if (known.has(name)) return true;
  ctx.error(at, `unknown log format "${name}"${didYouMean(name, known) || `; the formats are ${[...known].join(', ')} (log.formats adds more)`}`);
  return false;
}

/** `log.format`: combined unless written. */
export function logFormatName(ctx: Ctx, raw: string | undefined): string {
  if (raw === undefined || !ctx.clean(['log', 'format'])) return 'combined';
  return checkFormatName(ctx, ['log', 'format'], raw) ? raw : 'combined';
}

/** A site's or route's `accessLog` (`at` is the key's path): off, a format name, or { file, format }. */
export function accessLogConfig(ctx: Ctx, at: Path, raw: RawAccessLog | undefined): AccessLogSetting | undefined {
  if (raw === undefined || !ctx.clean(at)) return undefined;
  if (raw === 'off') return 'off';
  if (typeof raw === 'string') return checkFormatName(ctx, at, raw) ? { format: raw } : undefined;
  const out: { format?: string; file?: string } = {};
  if (raw.format !== undefined) {
    if (!checkFormatName(ctx, [...at, 'format'], raw.format)) return undefined;
    out.format = raw.format;
  }
  if (raw.file !== undefined) {
    if (raw.file === 'off' || raw.file === 'stdout' || raw.file === 'stderr') {
      ctx.error([...at, 'file'], `accessLog file "${raw.file}" must be a file path; write accessLog: off to log nothing here`);
      return undefined;
    }
    out.file = ctx.resolve(raw.file);
  }
  if (out.file === undefined && out.format === undefined) ctx.error(at, 'accessLog needs a file, a format or both');
  return out;
}
