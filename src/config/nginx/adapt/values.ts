// nginx's sizes and times as gatehouse writes them. nginx's units (ngx_parse_time, ngx_parse_size):
// ms s m h d w M(30 days) y(365 days) and k K m M g G; gatehouse reads the same except M and y.
import type { SourcePos } from '../../types.js';
import { AdaptCtx, Refused } from './context.js';

const TIME_PART = /(\d+)(ms|s|m|h|d|w|M|y)?/y;
const TIME_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, M: 2_592_000_000, y: 31_536_000_000 };

/** A duration in milliseconds; an error at `pos` when it is not one. */
export function nginxMs(ctx: AdaptCtx, text: string, pos: SourcePos, what: string): number {
  let total = 0;
  let at = 0;
  const t = text.trim();
  if (t === '') return fail();
  while (at < t.length) {
    TIME_PART.lastIndex = at;
    const m = TIME_PART.exec(t);
    if (!m) return fail();
    total += Number(m[1]) * TIME_MS[m[2] ?? 's']!;
    at = TIME_PART.lastIndex;
    while (t[at] === ' ') at++;
  }
  return total;
  function fail(): never {
    ctx.error(pos, `"${what}" directive invalid value "${text}"`);
    throw new Refused();
  }
}

/** Milliseconds as gatehouse's shortest exact duration text. */
export function durationText(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export function nginxDuration(ctx: AdaptCtx, text: string, pos: SourcePos, what: string): string {
  return durationText(nginxMs(ctx, text, pos, what));
}

/** A size: `10m`, `512k`, `1G`, `0`, bare bytes; gatehouse's lower-case units. */
export function nginxSize(ctx: AdaptCtx, text: string, pos: SourcePos, what: string): string {
  const m = /^(\d+)([kKmMgG]?)$/.exec(text.trim());
  if (!m) {
    ctx.error(pos, `"${what}" directive invalid value "${text}"`);
    throw new Refused();
  }
  return `${m[1]}${(m[2] ?? '').toLowerCase()}`;
}

/** A word as a YAML-safe rewrite argument: quoted when it holds spaces or quotes. */
export function rewriteWord(word: string): string {
  if (word !== '' && !/[\s"']/.test(word)) return word;
  // gatehouse's splitWords (config/rewrite.ts) reads only \" as an escape, as nginx's tokenizer keeps other backslashes.
  return `"${word.replace(/"/g, '\\"')}"`;
}
