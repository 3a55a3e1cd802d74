// The proxy handler: picks a server, sends the request through its transport, and streams the
// response to the client with back-pressure both ways. Knows nothing of wire protocols.
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import type { CompiledHeaderOps } from '../http/header-ops.js';
import type { UpstreamPool, UpstreamServer } from '../upstream/pool.js';
import { UpstreamError, type UpstreamCall, type UpstreamRequest } from '../transport/types.js';
import { prepareBody, type PreparedBody } from '../transport/cgi/body.js';
import type { BodyOptions } from '../transport/cgi/options.js';
import type { RequestContext } from '../request/context.js';
import { clientResponseHeaders, upgradeResponseHeaders, upstreamRequestHeaders, type RequestHeaderPolicy, type UpstreamResponsePolicy } from './proxy-headers.js';
import { hasErrorPage } from '../request/error-pages.js';
import { refuseBody, sendStatus } from '../http/respond.js';
import { statusForUpstreamError } from './upstream-errors.js';
import { BodyGate, countsAsServerFailure, mayRetry, mayRetryStatus } from './proxy-retry.js';
import { targetFor } from './upstream-target.js';

export interface ProxyRuntime {
  pool: UpstreamPool;
  /** Builds the upstream path from the request (nginx proxy_pass rules). */
  path(ctx: RequestContext): string;
  requestHeaders: RequestHeaderPolicy;
  responseOps: CompiledHeaderOps | undefined;
  /** issue 17: proxy_hide_header / proxy_pass_header and proxy_redirect. */
  responsePolicy: UpstreamResponsePolicy;
  /** issue 17: nginx's proxy_intercept_errors: a status >= 300 the location has an error page for gets that page. */
  interceptErrors: boolean;
  hsts: string | undefined;
  maxBody: number | undefined;
  readTimeoutMs: number | undefined;
  /** Extra attempts on other servers (README "Configuration reference" `retries`; the rules are in proxy-retry.ts). */
  retries: number;
  /** nginx's proxy_next_upstream http_*: statuses that send the request to the next server instead. */
  retryStatuses: ReadonlySet<number>;
  /** Adds protocol-specific values (FastCGI/uwsgi/SCGI params) to the upstream request. */
  decorate?(ctx: RequestContext, req: UpstreamRequest): void;
  /** Set when an HTTP route reads the whole body before it is sent (`requestBuffering: true`). */
  buffer?: BodyOptions;
  /** `Upgrade` protocols tunnelled to the upstream, lower-case. */
  upgrade: ReadonlySet<string>;
  /** A bridged tunnel with no byte either way for this long is closed (route `tunnelIdle`). */
  tunnelIdleMs: number;
}

class BodyLimit extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) cb(new UpstreamError('EBODY', 'request body over maxBody'));
    else cb(null, chunk);
  }
}

export function handleProxy(ctx: RequestContext, rt: ProxyRuntime): void {
  const { ex } = ctx;
  let body = ex.body;
  const limit = { over: false };
  if (rt.maxBody !== undefined && body) {
    const declared = Number(ex.headers['content-length'] ?? NaN);
    if (declared > rt.maxBody) {
      refuseBody(ctx);
      return;
    }
    if (Number.isNaN(declared)) {
      const limiter = new BodyLimit(rt.maxBody);
      limiter.on('error', () => {
        limit.over = true;
      });
      body = body.pipe(limiter);
    }
  }
  if (rt.buffer && body) bufferThenSend(ctx, rt, body, limit);
  else send(ctx, rt, body, undefined, limit);
}

/**
 * `requestBuffering: true` on an HTTP route (nginx's proxy_request_buffering on): the whole body is
 * read before a server is picked, so a slow client never holds an upstream connection.
 */
function bufferThenSend(ctx: RequestContext, rt: ProxyRuntime, body: Readable, limit: { over: boolean }): void {
  const { ex } = ctx;
  const cl = ex.headers['content-length'];
  const declared = typeof cl === 'string' && /^\d+$/.test(cl) ? Number(cl) : undefined;
  const reading = new AbortController();
  ex.onClose((aborted) => aborted && reading.abort());
  prepareBody(body, declared, reading.signal, rt.buffer).then(
    (prepared) => {
      if (ex.closed) {
        prepared.dispose();
        return;
      }
      send(ctx, rt, prepared.stream, prepared, limit);
    },
    (err: Error) => {
      if (ex.closed) return;
      if (limit.over) refuseBody(ctx);
      else sendStatus(ctx, statusForUpstreamError(err));
    },
  );
}

