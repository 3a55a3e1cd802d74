// issue 17: `errorPages` (nginx error_page) on a site or a route: `{ '404': /404.html,
// '500 502 503 504': /50x.html, 418: '@teapot', 403: '=200 /ok.html', 401: '=301 https://login/' }`.
// What each form does at run time is in request/error-pages.ts.
import type { Ctx } from './context.js';
import { checkTemplate } from './template-check.js';
import type { RawResponseKeys } from './schema.js';
import type { Path } from './source.js';
import { didYouMean } from './suggest.js';
import type { ErrorPageConfig, ErrorPagesConfig } from './types.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A redirect target: an absolute URL, or one built from variables (`$scheme://...`), as nginx takes any other text. */
const URL_TARGET = /^([a-z][a-z0-9+.-]*:\/\/|\$)/i;

/** nginx's own check: error_page codes "must be between 300 and 599". */
function statuses(ctx: Ctx, at: Path, key: string): number[] {
  const out: number[] = [];
  for (const word of key.trim().split(/\s+/)) {
    const n = /^\d{3}$/.test(word) ? Number(word) : NaN;
    if (!(n >= 300 && n <= 599)) {
      ctx.error(at, `errorPages status "${word}" must be between 300 and 599 (several are written "502 503 504")`, 'key');
      return [];
    }
    out.push(n);
  }
  return out;
}

/** `=CODE TARGET`, `= TARGET` or `TARGET`; undefined after reporting what is wrong. */
function page(ctx: Ctx, at: Path, value: string, named: ReadonlySet<string>): ErrorPageConfig | undefined {
  const m = /^(?:=(\d*)\s+)?(\S+)$/.exec(value.trim());
  if (!m) {
    ctx.error(at, `errorPages value "${value}" must be a URI, @name or a URL, optionally after "=CODE " (like "=200 /ok.html")`);
    return undefined;
  }
  const target = m[2] as string;
  const out: ErrorPageConfig = { target };
  if (m[1] !== undefined) {
    const code = m[1] === '' ? 0 : Number(m[1]);
    if (code !== 0 && !(code >= 100 && code <= 599)) {
      ctx.error(at, `errorPages "=${m[1]}" is not an HTTP status (100-599)`);
      return undefined;
    }
    out.overwrite = code;
  }
  if (target.startsWith('/')) return checkTemplate(ctx, at, target) ? out : undefined;
  if (target.startsWith('@')) {
    const name = target.slice(1);
    if (named.has(name)) return out;
    ctx.error(at, `errorPages names "${target}", but this site has no "location: ${target}"${didYouMean(name, named)}`);
    return undefined;
  }
  if (!URL_TARGET.test(target)) {
    ctx.error(at, `errorPages target "${target}" must be a URI starting with "/", @name, or a URL like https://example.com/`);
    return undefined;
  }
  if (!checkTemplate(ctx, at, target)) return undefined;
  if (out.overwrite !== undefined && out.overwrite !== 0 && !REDIRECTS.has(out.overwrite)) {
    ctx.warn(at, `"=${out.overwrite}" is not a redirect status; a URL page is answered with 302 (as nginx does)`);
  }
  return out;
}

export function errorPagesConfig(ctx: Ctx, at: Path, raw: RawResponseKeys['errorPages'], named: ReadonlySet<string>): ErrorPagesConfig | undefined {
  if (raw === undefined || !ctx.shaped(at)) return undefined;
  const out: Record<number, ErrorPageConfig> = {};
  const firstAt = new Map<number, Path>();
  for (const [key, value] of Object.entries(raw)) {
    const p = [...at, key];
    if (!ctx.clean(p)) continue;
    const codes = statuses(ctx, p, key);
    const target = codes.length > 0 ? page(ctx, p, value, named) : undefined;
    for (const code of codes) {
      const first = firstAt.get(code);
      if (first) {
        ctx.error(p, `status ${code} already has an error page (line ${ctx.pos(first, 'key').line})`, 'key');
        continue;
      }
      firstAt.set(code, p);
      if (target) out[code] = target;
    }
  }
  return out;
}
