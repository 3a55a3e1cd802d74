// issue 17: access. The access phase keys of a site or route: `access` (nginx allow/deny),
// `auth` (auth_basic + auth_basic_user_file), `satisfy`, `forwardAuth` (auth_request,
// auth_request_set; Caddy's forward_auth copy_headers). Each is inherited whole by the routes
// below and replaced whole by a route that writes its own (nginx's merge of these directives;
// config/inherit.ts fills the inherited values in before this reads them).
import fs from 'node:fs';
import ipaddr from 'ipaddr.js';
import type { Ctx } from './context.js';
import { parseHtpasswd } from './htpasswd-lines.js';
import { checkTemplate } from './route-parts.js';
import type { RawAccess } from './schema.js';
import type { Path } from './source.js';
import { didYouMean } from './suggest.js';
import type { AccessRule, AccessSettings, AuthConfig, ForwardAuthConfig } from './types.js';
import { parseDuration } from './units.js';

/** nginx's proxy_read_timeout: how long an auth_request subrequest may take by default. */
export const DEFAULT_FORWARD_AUTH_TIMEOUT_MS = 60_000;

// RFC 9110 §5.6.2 token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VAR_NAME = /^\$[A-Za-z_][A-Za-z0-9_]*$/;

/** The access settings written at `at` (a site or a route); keys left out are inherited. */
export function accessSettings(ctx: Ctx, at: Path, raw: RawAccess): AccessSettings {
  const out: AccessSettings = {};
  const ok = (key: keyof RawAccess): boolean => raw[key] !== undefined && ctx.clean([...at, key]);
  if (raw.access !== undefined && ctx.shaped([...at, 'access'])) out.access = accessRules(ctx, [...at, 'access'], raw.access);
  if (ok('auth')) {
    const auth = authConfig(ctx, [...at, 'auth'], raw.auth!);
    if (auth) out.auth = auth;
  }
  if (ok('satisfy')) out.satisfy = raw.satisfy!;
  if (ok('forwardAuth')) {
    const fa = forwardAuthConfig(ctx, [...at, 'forwardAuth'], raw.forwardAuth!);
    if (fa) out.forwardAuth = fa;
  }
  return out;
}

/**
 * Checks one allow/deny source as nginx's ngx_http_access_rule does: `all`, `unix:`, an address,
 * or a CIDR. Returns a warning for a CIDR with host bits set (nginx: "low address bits of ... are
 * meaningless"); throws for anything else.
 */
export function checkAccessSource(source: string): string | undefined {
  if (source === 'all' || source === 'unix:') return undefined;
  if (source.includes('/')) {
    let cidr: [ipaddr.IPv4 | ipaddr.IPv6, number];
    try {
      cidr = ipaddr.parseCIDR(source);
    } catch {
      throw new Error(`"${source}" is not an address, a CIDR, all or unix:`);
    }
    const [net, bits] = cidr;
    const base = net.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(source) : ipaddr.IPv6.networkAddressFromCIDR(source);
    if (base.toString() !== net.toString()) return `low address bits of ${source} are meaningless (it means ${base.toString()}/${bits})`;
    return undefined;
  }
  if (!ipaddr.isValid(source)) {
    const hint = didYouMean(source, ['all', 'unix:']);
    throw new Error(`"${source}" is not an address, a CIDR, all or unix:${hint}`);
  }
  return undefined;
}

function accessRules(ctx: Ctx, at: Path, raw: NonNullable<RawAccess['access']>): AccessRule[] {
  const rules: AccessRule[] = [];
  raw.forEach((item, i) => {
    const p = [...at, i];
    if (!ctx.clean(p)) return;
    if ((item.allow === undefined) === (item.deny === undefined)) {
      ctx.error(p, 'an access rule is either { allow: ADDRESS } or { deny: ADDRESS } (one per list item; first match wins)');
      return;
    }
    const action = item.allow !== undefined ? 'allow' : 'deny';
    const source = String(item[action]).trim();
    const warning = ctx.attempt([...p, action], () => checkAccessSource(source));
    if (warning) ctx.warn([...p, action], warning);
    if (ctx.clean([...p, action])) rules.push({ action, source });
  });
  return rules;
}

function authConfig(ctx: Ctx, at: Path, raw: NonNullable<RawAccess['auth']>): AuthConfig | undefined {
  if (raw === 'off') return 'off';
  // nginx writes the realm between quotes without escaping: a `"` or a line break would break the header.
  const realm = raw.realm ?? 'Restricted';
  if ([...realm].some((c) => c === '"' || c === '\\' || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    ctx.error([...at, 'realm'], 'realm may not contain ", \\ or control characters (it goes between quotes in WWW-Authenticate)');
    return undefined;
  }
  const file = ctx.resolve(raw.htpasswd);
  checkHtpasswdFile(ctx, [...at, 'htpasswd'], file);
  return { realm, htpasswd: file };
}

/**
 * The file is read again while running (access/htpasswd.ts); here it is only checked, so that
 * `check` shows a missing file or a line no request could ever pass.
 */
function checkHtpasswdFile(ctx: Ctx, at: Path, file: string): void {
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist (requests get 403 until it does, as in nginx)' : `cannot be read (${code ?? 'error'}; requests get 500)`;
    ctx.warn(at, `htpasswd file ${file} ${why}`);
    return;
  }
  const { entries, problems } = parseHtpasswd(text);
  for (const p of problems) {
    const message = `${file}:${p.line}: ${p.message}`;
    if (p.severity === 'error') ctx.error(at, message);
    else ctx.warn(at, message);
  }
  if (entries.size === 0 && problems.length === 0) ctx.warn(at, `htpasswd file ${file} has no users: every request gets 401`);
}

function forwardAuthConfig(ctx: Ctx, at: Path, raw: NonNullable<RawAccess['forwardAuth']>): ForwardAuthConfig | undefined {
  if (raw === 'off') return 'off';
  let good = true;
  const url = raw.url.trim();
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.username || parsed.password) {
    ctx.error([...at, 'url'], `forwardAuth url "${url}" must be an http:// or https:// URL without credentials`);
    good = false;
  }
  const copyHeaders = raw.copyHeaders ?? [];
  copyHeaders.forEach((name, i) => {
    if (!TOKEN.test(name)) {
      ctx.error([...at, 'copyHeaders', i], `"${name}" is not a valid header name`);
      good = false;
    }
  });
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw.set ?? {})) {
    const p = [...at, 'set', name];
    if (!VAR_NAME.test(name)) {
      ctx.error(p, `"${name}" is not a variable name like $user`, 'key');
      good = false;
      continue;
    }
    // `$upstream_http_NAME` reads the auth response; anything else must be a variable templates know.
    if (!checkTemplate(ctx, p, value.replace(/\$(\{upstream_http_[A-Za-z0-9_]+\}|upstream_http_[A-Za-z0-9_]+)/g, ''))) {
      good = false;
      continue;
    }
    set[name.slice(1)] = value;
  }
  const timeoutMs = raw.timeout !== undefined ? parseDuration(raw.timeout) : DEFAULT_FORWARD_AUTH_TIMEOUT_MS;
  if (timeoutMs <= 0) {
    ctx.error([...at, 'timeout'], 'forwardAuth timeout must be more than 0');
    good = false;
  }
  return good ? { url, copyHeaders, set, timeoutMs } : undefined;
}
