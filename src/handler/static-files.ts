// Looking up a request path under a route's `root`, with a short-lived cache of the answers
// (nginx's open_file_cache, Caddy has none): realpath + stat + read per request cost more than the
// rest of serving a small file. Entries live LOOKUP_TTL_MS, so a change on disk shows within
// about a second (nginx's open_file_cache_valid defaults to 60 s); small files keep their bytes,
// read through the same lookup, so body, size and ETag always agree.
//
// Nothing outside the root is served:
// - the path is already normalised by the router (`..`, `%2e%2e`, `%2f`, NUL are resolved or
//   refused with 400 before we get here); a path that still holds a `..` segment (from a tryFiles
//   template with a header in it), a NUL, or bytes that are not UTF-8 (they cannot name a file
//   through Node's string paths without being changed) is not found;
// - symlinks are resolved with realpath() and the target must lie inside the root's own real path
//   (`symlinks: inside`, the default); `follow` serves any target (nginx's default, disable_symlinks
//   off), `refuse` serves no path that goes through a symlink below the root (disable_symlinks on);
// - dotfiles and dot-directories (`.git`, `.env`, `.htpasswd`) are not found, except under
//   `/.well-known/` (RFC 8615). nginx serves them unless told `location ~ /\. { deny all; }`.
import fs from 'node:fs';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
import { NATIVE_CONTENT_TYPES, type ContentTypes } from './content-types.js';
import { PRECOMPRESSED, type StaticEncoding } from './static-encoding.js';

export type SymlinkPolicy = 'inside' | 'follow' | 'refuse';

/** One file as it is sent: the identity file, or a precompressed one beside it. */
export interface Representation {
  file: string;
  size: number;
  mtimeSec: number;
  etag: string;
  lastModified: string;
  /** The whole content, for files up to SMALL_FILE bytes. */
  body?: Buffer;
}

export interface StaticFile extends Representation {
  kind: 'file';
  /** From the requested name's extension, as nginx does (not the symlink target's). */
  contentType: string;
  encoded: ReadonlyMap<StaticEncoding, Representation>;
  /** The encodings in `encoded`, for negotiation. */
  available: ReadonlySet<StaticEncoding>;
}

export type Lookup = StaticFile | { kind: 'dir' } | { kind: 'error'; status: number };

export const LOOKUP_TTL_MS = 1000;
const SMALL_FILE = 64 * 1024;
const MAX_ENTRIES = 10_000;
const MAX_CACHED_BYTES = 64 * 1024 * 1024;

const NOT_FOUND: Lookup = { kind: 'error', status: 404 };
const FORBIDDEN: Lookup = { kind: 'error', status: 403 };
const DIR: Lookup = { kind: 'dir' };

/** How nginx answers a failed open (ngx_http_static_handler). */
function errorLookup(err: unknown): Lookup {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return NOT_FOUND;
    case 'EACCES':
    case 'EPERM':
    case 'ELOOP':
      return FORBIDDEN;
    case 'ENAMETOOLONG':
      return { kind: 'error', status: 414 };
    default:
      return { kind: 'error', status: 500 };
  }
}

/** String.prototype.isWellFormed (ES2024, in Node 20): false when the string holds a lone surrogate. */
type WellFormed = string & { isWellFormed(): boolean };

/** False for paths that must not reach the file system at all (see the header comment). */
export function servablePath(rel: string): boolean {
  if (rel.charCodeAt(0) !== 0x2f || rel.includes('\0') || !(rel as WellFormed).isWellFormed()) return false;
  let start = 1;
  while (start < rel.length) {
    let end = rel.indexOf('/', start);
    if (end === -1) end = rel.length;
    if (rel.charCodeAt(start) === 0x2e) {
      const seg = rel.slice(start, end);
      if (seg !== '.well-known' || start !== 1) return false;
    }
    start = end + 1;
  }
  return true;
}

/** nginx's ETag: hex mtime (seconds) and hex size; precompressed files get their coding appended. */
function representation(file: string, stat: fs.Stats, body: Buffer | undefined, coding?: StaticEncoding): Representation {
  const mtimeSec = Math.floor(stat.mtimeMs / 1000);
  const size = body ? body.length : stat.size;
  const tag = `${mtimeSec.toString(16)}-${size.toString(16)}${coding ? `-${coding}` : ''}`;
  const rep: Representation = { file, size, mtimeSec, etag: `"${tag}"`, lastModified: new Date(mtimeSec * 1000).toUTCString() };
  if (body) rep.body = body;
  return rep;
}

function entrySize(v: Lookup): number {
  if (v.kind !== 'file') return 64;
  let n = 256 + (v.body?.length ?? 0);
  for (const e of v.encoded.values()) n += 128 + (e.body?.length ?? 0);
  return n;
}

/**
 * One budget for the whole process, shared by every route and config snapshot (keys start with
 * the root and the symlink policy): many routes must not mean many times the memory.
 */
