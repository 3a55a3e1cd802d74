#!/usr/bin/env node
// Node's floor for the bench: a bare Node TLS server that answers every request with one file's
// bytes from memory, with the validators gatehouse sends for a static file, and does nothing else
// (no routing, no proxying, no logging). Anything written on Node costs at least this much, so
// its ratio to nginx tells whether a target is within reach of any Node server, and gatehouse's
// ratio to it tells how much gatehouse itself adds.
//
// TLS settings are gatehouse's own (TLS_CONTEXT_OPTIONS from the build, dist/tls/tls-options.js):
// TLS 1.2/1.3, ECDHE + AEAD, the same curves, session tickets on.
//
//   node node-floor.mjs FILE [--proxy URL [--upstream-connections N]] [--h1 PORT:CERT:KEY]... [--h2 PORT:CERT:KEY]...
//
// --h1 listens with https.createServer (HTTP/1.1 only); --h2 with http2.createSecureServer and the
// core stream API (HTTP/2 only: a 'request' listener would switch every stream to the compat layer).
// --proxy URL makes the servers (HTTP/1.1 and HTTP/2) a proxy instead, as few lines as one can write:
// each request goes to URL over undici's keep-alive pool (gatehouse's HTTP client) and the answer is
// piped back with its status, type and length. That is the floor for a Node proxy, where the
// proxying steps compare. The pool opens at most 32 connections and queues the other requests;
// --upstream-connections 0 opens one per concurrent request instead, as nginx and gatehouse do, so
// that a comparison under hundreds of requests in flight sets the same concurrency model side by side.
// Prints nothing unless it fails: the bench reads its log as news.
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { Pool } from 'undici';
import { TLS_CONTEXT_OPTIONS as TLS } from '../../dist/tls/tls-options.js';

const [file, ...rest] = process.argv.slice(2);
if (!file || rest.length === 0 || rest.length % 2) {
  console.error('usage: node node-floor.mjs FILE [--proxy URL [--upstream-connections N]] [--h1 PORT:CERT:KEY]... [--h2 PORT:CERT:KEY]...');
  process.exit(2);
}
const connsAt = rest.indexOf('--upstream-connections');
const upstreamConnections = connsAt === -1 ? 32 : Number(rest.splice(connsAt, 2)[1]);
const proxyAt = rest.indexOf('--proxy');
const upstream = proxyAt === -1 ? undefined : new Pool(rest.splice(proxyAt, 2)[1], { connections: upstreamConnections || null });
const body = fs.readFileSync(file);
const stat = fs.statSync(file);
const mtime = Math.floor(stat.mtimeMs / 1000);
const etag = `"${mtime.toString(16)}-${body.length.toString(16)}"`;
const lastModified = new Date(mtime * 1000).toUTCString();

function proxyServer(opts) {
  return https.createServer({ ...opts, keepAliveTimeout: 120_000 }, (req, res) => {
    upstream.request({ method: req.method, path: req.url, headers: { host: req.headers.host ?? '' } }).then(
      (up) => {
        const head = { 'content-type': up.headers['content-type'] ?? 'application/octet-stream' };
        if (up.headers['content-length'] !== undefined) head['content-length'] = up.headers['content-length'];
        res.writeHead(up.statusCode, head);
        up.body.pipe(res);
      },
      () => {
        res.writeHead(502, { 'content-length': 0 });
        res.end();
      },
    );
  });
}

function h1Server(opts) {
  if (upstream) return proxyServer(opts);
  return https.createServer({ ...opts, keepAliveTimeout: 120_000 }, (req, res) => {
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
      etag,
      'last-modified': lastModified,
      'accept-ranges': 'bytes',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}

function h2ProxyStream(stream, headers) {
  stream.on('error', () => undefined);
  upstream.request({ method: headers[':method'], path: headers[':path'], headers: { host: headers[':authority'] ?? '' } }).then(
    (up) => {
      // a client gone before the answer (h2load closing at the end of a run): undici's body errors on destroy
      if (stream.destroyed) return up.body.on('error', () => undefined).destroy();
      const head = { ':status': up.statusCode, 'content-type': up.headers['content-type'] ?? 'application/octet-stream' };
      if (up.headers['content-length'] !== undefined) head['content-length'] = up.headers['content-length'];
      stream.respond(head);
      up.body.pipe(stream);
    },
    () => {
      if (!stream.destroyed) stream.respond({ ':status': 502, 'content-length': 0 }, { endStream: true });
    },
  );
}

function h2Server(opts) {
  const server = http2.createSecureServer({ ...opts, settings: { maxConcurrentStreams: 256 } });
  if (upstream) {
    server.on('stream', h2ProxyStream);
    server.on('sessionError', () => undefined);
    return server;
  }
  server.on('stream', (stream, headers) => {
    const head = headers[':method'] === 'HEAD';
    stream.respond({
      ':status': 200,
      'content-type': 'application/octet-stream',
      'content-length': body.length,
      etag,
      'last-modified': lastModified,
      'accept-ranges': 'bytes',
    }, { endStream: head });
    if (!head) stream.end(body);
  });
  server.on('sessionError', () => undefined);
  return server;
}

const listening = [];
for (let i = 0; i < rest.length; i += 2) {
  const [port, cert, key] = rest[i + 1].split(':');
  const opts = { ...TLS, cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
  const server = rest[i] === '--h2' ? h2Server(opts) : h1Server(opts);
  server.on('tlsClientError', () => undefined);
  listening.push(new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(port), '127.0.0.1', resolve);
  }));
}
await Promise.all(listening);