function send(ctx: RequestContext, rt: ProxyRuntime, body: Readable | undefined, prepared: PreparedBody | undefined, limit: { over: boolean }): void {
  const { ex } = ctx;
  const headers = upstreamRequestHeaders(ctx, rt.requestHeaders);
  if (prepared) {
    // Read whole: the length is known now, whatever framing the client used.
    delete headers['transfer-encoding'];
    headers['content-length'] = String(prepared.length);
    ex.onClose(() => prepared.dispose());
  }
  const req: UpstreamRequest = {
    method: ex.method,
    path: targetFor(ctx, rt),
    headers,
    body,
    ...(rt.readTimeoutMs !== undefined ? { readTimeoutMs: rt.readTimeoutMs } : {}),
  };
  // Only the protocols the route allows are tunnelled (`upgrade`, websocket by default); any other
  // Upgrade (h2c, ...) goes on as a plain request, its Upgrade dropped as the hop-by-hop header it
  // is. A tunnel would carry requests past every location rule (h2c smuggling).
  const tunnel = ex.tunnel;
  const tunnelled = tunnel !== undefined && tunnel.possible && rt.upgrade.has(tunnel.upgradeTo);
  // issue 17: nginx configs set Connection and Upgrade by hand for WebSockets (`Connection
  // $connection_upgrade`); here the tunnel sends them itself, and a request that is not tunnelled
  // must not ask the upstream to switch (h2c smuggling), so only `close` of theirs goes on; under
  // `defaults: nginx` any other value (`upgrade` from $connection_upgrade) is nginx's default, close.
  if (headers.upgrade !== undefined) delete headers.upgrade;
  if (headers.connection !== undefined && (tunnelled || !/^\s*(close|keep-alive)\s*$/i.test(String(headers.connection)))) {
    if (tunnelled || rt.requestHeaders.style === 'native') delete headers.connection;
    else headers.connection = 'close';
  }
  if (tunnel) {
    if (tunnelled) tunnel.prepare(req);
    else if (tunnel.required) {
      sendStatus(ctx, 501);
      return;
    }
  }
  rt.decorate?.(ctx, req);
  const source = req.body;
  // ip-hash keys on $remote_addr, as nginx's ip_hash does.
  const pick = { clientKey: ctx.vars.remoteAddr };
  const tried = new Set<UpstreamServer>();
  let call: UpstreamCall | undefined;
  let finished = false;
  let intercepted = false;
  ex.onClose((aborted) => {
    if (aborted && !finished) call?.abort(new Error('client closed the connection'));
  });
  // The close callback above keeps this scope alive until the client's stream closes, which under load
  // is well after the upstream's answer has ended (HTTP/2 frames still queued for the client). So a call
  // that is over is let go (`call = undefined` in onEnd and in onError's last word): undici's request,
  // controller and the upstream's raw header buffers then die young instead of being copied by every
  // scavenge (docs/performance.md, "GC under many concurrent requests").

  const attempt = (server: UpstreamServer): void => {
    tried.add(server);
    // Set when this attempt's answer was dropped for the next server's: its late events are ignored.
    let superseded = false;
    // Only a request that may be retried pays for the gate (proxy-retry.ts).
    const gate = source && rt.retries > 0 ? new BodyGate(source) : undefined;
    req.body = gate ?? source;
    // least-conn and random-two weigh this; it drops when the response ends or fails.
    server.inFlight += 1;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      server.inFlight -= 1;
    };
    const startedAt = performance.now();
    ctx.upstreamAddr = server.transport.address;
    ctx.upstreamStartedAt = startedAt;
    call = server.transport.request(req, {
      onHeaders(status, headers: IncomingHttpHeaders) {
        const headMs = performance.now() - startedAt;
        ctx.upstreamTime = headMs / 1000;
        ctx.upstreamStatus = status;
        ctx.upstreamHeaders = headers;
        rt.pool.reportResponse(server, headMs);
        if (ex.closed) return;
        if (rt.retryStatuses.has(status)) {
          const next = mayRetryStatus({ method: req.method, headersSent: ex.headersSent, bodyRead: gate?.bodyRead ?? source !== undefined, attempts: tried.size, retries: rt.retries })
            ? rt.pool.pick(pick, tried)
            : undefined;
          if (next) {
            // ngx_http_upstream_next: 5xx count towards max_fails, 403/404/429 do not.
            if (status >= 500) rt.pool.reportFailure(server, `status ${status}`);
            ctx.env.logger.warn(`upstream ${server.transport.address}: status ${status}; trying ${next.transport.address}`, { site: ctx.site.config.hosts[0], uri: ex.rawTarget });
            superseded = true;
            release();
            call?.abort(new Error(`status ${status}: the next server answers`));
            attempt(next);
            return;
          }
        }
        if (rt.interceptErrors && status >= 300 && hasErrorPage(ctx, status)) {
          // ngx_http_upstream_intercept_errors: the upstream's answer is dropped, its 401 challenge kept.
          intercepted = true;
          release();
          finished = true;
          call?.abort(new Error('response replaced by an error page'));
          const challenge = status === 401 ? headers['www-authenticate'] : undefined;
          sendStatus(ctx, status, challenge !== undefined ? { 'www-authenticate': challenge } : undefined);
          return;
        }
        ex.respond(status, clientResponseHeaders(headers, ctx, rt.responseOps, rt.hsts, rt.responsePolicy));
      },
      onData(chunk) {
        if (superseded || ex.closed || intercepted) return true;
        if (ex.write(chunk)) return true;
        ex.onDrain(() => call?.resume());
        return false;
      },
      onEnd(trailers) {
        if (superseded) return;
        ctx.upstreamResponseTime = (performance.now() - startedAt) / 1000;
        release();
        finished = true;
        call = undefined;
        if (!ex.closed && !intercepted) ex.end(trailers);
      },
      onUpgrade(status, headers, upstreamSocket) {
        ctx.upstreamTime = (performance.now() - startedAt) / 1000;
        // A tunnel is load on the server for as long as it is open (nginx least_conn counts it too).
        upstreamSocket.once('close', release);
        const tunnel = ex.tunnel;
        if (!tunnel || ex.closed) {
          upstreamSocket.destroy();
          return;
        }
        finished = true;
        const clientHeaders = tunnel.rawHead
          ? upgradeResponseHeaders(headers, ctx, rt.responseOps)
          : clientResponseHeaders(headers, ctx, rt.responseOps, rt.hsts, rt.responsePolicy);
        if (!tunnel.bridge(status, headers, clientHeaders, upstreamSocket, rt.tunnelIdleMs)) {
          ctx.env.logger.warn(`upstream ${server.transport.address}: invalid WebSocket handshake response`, { uri: ex.rawTarget });
          sendStatus(ctx, 502);
        }
      },
      onError(err) {
        if (superseded) return;
        ctx.upstreamResponseTime = (performance.now() - startedAt) / 1000;
        release();
        finished = true;
        if (intercepted) return;
        // The client went away (we aborted the call): not the server's fault, nobody to answer.
        if (ex.closed) return;
        if (limit.over) {
          refuseBody(ctx);
          return;
        }
        const code = err instanceof UpstreamError ? err.code : 'ERESET';
        if (countsAsServerFailure(code)) rt.pool.reportFailure(server, err.message);
        const meta = { code, site: ctx.site.config.hosts[0], uri: ex.rawTarget };
        const retry = mayRetry({
          code,
          method: req.method,
          headersSent: ex.headersSent,
          bodyRead: gate?.bodyRead ?? source !== undefined,
          attempts: tried.size,
          retries: rt.retries,
        });
        const next = retry ? rt.pool.pick(pick, tried) : undefined;
        if (next) {
          ctx.env.logger.warn(`upstream ${server.transport.address}: ${err.message}; trying ${next.transport.address}`, meta);
          finished = false;
          attempt(next);
          return;
        }
        // gatehouse's own failure is a bug to report, not a server's trouble.
        if (code === 'EINTERNAL') ctx.env.logger.error(`upstream ${server.transport.address}: ${err.message}`, meta);
        else ctx.env.logger.warn(`upstream ${server.transport.address}: ${err.message}`, meta);
        call = undefined;
        sendStatus(ctx, statusForUpstreamError(err));
      },
    });
  };
  const first = rt.pool.pick(pick, tried);
  if (first) attempt(first);
  else sendStatus(ctx, 503);
}
