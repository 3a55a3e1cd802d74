// issue 17: the response-header keys of a site or a route: `headers.response.add` (nginx add_header),
// `expires`, `proxyRedirect`, `proxyHideHeaders` / `proxyPassHeaders`, plus `interceptErrors` and
// `errorPages` (config/error-pages.ts), gathered by responseKeys for sites.ts and routes.ts.
import { charsetConfig } from './charset.js';
import type { Ctx } from './context.js';
import { errorPagesConfig } from './error-pages.js';
import { checkTemplate } from './template-check.js';
import type { RawAddHeader, RawResponseKeys, RawSite } from './schema.js';
import type { Path } from './source.js';
import { closest, didYouMean } from './suggest.js';
import type { ExpiresConfig, ProxyRedirectRule, ResponseKeys, SiteConfig } from './types.js';
import type { AddHeader } from '../http/header-ops.js';
import { parseDuration } from './units.js';

// RFC 9110 §5.6.2 token: what a field name may be made of.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `add: { NAME: VALUE | { value, always } }`, in written order (nginx sends them in that order). */
export function addHeaders(ctx: Ctx, at: Path, raw: Record<string, RawAddHeader> | undefined): AddHeader[] | undefined {
  if (raw === undefined || !ctx.shaped(at)) return undefined;
  const out: AddHeader[] = [];
  for (const [name, item] of Object.entries(raw)) {
    const p = [...at, name];
    if (!ctx.clean(p)) continue;
    if (!TOKEN.test(name)) {
      ctx.error(p, `"${name}" is not a valid header name`, 'key');
      continue;
    }
    const long = typeof item === 'object';
    const value = String(long ? item.value : item);
    const vp = long ? [...p, 'value'] : p;
    if (/[\r\n\0]/.test(value)) ctx.error(vp, `header value of "${name}" contains a line break or NUL`);
    else if (checkTemplate(ctx, vp, value)) out.push({ name, value, always: long ? item.always === true : false });
  }
  return out;
}

const EXPIRES_WORDS = ['off', 'epoch', 'max', 'modified'];

/**
 * nginx's `expires [modified] TIME | epoch | max | off`. A negative time (`-1`, `-1h`) is allowed
 * and means Cache-Control: no-cache. `@15h30m` (a time of day) is not supported.
 */
export function parseExpires(value: string | number): ExpiresConfig | 'off' {
  if (typeof value === 'number') return { kind: 'access', seconds: seconds(String(value)) };
  const text = value.trim();
  if (text === 'off' || text === 'epoch' || text === 'max') return text === 'off' ? 'off' : { kind: text };
  const m = /^modified\s+(\S+)$/.exec(text);
  if (m) return { kind: 'modified', seconds: seconds(m[1] as string) };
  if (text.startsWith('@')) throw new Error(`expires "${text}" (a time of day) is not supported; use a duration like 12h`);
  const word = /^[a-z]+$/i.test(text) ? closest(text, EXPIRES_WORDS) : undefined;
  if (word !== undefined) throw new Error(`expires "${text}" is not valid (did you mean "${word}"?)`);
  return { kind: 'access', seconds: seconds(text) };
}

function seconds(text: string): number {
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  let ms: number;
  try {
    ms = parseDuration(body);
  } catch {
    throw new Error(`expires "${text}" must be off, epoch, max, a duration like 30d, 12h or -1, or "modified DURATION"`);
  }
  const s = Math.floor(ms / 1000);
  return negative ? -s : s;
}

