// Static files under a route's `root`: GET/HEAD, index files, the directory trailing-slash
// redirect, precompressed `.br`/`.gz` files, validators, conditional requests and ranges.
// Finding the file (and keeping out of the root) is static-files.ts's job.
//
// Content-Type comes from mime-types, with `; charset=utf-8` on text types (text/*, JavaScript,
// JSON...) as Caddy sends; nginx sends no charset unless `charset utf-8;` is configured, and
// browsers then guess, which is how UTF-8 pages end up shown as Latin-1. Under `mimeTypes`
// (nginx's table) the route's `charset` adds it (request/response-filter.ts).
import { withCharset } from '../http/charset.js';
import type { ResponseHeaders } from '../http/exchange.js';
import { escapeUriPath } from '../http/uri-bytes.js';
import type { RequestContext } from '../request/context.js';
import { inherited } from '../request/inherit.js';
import { sendRedirect, sendStatus } from '../http/respond.js';
import { evaluatePreconditions, ifRangeHolds } from './static-conditional.js';
import { chooseEncoding } from './static-encoding.js';
import type { DocumentMap } from './static-alias.js';
import type { Lookup, StaticFile, StaticFiles } from './static-files.js';
import { parseRange } from './static-range.js';
import { sendMultipart, sendRange, sendWhole } from './static-send.js';

export interface StaticRuntime {
  files: StaticFiles;
  /** How URIs name files when not simply under `files`' root (`alias`, static-alias.ts). */
  doc?: DocumentMap;
  index: string[];
  hsts: string | undefined;
}

export function handleStatic(ctx: RequestContext, rt: StaticRuntime): void | Promise<void> {
  const { ex } = ctx;
  // ngx_http_static_handler: POST is looked up too (404 for a missing file, 405 for a file).
  if (ex.method !== 'GET' && ex.method !== 'HEAD' && ex.method !== 'POST') {
    sendStatus(ctx, 405, { allow: 'GET, HEAD' });
    return;
  }
  const rel = rt.doc ? rt.doc.file(ctx) : ctx.path;
  if (rel === undefined) {
    sendStatus(ctx, 404);
    return;
  }
  const r = rt.files.lookup(rel);
  if (r instanceof Promise) return r.then((found) => serve(ctx, rt, found, rel));
  return serve(ctx, rt, r, rel);
}

function serve(ctx: RequestContext, rt: StaticRuntime, found: Lookup, rel: string): void | Promise<void> {
  if (ctx.ex.closed) return;
  if (found.kind === 'error') sendStatus(ctx, found.status);
  else if (found.kind === 'file' && ctx.ex.method === 'POST') sendStatus(ctx, 405, { allow: 'GET, HEAD' });
  else if (found.kind === 'file') sendFile(ctx, rt, found);
  else if (!ctx.path.endsWith('/')) sendRedirect(ctx, 301, `${escapeUriPath(ctx.path)}/${ctx.args ? `?${ctx.args}` : ''}`);
  else return serveIndex(ctx, rt, rel);
}

/**
 * nginx's index module: the first index name that is a file becomes an internal redirect, so a
 * `~ \.php$` location gets `/dir/index.php`; with none, 403 (nginx without autoindex).
 */
async function serveIndex(ctx: RequestContext, rt: StaticRuntime, dir: string): Promise<void> {
  for (const name of rt.index) {
    // ngx_http_index_module: the file is looked up beside the directory's file name (under the
    // alias too), the redirect goes to the URI plus the name.
    const uri = ctx.path + name;
    const r = rt.files.lookup(dir + name);
    const found = r instanceof Promise ? await r : r;
    if (found.kind === 'file') {
      ctx.env.internalRedirect(ctx, uri);
      return;
    }
  }
  sendStatus(ctx, 403);
}

function sendFile(ctx: RequestContext, rt: StaticRuntime, file: StaticFile): void {
  const { ex } = ctx;
  const coding = chooseEncoding(ex.headers['accept-encoding'], file.available);
  const rep = coding ? (file.encoded.get(coding) ?? file) : file;
  const headers: ResponseHeaders = {
    etag: rep.etag,
    'last-modified': rep.lastModified,
    'accept-ranges': 'bytes',
  };
  // Any response for a file with encoded siblings depends on Accept-Encoding (RFC 9110 §12.5.5).
  if (file.available.size > 0) headers.vary = 'Accept-Encoding';
  if (rt.hsts !== undefined && ex.conn.secure) headers['strict-transport-security'] = rt.hsts;

  const pre = evaluatePreconditions(ex.method, ex.headers, rep);
  if (pre === 412) {
    sendStatus(ctx, 412);
    return;
  }
  if (pre === 304) {
    // No Content-Length: in a 304 it would have to be the 200's (RFC 9110 §8.6).
    ex.respond(304, headers);
    ex.end();
    return;
  }
  headers['content-type'] = file.contentType;
  if (coding) headers['content-encoding'] = coding;

  // RFC 9110 §14.2: Range is defined for GET only.
  const rangeHeader = ex.method === 'GET' ? ex.headers.range : undefined;
  const range = rangeHeader !== undefined && ifRangeHolds(ex.headers, rep) ? parseRange(rangeHeader, rep.size) : undefined;
  if (range?.kind === 'unsatisfiable') {
    sendStatus(ctx, 416, { 'content-range': `bytes */${rep.size}` });
  } else if (range?.kind === 'ranges' && range.ranges.length === 1) {
    sendRange(ex, headers, rep, range.ranges[0] as (typeof range.ranges)[0]);
  } else if (range?.kind === 'ranges' && !coding) {
    // ngx_http_range_header_filter runs after the charset filter: each part names the charset.
    const charset = inherited(ctx, 'charset');
    const partType = charset !== undefined && charset !== 'off' ? withCharset(charset, 206, file.contentType) : undefined;
    sendMultipart(ex, headers, rep, range.ranges, partType ?? file.contentType);
  } else {
    // Several ranges of an encoded file would need a Content-Encoding per part, which HTTP has
    // not got; RFC 9110 §14.2 lets us ignore Range instead.
    sendWhole(ex, headers, rep);
  }
}
