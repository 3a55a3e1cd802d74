// nginx's time variables ($time_local, $time_iso8601, $msec): the time of the moment they are
// read, in the process's local time zone as nginx writes them (ngx_times.c); each text made once per second.
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** `+0100`, or `+01:00` with a colon (ISO 8601). */
function offset(d: Date, colon: boolean): string {
  const minutes = -d.getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}${colon ? ':' : ''}${pad(abs % 60)}`;
}

let second = -1;
let local = '';
let iso = '';

function refresh(now: number): void {
  const s = Math.floor(now / 1000);
  if (s === second) return;
  second = s;
  const d = new Date(s * 1000);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  local = `${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${time} ${offset(d, false)}`;
  iso = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${time}${offset(d, true)}`;
}

/** $time_local: `06/Dec/2026:08:20:59 +0000` (the common log format's time). */
export function timeLocal(now = Date.now()): string {
  refresh(now);
  return local;
}

/** $time_iso8601: `2026-12-06T08:20:59+00:00`. */
export function timeIso8601(now = Date.now()): string {
  refresh(now);
  return iso;
}

/** $msec: seconds with milliseconds, `1796545259.123`. */
export function msec(now = Date.now()): string {
  return (now / 1000).toFixed(3);
}
