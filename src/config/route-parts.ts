// Settings shared by sites and routes (headers, rateLimit) and the `return` directive.
import type { Ctx } from './context.js';
import { checkTemplate } from './template-check.js';
import type { RawHeaderOps, RawHeaders, RawRateLimit, RawText } from './schema.js';
import type { Path } from './source.js';
import type { HeaderOps, HeadersConfig, RateLimitConfig, ReturnConfig } from './types.js';
import { parseRate } from './units.js';
import { addHeaders } from './response-headers.js';

// Kept here for the files that have always imported it from route-parts.
export { checkTemplate };

export function list(value: RawText | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

// RFC 9110 §5.6.2 token: what a field name may be made of.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function headerOps(ctx: Ctx, at: Path, raw: RawHeaderOps): HeaderOps {
  const set: Record<string, string> = {};
  const setOk = raw.set !== undefined && ctx.shaped([...at, 'set']);
  for (const [name, value] of Object.entries(setOk ? (raw.set ?? {}) : {})) {
    const p = [...at, 'set', name];
    if (!TOKEN.test(name)) ctx.error(p, `"${name}" is not a valid header name`, 'key');
    else if (name.startsWith(':')) ctx.error(p, `pseudo-header "${name}" cannot be set`, 'key');
    const text = String(value);
    if (/[\r\n\0]/.test(text)) ctx.error(p, `header value of "${name}" contains a line break or NUL`);
    else if (ctx.clean(p) && checkTemplate(ctx, p, text)) set[name] = text;
  }
  const remove = ctx.clean([...at, 'remove']) ? list(raw.remove) : [];
  remove.forEach((name, i) => {
    if (!TOKEN.test(name)) ctx.error([...at, 'remove', ...(typeof raw.remove === 'string' ? [] : [i])], `"${name}" is not a valid header name`);
  });
  const out: HeaderOps = { set, remove };
  // issue 17: add_header
  const add = addHeaders(ctx, [...at, 'add'], raw.add);
  if (add) out.add = add;
  return out;
}

export function headersConfig(ctx: Ctx, at: Path, raw: RawHeaders | undefined): HeadersConfig | undefined {
  if (raw === undefined || !ctx.shaped(at)) return undefined;
  const out: HeadersConfig = {};
  if (raw.request && ctx.shaped([...at, 'request'])) out.request = headerOps(ctx, [...at, 'request'], raw.request);
  if (raw.response && ctx.shaped([...at, 'response'])) out.response = headerOps(ctx, [...at, 'response'], raw.response);
  return out;
}

export function rateLimitConfig(ctx: Ctx, at: Path, raw: RawRateLimit | undefined): RateLimitConfig | undefined {
  if (raw === undefined || !ctx.clean(at)) return undefined;
  return { ratePerSec: parseRate(raw.rate), burst: raw.burst ?? 0 };
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * nginx's `return`: `return CODE`, `return CODE TEXT` (a URL for 301/302/303/307/308, a body
 * otherwise), or `return URL` for a 302 when the URL starts with http://, https:// or $scheme.
 * Throws with a config-ready message.
 */
export function parseReturn(value: number | string): ReturnConfig {
  const text = String(value).trim();
  if (/^(https?:\/\/|\$scheme)/.test(text)) return { status: 302, text };
  const m = /^(\d+)(?:\s+([\s\S]*))?$/.exec(text);
  if (!m) {
    throw new Error(`return ${JSON.stringify(text)} must be CODE, "CODE TEXT" or a URL starting with http://, https:// or $scheme`);
  }
  const status = Number(m[1]);
  // 444 is inside the range, so nginx's "close without answering" is expressible.
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new Error(`return code ${m[1]} is not an HTTP status (100-599)`);
  }
  // nginx allows the text in double quotes (`return 200 "ok"`); the quotes are not part of it.
  const rest = m[2]?.trim().replace(/^"([\s\S]*)"$/, '$1');
  if (REDIRECTS.has(status) && !rest) throw new Error(`return ${status} needs a URL to redirect to`);
  if (!rest) return { status };
  // issue 17: a body is sent as written, its trailing newline kept (nginx's `return 200 "ok\n"`).
  const body = REDIRECTS.has(status) ? undefined : /^\s*\d+[ \t]+(?!")([\s\S]*\S[\s\S]*)$/.exec(String(value))?.[1];
  return { status, text: body ?? rest };
}
