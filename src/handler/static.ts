// Static files under a route's `root`: GET/HEAD, index files, the directory trailing-slash
// redirect, MIME types, validators and conditional GET. The path is already normalised by the
// router (no `..` can survive), and symlinks are resolved and checked against the root.
import fs from 'node:fs';
import path from 'node:path';
import mime from 'mime-types';
import type { ResponseHeaders } from '../listener/exchange.js';
import type { RequestContext } from './context.js';
import { sendRedirect, sendStatus } from './respond.js';
import { escapeUriPath } from '../router/uri-bytes.js';

export interface StaticRuntime {
  root: string;
  index: string[];
  hsts: string | undefined;
}

interface Found {
  file: string;
  stat: fs.Stats;
}

async function resolveInRoot(root: string, rel: string): Promise<Found | 'dir' | undefined> {
  const candidate = path.join(root, rel);
  let real: string;
  try {
    real = await fs.promises.realpath(candidate);
  } catch {
    return undefined;
  }
  const realRoot = await fs.promises.realpath(root).catch(() => root);
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) return undefined;
  const stat = await fs.promises.stat(real).catch(() => undefined);
  if (!stat) return undefined;
  if (stat.isDirectory()) return 'dir';
  return stat.isFile() ? { file: real, stat } : undefined;
}

/** nginx's ETag: hex mtime (seconds) and hex size. */
function etagOf(stat: fs.Stats): string {
  return `"${Math.floor(stat.mtimeMs / 1000).toString(16)}-${stat.size.toString(16)}"`;
}

function notModified(ctx: RequestContext, etag: string, mtime: Date): boolean {
  const inm = ctx.ex.headers['if-none-match'];
  if (inm !== undefined) {
    return inm.split(',').some((t) => {
      const tag = t.trim();
      return tag === '*' || tag === etag || tag === `W/${etag}`;
    });
  }
  const ims = ctx.ex.headers['if-modified-since'];
  if (ims !== undefined) {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && Math.floor(mtime.getTime() / 1000) * 1000 <= since;
  }
  return false;
}

export async function handleStatic(ctx: RequestContext, rt: StaticRuntime): Promise<void> {
  const { ex } = ctx;
  if (ex.method !== 'GET' && ex.method !== 'HEAD') {
    sendStatus(ctx, 405, { allow: 'GET, HEAD' });
    return;
  }
  let found = await resolveInRoot(rt.root, ctx.path);
  if (found === 'dir') {
    if (!ctx.path.endsWith('/')) {
      sendRedirect(ctx, 301, `${escapeUriPath(ctx.path)}/${ctx.args ? `?${ctx.args}` : ''}`);
      return;
    }
    found = undefined;
    for (const name of rt.index) {
      const hit = await resolveInRoot(rt.root, ctx.path + name);
      if (hit && hit !== 'dir') {
        found = hit;
        break;
      }
    }
    if (!found) {
      sendStatus(ctx, 403);
      return;
    }
  }
  if (!found) {
    sendStatus(ctx, 404);
    return;
  }
  if (ex.closed) return;
  const { file, stat } = found;
  const etag = etagOf(stat);
  const headers: ResponseHeaders = {
    'last-modified': stat.mtime.toUTCString(),
    etag,
    'accept-ranges': 'bytes',
  };
  if (rt.hsts !== undefined && ex.conn.secure) headers['strict-transport-security'] = rt.hsts;
  if (notModified(ctx, etag, stat.mtime)) {
    ex.respond(304, headers, '');
    return;
  }
  headers['content-type'] = mime.contentType(path.extname(file)) || 'application/octet-stream';
  headers['content-length'] = stat.size;
  ex.respond(200, headers);
  if (ex.method === 'HEAD' || stat.size === 0) {
    ex.end();
    return;
  }
  const stream = fs.createReadStream(file, { highWaterMark: 64 * 1024 });
  ex.onClose((aborted) => {
    if (aborted) stream.destroy();
  });
  stream.on('data', (chunk) => {
    if (!ex.write(chunk as Buffer)) {
      stream.pause();
      ex.onDrain(() => stream.resume());
    }
  });
  stream.on('end', () => ex.end());
  stream.on('error', () => ex.abort());
}
