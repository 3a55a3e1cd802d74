// The access log (README "Operations"): one line per request, nginx "combined" plus the proxy's own fields, or
// JSON. Lines are batched and written once per tick: a write() per request costs a syscall each.
import fs from 'node:fs';
import type { LogConfig } from '../config/types.js';

export interface AccessRecord {
  remoteAddr: string;
  method: string;
  target: string;
  protocol: string;
  status: number;
  bytesSent: number;
  referer: string | undefined;
  userAgent: string | undefined;
  host: string;
  upstreamAddr: string | undefined;
  /** Seconds from the upstream request to its response headers, or undefined. */
  upstreamTime: number | undefined;
  /** Seconds from the request to the end of the response. */
  requestTime: number;
  tlsVersion: string | undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

let cachedSecond = -1;
let cachedLocal = '';
/** nginx's $time_local, in UTC: `10/Oct/2000:13:55:36 +0000`; formatted once per second. */
function timeLocal(now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    const d = new Date(now);
    cachedSecond = second;
    cachedLocal = `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(
      d.getUTCMinutes(),
    )}:${pad(d.getUTCSeconds())} +0000`;
  }
  return cachedLocal;
}

// nginx escapes `"`, `\` and bytes outside printable ASCII as \xHH in logged strings.
// eslint-disable-next-line no-control-regex
const UNSAFE = /["\\\x00-\x1f\x7f-\uffff]/;
// eslint-disable-next-line no-control-regex
const UNSAFE_ALL = /["\\\x00-\x1f\x7f-\uffff]/g;
function esc(value: string | undefined): string {
  if (value === undefined || value === '') return '-';
  if (!UNSAFE.test(value)) return value;
  return value.replace(UNSAFE_ALL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function formatCombined(r: AccessRecord, now: number): string {
  const upstream = r.upstreamAddr ?? '-';
  const ut = r.upstreamTime === undefined ? '-' : r.upstreamTime.toFixed(3);
  return (
    `${r.remoteAddr} - - [${timeLocal(now)}] "${esc(r.method)} ${esc(r.target)} ${r.protocol}" ${r.status} ${r.bytesSent} ` +
    `"${esc(r.referer)}" "${esc(r.userAgent)}" host="${esc(r.host)}" upstream=${upstream} ut=${ut} ` +
    `rt=${r.requestTime.toFixed(3)} tls=${r.tlsVersion ?? '-'}\n`
  );
}

export function formatJson(r: AccessRecord, now: number): string {
  return `${JSON.stringify({ time: new Date(now).toISOString(), ...r })}\n`;
}

export class AccessLog {
  private buffer: string[] = [];
  private scheduled = false;
  private readonly fd: number | undefined;
  private readonly format: (r: AccessRecord, now: number) => string;
  readonly enabled: boolean;

  constructor(config: Pick<LogConfig, 'access' | 'format'>) {
    const target = config.access;
    this.enabled = target !== 'off';
    this.format = config.format === 'json' ? formatJson : formatCombined;
    if (target === 'stdout') this.fd = 1;
    else if (target === 'stderr') this.fd = 2;
    else if (target === 'off') this.fd = undefined;
    else this.fd = fs.openSync(target.file, 'a', 0o640);
  }

  log(record: AccessRecord): void {
    if (this.fd === undefined) return;
    this.buffer.push(this.format(record, Date.now()));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.fd === undefined || this.buffer.length === 0) return;
    const text = this.buffer.join('');
    this.buffer = [];
    try {
      if (this.fd === 1) process.stdout.write(text);
      else if (this.fd === 2) process.stderr.write(text);
      else fs.writeSync(this.fd, text);
    } catch {
      // A closed stdout (EPIPE) must not take the proxy down; the lines are lost, as nginx's would be.
    }
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined && this.fd > 2) fs.closeSync(this.fd);
  }
}
