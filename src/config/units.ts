// Durations, sizes and rates as written in the config (README "Configuration reference"). The nginx adapter reads nginx's
// own spellings through the same functions, so the rules follow nginx where they overlap.

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Milliseconds from `500ms`, `30s`, `5m`, `12h`, `30d`, `2w`, or a sum of those (`1h30m`, as nginx).
 *
 * A bare number (`30` or `"30"`) is seconds: that is what nginx means by `proxy_read_timeout 30`,
 * and the nginx adapter hands its values through here unchanged. Decimals are allowed (`1.5h`).
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new Error(`invalid duration ${value}: must be a number of seconds >= 0, or like 30s`);
    }
    return Math.round(value * 1000);
  }
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const part = /\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/gy;
  let total = 0;
  let end = 0;
  for (let m = part.exec(text); m; m = part.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    end = part.lastIndex;
  }
  if (text === '' || end !== text.length) {
    throw new Error(`invalid duration ${JSON.stringify(value)}: use a number with ms, s, m, h or d, like 30s or 5m`);
  }
  return Math.round(total);
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Bytes from `512`, `64k`, `10m`, `1g` (binary multiples, as nginx: k = 1024). Upper case and a
 * trailing `b` (`10MB`) are accepted because people write them; they still mean 1024-multiples.
 */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new Error(`invalid size ${value}: must be a whole number of bytes >= 0`);
    return value;
  }
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i.exec(value.trim());
  if (!m || (m[2] === '' && /b$/i.test(value.trim()))) {
    throw new Error(`invalid size ${JSON.stringify(value)}: use bytes or a number with k, m or g, like 64k or 10m`);
  }
  return Math.floor(Number(m[1]) * (SIZE_UNITS[(m[2] as string).toLowerCase()] as number));
}

/** Requests per second from nginx's `10r/s` or `10r/m` (limit_req_zone rate syntax). */
export function parseRate(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*r\/(s|m)$/.exec(value.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!m || !(n > 0)) {
    throw new Error(`invalid rate ${JSON.stringify(value)}: use requests per second or minute, like 10r/s or 30r/m`);
  }
  return m[2] === 'm' ? n / 60 : n;
}
