// `params` (nginx fastcgi_param, uwsgi_param, scgi_param) and `splitPathInfo` (nginx
// fastcgi_split_path_info): checked where they are written; sent by handler/cgi-request.ts.
import type { Ctx } from './context.js';
import type { RawCgiParam } from './schema.js';
import type { Path } from './source.js';
import { checkTemplate } from './template-check.js';
import type { CgiParamConfig } from './types.js';
import { CGI_SCHEMES } from './upstream-url.js';

// Printable ASCII but "=": a CGI variable name ends up as an environment name (RFC 3875 §4.1,
// putenv), where "=" would end it; NUL would end the SCGI netstring entry.
const NAME = /^[!-<>-~]+$/;
/** nginx takes any length; the whole list must fit the protocol's 64 KiB anyway (FastCGI record, uwsgi u16). */
const MAX_NAME = 255;
const MAX_VALUE = 16 * 1024;

/** The user's parameters in written order; undefined when there are none (or none is valid). */
export function paramsConfig(ctx: Ctx, at: Path, raw: Record<string, RawCgiParam> | undefined): CgiParamConfig[] | undefined {
  if (raw === undefined || !ctx.shaped(at)) return undefined;
  const out: CgiParamConfig[] = [];
  for (const [name, item] of Object.entries(raw)) {
    const p = [...at, name];
    if (!ctx.shaped(p)) continue;
    if (!NAME.test(name) || name.length > MAX_NAME) {
      ctx.error(p, `"${name}" is not a valid parameter name (printable ASCII without spaces or "=", at most ${MAX_NAME} characters)`, 'key');
      continue;
    }
    const object = typeof item === 'object';
    const vp = object ? [...p, 'value'] : p;
    if (!ctx.clean(vp)) continue;
    const value = String(object ? item.value : item);
    // A line break is fine (php-fpm reads PHP_VALUE as lines); NUL would end an SCGI value.
    if (value.includes('\0')) ctx.error(vp, `the value of parameter "${name}" contains a NUL byte`);
    else if (value.length > MAX_VALUE) ctx.error(vp, `the value of parameter "${name}" is over ${MAX_VALUE} characters`);
    else if (checkTemplate(ctx, vp, value)) out.push({ name, value, ifNotEmpty: object && item.ifNotEmpty === true });
  }
  return out;
}

/**
 * nginx's fastcgi_split_path_info: the regex must have two captures ("pattern ... must have 2
 * captures"), script name and path info. `true` is the built-in ^(.+?\.php)(/.*)$.
 */
export function splitPathInfoConfig(ctx: Ctx, at: Path, raw: boolean | string | undefined): boolean | string | undefined {
  if (raw === undefined || !ctx.clean(at)) return undefined;
  if (typeof raw === 'boolean') return raw;
  let re: RegExp;
  try {
    re = new RegExp(raw);
  } catch (err) {
    ctx.error(at, `splitPathInfo: ${(err as Error).message}`);
    return undefined;
  }
  // An alternative that matches '' gives one entry per capture group.
  const captures = (new RegExp(`${re.source}|`).exec('')?.length ?? 1) - 1;
  if (captures !== 2) {
    ctx.error(at, `splitPathInfo "${raw}" must have 2 captures (script name, path info), it has ${captures}`);
    return undefined;
  }
  return raw;
}

/** What checkCgiTarget needs of a route: its keys as written and with the inherited ones. */
export interface CgiTargetRoute {
  location: string;
  own: { params?: unknown; splitPathInfo?: unknown; routes?: unknown };
  raw: { params?: unknown; splitPathInfo?: unknown };
  /** The protocol the route proxies with; undefined when it does not proxy (or its proxy is invalid). */
  scheme: string | undefined;
}

/**
 * Where the route's parameters can go. nginx ignores fastcgi_param in a location that proxies over
 * HTTP or serves files; gatehouse says so: an error when the route writes them itself, a warning
 * when an HTTP proxy route inherits them (a route serving files or a `return` is no mistake), and
 * nothing for a route that only holds nested routes.
 */
export function checkCgiTarget(ctx: Ctx, at: Path, route: CgiTargetRoute): void {
  const { own, raw, scheme } = route;
  const does = scheme === undefined ? 'does not proxy' : `proxies over ${scheme}`;
  const cgi = scheme !== undefined && CGI_SCHEMES.has(scheme);
  // A route that only holds nested routes writes them for those (nginx's outer location).
  const holder = scheme === undefined && own.routes !== undefined;
  if (own.params !== undefined && !cgi && !holder) {
    ctx.error([...at, 'params'], `params go to FastCGI, uwsgi and SCGI backends; this route ${does}`, 'key');
  } else if (own.params === undefined && raw.params !== undefined && scheme !== undefined && !cgi) {
    ctx.warn([...at, 'params'], `params are not sent to route "${route.location}", which ${does} (nginx ignores fastcgi_param there too)`, 'key');
  }
  if (own.splitPathInfo !== undefined && scheme !== 'fastcgi' && !holder) {
    ctx.error([...at, 'splitPathInfo'], `splitPathInfo applies to FastCGI routes; this route ${does}`, 'key');
  }
}
