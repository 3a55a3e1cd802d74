// The access log (README "Operations"; nginx's ngx_http_log_module): one line per request in a
// named format (log.formats, or the predefined nginx `combined` and gatehouse `json`), to the
// default target or to the file a site or route names (`accessLog`). Every file is opened once,
// when the config is loaded (and again on reload, or SIGUSR1 for log rotation). Lines are batched
// and written once per tick: a write() per request costs a syscall each.
import fs from 'node:fs';
import type { AccessLogSetting, LogConfig, LogTarget, RouteConfig, SiteConfig } from '../config/types.js';
import type { VarSource } from '../http/vars-types.js';
import { COMBINED, compileLogFormat, formatJson, type LineFormat } from './format.js';

/** One destination: a file descriptor and the lines waiting for it (byte strings, see escape.ts). */
class Sink {
  private buffer: string[] = [];
  private scheduled = false;
  private fd: number;

  constructor(private readonly target: 'stdout' | 'stderr' | { file: string }) {
    this.fd = this.open();
  }

  private open(): number {
    if (this.target === 'stdout') return 1;
    if (this.target === 'stderr') return 2;
    return fs.openSync(this.target.file, 'a', 0o640);
  }

  push(line: string): void {
    this.buffer.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.buffer.length === 0) return;
    const bytes = Buffer.from(this.buffer.join(''), 'latin1');
    this.buffer = [];
    try {
      if (this.fd === 1) process.stdout.write(bytes);
      else if (this.fd === 2) process.stderr.write(bytes);
      else fs.writeSync(this.fd, bytes);
    } catch {
      // A closed stdout (EPIPE) or a full disk must not take the proxy down; the lines are lost, as nginx's would be.
    }
  }

  /** logrotate moved the file away: write on in a new one at the same path (nginx -s reopen). */
  reopen(): void {
    if (this.fd <= 2) return;
    this.flush();
    const old = this.fd;
    this.fd = this.open();
    fs.closeSync(old);
  }

  close(): void {
    this.flush();
    if (this.fd > 2) fs.closeSync(this.fd);
  }
}

/** The files the sites and routes of a config name, nested routes included. */
function settingsOf(sites: readonly SiteConfig[]): AccessLogSetting[] {
  const out: AccessLogSetting[] = [];
  const walk = (routes: readonly RouteConfig[]): void => {
    for (const r of routes) {
      if (r.accessLog) out.push(r.accessLog);
      if (r.routes) walk(r.routes);
    }
  };
  for (const s of sites) {
    if (s.accessLog) out.push(s.accessLog);
    walk(s.routes);
  }
  return out;
}

export class AccessLog {
  private readonly formats = new Map<string, LineFormat>();
  private readonly sinks = new Map<string, Sink>();
  private readonly defaultSink: Sink | undefined;
  private readonly defaultFormat: LineFormat;
  /** False when nothing is ever logged (log.access off and no site or route names a file). */
  readonly enabled: boolean;

  constructor(config: Pick<LogConfig, 'access' | 'format'> & Partial<Pick<LogConfig, 'formats'>>, sites: readonly SiteConfig[] = []) {
    this.formats.set('combined', compileLogFormat(COMBINED));
    this.formats.set('json', formatJson);
    for (const [name, f] of Object.entries(config.formats ?? {})) this.formats.set(name, compileLogFormat(f.format, f.escape));
    this.defaultFormat = this.formats.get(config.format) ?? (this.formats.get('combined') as LineFormat);
    this.defaultSink = this.sinkFor(config.access);
    for (const setting of settingsOf(sites)) {
      if (setting !== 'off' && setting.file !== undefined) this.sinkFor({ file: setting.file });
    }
    this.enabled = this.sinks.size > 0;
  }

  private sinkFor(target: LogTarget): Sink | undefined {
    if (target === 'off') return undefined;
    const key = typeof target === 'string' ? target : `file:${target.file}`;
    let sink = this.sinks.get(key);
    if (!sink) {
      sink = new Sink(target);
      this.sinks.set(key, sink);
    }
    return sink;
  }

  /** One request's line; `setting` is the route's accessLog, else its site's. */
  log(vars: VarSource, setting?: AccessLogSetting): void {
    if (setting === 'off') return;
    const sink = setting?.file !== undefined ? this.sinks.get(`file:${setting.file}`) : this.defaultSink;
    if (!sink) return;
    const format = (setting?.format !== undefined ? this.formats.get(setting.format) : undefined) ?? this.defaultFormat;
    sink.push(`${format(vars)}\n`);
  }

  flush(): void {
    for (const sink of this.sinks.values()) sink.flush();
  }

  /** SIGUSR1: every file opened again at its path (after log rotation). */
  reopen(): void {
    for (const sink of this.sinks.values()) sink.reopen();
  }

  close(): void {
    for (const sink of this.sinks.values()) sink.close();
  }
}
