// What every translation step shares: the messages found so far, where each generated value came
// from (so errors the native pipeline finds in the generated YAML point at the nginx line), and the
// adapter's options.
import path from 'node:path';
import type { ConfigIssue, SourcePos } from '../../types.js';
import type { Path } from '../../source.js';
import type { NginxArg, NginxDirective } from '../ast.js';
import { directiveInfo } from './table.js';

export interface AdaptOptions {
  /** `adapt --acme`: sites with certbot's live/NAME/ files become `tls: acme`. */
  acme?: boolean;
  /** `adapt --acme-directory`: the CA they renew from, written as `acme: { directory }` (default Let's Encrypt). */
  acmeDirectory?: string;
  /** `--strict`: directives accepted without effect are warnings too. */
  strict?: boolean;
  /**
   * `-p/--prefix`: nginx's prefix, against which relative root, alias, log and temp paths resolve
   * (Debian's /usr/share/nginx by default). Relative include, certificate and htpasswd paths resolve
   * against the conf prefix, which is always the main file's folder: nginx's ngx_process_options
   * sets it from `-c` after `-p`.
   */
  prefix?: string;
  /** `adapt --acme`: where the imported certificates go, written as `storage:`. */
  storage?: string;
}

/** Debian's `--prefix=/usr/share/nginx`: where nginx resolves `root html;` and relative log files. */
export const DEFAULT_NGINX_PREFIX = '/usr/share/nginx';

/** A certbot lineage a site used, for `adapt --acme` to import into the storage. */
export interface CertbotLineage {
  /** certbot's config folder (/etc/letsencrypt by default) + live/NAME */
  liveDir: string;
  hosts: string[];
  pos: SourcePos;
}

/** Thrown by a step that cannot go on; the issue is already recorded. */
export class Refused extends Error {}

export class AdaptCtx {
  readonly issues: ConfigIssue[] = [];
  /** Where generated values come from, as paths into the raw config; the emitter turns them into line marks. */
  readonly origins: Array<{ path: Path; pos: SourcePos }> = [];
  readonly certbot: CertbotLineage[] = [];
  /** log_format names defined so far (nginx looks a format up when access_log is read). */
  readonly logFormats = new Set<string>(['combined']);
  /** The file has no `http` block: a fragment meant for inclusion inside one. */
  fragment = false;
  /** The server being translated: variables it sets once to a constant (constants.ts). */
  serverConstants: ReadonlyMap<string, string> = new Map();

  constructor(
    readonly options: AdaptOptions,
    /** nginx's conf prefix: the main file's folder. */
    readonly confPrefix: string,
  ) {}

  rootPath(file: string): string {
    return absolute(this.options.prefix ?? DEFAULT_NGINX_PREFIX, file);
  }

  logPath(file: string): string {
    return absolute(this.options.prefix ?? DEFAULT_NGINX_PREFIX, file);
  }

  confPath(file: string): string {
    return absolute(this.confPrefix, file);
  }

  private readonly warned = new Set<string>();

  /** A warning about a directive several servers inherit, given once. */
  warnOnce(pos: SourcePos, message: string): void {
    const key = `${pos.file}:${pos.line}:${pos.col}:${message}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(pos, message);
  }

  error(pos: SourcePos, message: string): void {
    this.issues.push({ pos: { ...pos }, message, severity: 'error' });
  }

  warn(pos: SourcePos, message: string): void {
    this.issues.push({ pos: { ...pos }, message, severity: 'warning' });
  }

  /** Records that the value at `path` was written at `pos`. */
  from(path: Path, pos: SourcePos): void {
    this.origins.push({ path: [...path], pos: { ...pos } });
  }

  /** The table's verdict on a directive this step does not translate itself: refused, ignored or unknown. */
  other(d: NginxDirective, where: string): void {
    // An include still in the tree is one --allow-missing-includes kept: the parser has warned about it.
    if (d.name === 'include') return;
    const info = directiveInfo(d.name);
    if (!info) {
      this.error(d.pos, `unknown directive "${d.name}"${where ? ` in ${where}` : ''}: gatehouse does not know it (docs/nginx.md lists every directive it reads)`);
    } else if (info.class === 'refused') {
      this.error(d.pos, `"${d.name}" is not supported: ${info.note}`);
    } else if (info.class === 'ignored') {
      if (info.differs) this.warn(d.pos, `"${d.name}" has no effect: ${info.note}`);
      else if (this.options.strict) this.warn(d.pos, `"${d.name}" is accepted without effect: ${info.note}`);
    } else {
      this.error(d.pos, `"${d.name}" is not allowed ${where ? `in ${where}` : 'here'}`);
    }
  }

  /** nginx's "invalid number of arguments" check (ngx_conf_handler), at the directive. */
  args(d: NginxDirective, min: number, max = min): NginxArg[] {
    if (d.args.length < min || d.args.length > max) {
      this.error(d.pos, `invalid number of arguments in "${d.name}" directive`);
      throw new Refused();
    }
    return d.args;
  }
}

/** `on` / `off` as ngx_conf_set_flag_slot reads them. */
export function flag(ctx: AdaptCtx, d: NginxDirective): boolean {
  const [a] = ctx.args(d, 1);
  const v = a!.text.toLowerCase();
  if (v === 'on') return true;
  if (v === 'off') return false;
  ctx.error(a!.pos, `invalid value "${a!.text}" in "${d.name}" directive, it must be "on" or "off"`);
  throw new Refused();
}

/** Relative paths made absolute (gatehouse would read them against the config file's folder); templates stay. */
export function absolute(base: string, file: string): string {
  return path.isAbsolute(file) || file.includes('$') ? file : path.join(base, file);
}