function proxyRedirect(ctx: Ctx, at: Path, raw: NonNullable<RawResponseKeys['proxyRedirect']>): ResponseKeys['proxyRedirect'] | undefined {
  if (typeof raw === 'string') {
    if (raw === 'off') return 'off';
    if (raw === 'default') return ['default'];
    ctx.error(at, `proxyRedirect "${raw}" must be default, off, or a list of { from, to }${didYouMean(raw, ['default', 'off'])}`);
    return undefined;
  }
  const rules: ProxyRedirectRule[] = [];
  raw.forEach((item, i) => {
    const p = [...at, i];
    if (!ctx.clean(p)) return;
    if (typeof item === 'string') {
      if (item === 'default') rules.push('default');
      else ctx.error(p, `proxyRedirect item "${item}" must be default or { from, to }${didYouMean(item, ['default'])}`);
      return;
    }
    if (/^~\*?/.test(item.from)) {
      try {
        new RegExp(item.from.replace(/^~\*?\s*/, ''));
      } catch (err) {
        ctx.error([...p, 'from'], `proxyRedirect from "${item.from}" is not a valid regular expression: ${(err as Error).message}`);
        return;
      }
    }
    if (/[\r\n\0]/.test(item.to)) ctx.error([...p, 'to'], 'proxyRedirect to contains a line break or NUL');
    else if (checkTemplate(ctx, [...p, 'to'], item.to)) rules.push({ from: item.from, to: item.to });
  });
  return rules;
}

function headerNames(ctx: Ctx, at: Path, raw: RawResponseKeys['proxyHideHeaders']): string[] | undefined {
  if (raw === undefined || !ctx.clean(at)) return undefined;
  const names = typeof raw === 'string' ? [raw] : raw;
  names.forEach((name, i) => {
    if (!TOKEN.test(name)) ctx.error(typeof raw === 'string' ? at : [...at, i], `"${name}" is not a valid header name`);
  });
  return names.map((n) => n.toLowerCase());
}

/** The issue-17 keys of a site or a route (`named`: the site's `@name` locations). */
export function responseKeys(ctx: Ctx, at: Path, raw: RawResponseKeys, named: ReadonlySet<string>): ResponseKeys {
  const out: ResponseKeys = {};
  const ok = (key: keyof RawResponseKeys): boolean => raw[key] !== undefined && ctx.clean([...at, key]);
  const errorPages = errorPagesConfig(ctx, [...at, 'errorPages'], raw.errorPages, named);
  if (errorPages) out.errorPages = errorPages;
  if (ok('interceptErrors')) out.interceptErrors = raw.interceptErrors as boolean;
  if (ok('retryStatuses')) out.retryStatuses = raw.retryStatuses as number[];
  if (ok('expires')) {
    const expires = ctx.attempt([...at, 'expires'], () => parseExpires(raw.expires as string | number));
    if (expires) out.expires = expires;
  }
  if (ok('proxyRedirect')) {
    const rules = proxyRedirect(ctx, [...at, 'proxyRedirect'], raw.proxyRedirect as NonNullable<RawResponseKeys['proxyRedirect']>);
    if (rules) out.proxyRedirect = rules;
  }
  const hide = headerNames(ctx, [...at, 'proxyHideHeaders'], raw.proxyHideHeaders);
  if (hide) out.proxyHideHeaders = hide;
  const pass = headerNames(ctx, [...at, 'proxyPassHeaders'], raw.proxyPassHeaders);
  if (pass) out.proxyPassHeaders = pass;
  const charset = charsetConfig(ctx, at, raw);
  if (charset) out.charset = charset;
  return out;
}

/** The keys of a site whose routes are read already; warns about what they make useless. */
export function siteResponseKeys(ctx: Ctx, at: Path, rs: RawSite, site: SiteConfig): void {
  Object.assign(site, responseKeys(ctx, at, rs, namedLocations(rs)));
  warnUselessIntercept(ctx, site);
}

/** The `@name` locations of a site, for its `errorPages`. */
function namedLocations(rs: RawSite): Set<string> {
  const names = (rs.routes ?? []).map((r) => (typeof r?.location === 'string' ? r.location.trim() : ''));
  return new Set(names.filter((n) => n.startsWith('@')).map((n) => n.slice(1)));
}

/** `interceptErrors: true` where no `errorPages` apply (the route's or its site's) does nothing: said in `check`. */
function warnUselessIntercept(ctx: Ctx, site: SiteConfig): void {
  for (const route of site.routes) {
    if (!(route.interceptErrors ?? site.interceptErrors) || (route.errorPages ?? site.errorPages) !== undefined || !route.pos) continue;
    ctx.issues.push({ pos: route.pos, message: `interceptErrors has no effect on "${route.location}": neither the route nor its site has errorPages`, severity: 'warning' });
  }
}
