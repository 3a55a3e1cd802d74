// Finding and reading the files an `include` names, as ngx_conf_include and ngx_conf_full_name do,
// plus the bounds nginx does not have: a hostile or broken config (an include of itself, a glob that
// matches its own file, a chain of includes that doubles at each step) ends in a positioned error,
// not in a hang or an exhausted heap.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SourcePos } from '../types.js';
import { nginxError } from './errors.js';
import { globSync, hasGlobMagic } from './glob.js';
import { BUILTIN_DIR, builtinText, STOCK_DIR, stockNameOf } from './stock.js';

export interface IncludeLimits {
  /** Files open at once, main file included (nginx has no bound; a cycle would run out of fds). Default 32. */
  maxIncludeDepth: number;
  /** Bytes read in all, counting a file again each time it is included. Default 16 MiB. */
  maxTotalBytes: number;
  /** Files read in all, counting repeats (an empty file included 2^20 times costs no bytes). Default 4096. */
  maxFiles: number;
}

export const DEFAULT_INCLUDE_LIMITS: IncludeLimits = { maxIncludeDepth: 32, maxTotalBytes: 16 * 1024 * 1024, maxFiles: 4096 };

/** One file an include names: a path, or a stock file missing at that path. */
export interface IncludeFile {
  path: string;
  stock?: string;
}

export type Resolved = { resolved: string; files: IncludeFile[]; missing?: undefined } | { resolved: string; files?: undefined; missing: string };

/** nginx's strerror text, for messages that read like nginx's own ("open() ... failed (2: No such file or directory)"). */
const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EMFILE: 'Too many open files',
};

function systemError(call: string, file: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  const errno = (os.constants.errno as Record<string, number | undefined>)[code] ?? 0;
  return `${call}() "${file}" failed (${errno}: ${STRERROR[code] ?? (err as Error).message})`;
}

function realpathOr(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

function tooLarge(file: string, limit: number): string {
  return `"${file}" is too large: the configuration with its includes may take ${limit} bytes in all`;
}

/** Reads a whole file, refusing what could block (a FIFO) and what exceeds `budget` of the `limit` bytes. */
function readBounded(file: string, budget: number, limit: number, pos: SourcePos): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw nginxError(pos, systemError('open', file, err));
  }
  if (st.isDirectory()) throw nginxError(pos, systemError('pread', file, Object.assign(new Error('EISDIR'), { code: 'EISDIR' })));
  if (st.isFIFO() || st.isSocket()) throw nginxError(pos, `"${file}" is not a regular file`);
  if (st.size > budget) throw nginxError(pos, tooLarge(file, limit));
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw nginxError(pos, systemError('open', file, err));
  }
  try {
    // Like nginx, read the size fstat gives (a device such as /dev/zero reads as empty).
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = fs.readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } catch (err) {
    throw nginxError(pos, systemError('pread', file, err));
  } finally {
    fs.closeSync(fd);
  }
}

export class IncludeReader {
  /** Every file read, main file first. */
  readonly files: string[] = [];
  private readonly prefix: string;
  private readonly stockDir: string;
  private readonly limits: IncludeLimits;
  /** The files being parsed, outermost first: labels for messages, real paths to find cycles. */
  private readonly stack: Array<{ label: string; real: string }> = [];
  private bytes = 0;

  constructor(mainFile: string, options: Partial<IncludeLimits> & { prefix?: string; stockDir?: string }) {
    this.prefix = path.resolve(options.prefix ?? path.dirname(path.resolve(mainFile)));
    this.stockDir = options.stockDir ?? STOCK_DIR;
    this.limits = {
      maxIncludeDepth: options.maxIncludeDepth ?? DEFAULT_INCLUDE_LIMITS.maxIncludeDepth,
      maxTotalBytes: options.maxTotalBytes ?? DEFAULT_INCLUDE_LIMITS.maxTotalBytes,
      maxFiles: options.maxFiles ?? DEFAULT_INCLUDE_LIMITS.maxFiles,
    };
  }

  static readMain(file: string, pos: SourcePos, limits: Partial<IncludeLimits>): string {
    const limit = limits.maxTotalBytes ?? DEFAULT_INCLUDE_LIMITS.maxTotalBytes;
    return readBounded(file, limit, limit, pos);
  }

  enterMain(file: string, text: string): void {
    this.files.push(file);
    this.bytes += Buffer.byteLength(text);
    if (this.bytes > this.limits.maxTotalBytes) {
      throw nginxError({ file, line: 1, col: 1 }, tooLarge(file, this.limits.maxTotalBytes));
    }
    this.stack.push({ label: file, real: realpathOr(file) });
  }

  /** ngx_conf_full_name with the conf prefix: an absolute name as is, a relative one appended to the prefix. */
  fullName(name: string): string {
    return name.startsWith('/') ? name : `${this.prefix.replace(/\/+$/, '')}/${name}`;
  }

  /** The files `name` stands for: a glob's matches (none is fine), or one file that must exist. */
  resolve(name: string): Resolved {
    const resolved = this.fullName(name);
    if (hasGlobMagic(resolved)) return { resolved, files: globSync(resolved).map((p) => ({ path: p })) };
    try {
      fs.statSync(resolved);
      return { resolved, files: [{ path: resolved }] };
    } catch (err) {
      const stock = stockNameOf(resolved);
      if (stock !== undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') return { resolved, files: [{ path: resolved, stock }] };
      return { resolved, missing: systemError('open', resolved, err) };
    }
  }

  /** Reads one included file (or its stock stand-in) and marks it open; `leave` when parsed. */
  open(file: IncludeFile, pos: SourcePos): { text: string; label: string } {
    if (this.files.length >= this.limits.maxFiles) {
      throw nginxError(pos, `more than ${this.limits.maxFiles} included files read in all; is an include repeated in a loop?`);
    }
    if (this.stack.length >= this.limits.maxIncludeDepth) {
      throw nginxError(pos, `includes nested more than ${this.limits.maxIncludeDepth} deep`);
    }
    const source = this.locate(file);
    this.checkCycle(source.label, source.real, pos);
    const budget = this.limits.maxTotalBytes - this.bytes;
    const text = source.builtin ?? readBounded(source.label, budget, this.limits.maxTotalBytes, pos);
    const bytes = Buffer.byteLength(text);
    if (bytes > budget) throw nginxError(pos, tooLarge(source.label, this.limits.maxTotalBytes));
    this.bytes += bytes;
    this.files.push(source.label);
    this.stack.push(source);
    return { text, label: source.label };
  }

  /** Where an included file's text comes from: its path, else the stock folder, else the built-in copy. */
  private locate(file: IncludeFile): { label: string; real: string; builtin?: string } {
    if (file.stock === undefined) return { label: file.path, real: realpathOr(file.path) };
    const onDisk = path.join(this.stockDir, file.stock);
    if (fs.existsSync(onDisk)) return { label: onDisk, real: realpathOr(onDisk) };
    const label = `${BUILTIN_DIR}/${file.stock}`;
    return { label, real: label, builtin: builtinText(file.stock) ?? '' };
  }

  leave(): void {
    this.stack.pop();
  }

  private checkCycle(label: string, real: string, pos: SourcePos): void {
    const at = this.stack.findIndex((f) => f.real === real);
    if (at < 0) return;
    const chain = [...this.stack.slice(at).map((f) => f.label), label].map((l) => `"${l}"`).join(' -> ');
    throw nginxError(pos, `include cycle: ${chain}`);
  }
}