const cache = new LRUCache<string, Lookup>({
  max: MAX_ENTRIES,
  maxSize: MAX_CACHED_BYTES,
  sizeCalculation: entrySize,
  ttl: LOOKUP_TTL_MS,
});
/** Lookups in flight, so that a burst of requests for one new path costs one read. */
const pending = new Map<string, Promise<Lookup>>();

export class StaticFiles {
  private realRoot: { value: Promise<string | undefined>; at: number } | undefined;
  private readonly root: string;
  private readonly prefix: string;

  constructor(
    root: string,
    private readonly symlinks: SymlinkPolicy,
    private readonly types: ContentTypes = NATIVE_CONTENT_TYPES,
  ) {
    this.root = root.length > 1 && root.endsWith('/') ? root.slice(0, -1) : root;
    this.prefix = `${this.root}\0${symlinks}\0${types.id}\0`;
  }

  /** Synchronous when the answer is cached, which is the common case. */
  lookup(rel: string): Lookup | Promise<Lookup> {
    const key = this.prefix + rel;
    const hit = cache.get(key);
    if (hit) return hit;
    let p = pending.get(key);
    if (!p) {
      p = this.load(rel).then(
        (v) => {
          pending.delete(key);
          if (!(v.kind === 'error' && v.status === 500)) cache.set(key, v);
          return v;
        },
        (err: unknown) => {
          pending.delete(key);
          throw err;
        },
      );
      pending.set(key, p);
    }
    return p;
  }

  private rootReal(): Promise<string | undefined> {
    const now = performance.now();
    if (!this.realRoot || now - this.realRoot.at > LOOKUP_TTL_MS) {
      this.realRoot = { value: fs.promises.realpath(this.root).catch(() => undefined), at: now };
    }
    return this.realRoot.value;
  }

  private async load(rel: string): Promise<Lookup> {
    if (!servablePath(rel)) return NOT_FOUND;
    const realRoot = await this.rootReal();
    if (realRoot === undefined) return NOT_FOUND;
    const found = await this.resolve(realRoot, rel);
    if ('kind' in found) return found;
    if (found.stat.isDirectory()) return DIR;
    if (!found.stat.isFile()) return NOT_FOUND;
    const [identity, ...variants] = await Promise.all([
      this.read(found.real, found.stat),
      ...PRECOMPRESSED.map(([coding, suffix]) => this.variant(realRoot, rel + suffix, coding)),
    ]);
    if ('kind' in identity) return identity;
    const encoded = new Map<StaticEncoding, Representation>();
    for (const v of variants) if (v) encoded.set(v[0], v[1]);
    return {
      kind: 'file',
      ...identity,
      contentType: this.types.of(path.extname(rel)),
      encoded,
      available: new Set(encoded.keys()),
    };
  }

  private async variant(realRoot: string, rel: string, coding: StaticEncoding): Promise<[StaticEncoding, Representation] | undefined> {
    const found = await this.resolve(realRoot, rel);
    if ('kind' in found || !found.stat.isFile()) return undefined;
    const rep = await this.read(found.real, found.stat, coding);
    return 'kind' in rep ? undefined : [coding, rep];
  }

  private async resolve(realRoot: string, rel: string): Promise<{ real: string; stat: fs.Stats } | Lookup> {
    const candidate = this.root + (rel.length > 1 && rel.endsWith('/') ? rel.slice(0, -1) : rel);
    let real: string;
    let stat: fs.Stats;
    try {
      real = await fs.promises.realpath(candidate);
      stat = await fs.promises.stat(real);
    } catch (err) {
      return errorLookup(err);
    }
    // A name ending in "/" is a directory or nothing: open("file/") fails with ENOTDIR, which nginx
    // answers 404, before any symlink rule. The router keeps the slash of `/x.php/`, `/x.ini//` and
    // `/x.ini/.`, and regex locations anchored with `$` do not match them, so serving the file would
    // hand out PHP source and get round `~ \.(ini|sql)$` deny rules (security review F3).
    if (rel.endsWith('/') && !stat.isDirectory()) return NOT_FOUND;
    if (this.symlinks === 'refuse') {
      // realpath() of a path without symlinks is the real root plus the same relative path.
      const expected = rel === '/' ? realRoot : realRoot + (rel.endsWith('/') ? rel.slice(0, -1) : rel);
      if (real !== expected) return FORBIDDEN;
    } else if (this.symlinks === 'inside') {
      if (real !== realRoot && !real.startsWith(realRoot === '/' ? '/' : realRoot + path.sep)) return FORBIDDEN;
    }
    return { real, stat };
  }

  private async read(file: string, stat: fs.Stats, coding?: StaticEncoding): Promise<Representation | Lookup> {
    if (stat.size > SMALL_FILE) return representation(file, stat, undefined, coding);
    try {
      return representation(file, stat, await fs.promises.readFile(file), coding);
    } catch (err) {
      return errorLookup(err);
    }
  }
}
