// Closing an HTTP/2 session gracefully, within a deadline (drainTimeout, keepalive_timeout).
import http2, { type Http2Session } from 'node:http2';
import { guardOf } from './connection-guard.js';

/** How long a session told GOAWAY may take to flush its last frames before it is destroyed. */
const SESSION_CLOSE_GRACE_MS = 5_000;
/** 2^31-1: the largest HTTP/2 stream id, for the first GOAWAY of a graceful close. */
const MAX_STREAM_ID = 2 ** 31 - 1;
const GOAWAY_PING_WAIT_MS = 1_000;

/**
 * GOAWAY, let open streams finish, then make sure the session really goes: Node's session.close()
 * never destroys a session that still has frames queued for a peer that stopped reading, which held
 * a drain open for its whole timeout. Streams still running keep it open until they end, or until
 * `graceMs` (drainTimeout) has passed: then it is destroyed with its streams.
 */
const closing = new WeakSet<Http2Session>();

export function closeSession(session: Http2Session, graceMs: number): void {
  if (session.destroyed || closing.has(session)) return;
  closing.add(session);
  const deadline = performance.now() + graceMs;
  // RFC 9113 §6.8 graceful shutdown: a first GOAWAY with the highest stream id refuses nothing, so
  // requests the client sent before it saw the GOAWAY still run; once a PING round trip proves the
  // client has read it, close() sends the real last stream id. Closing in one step refuses the
  // streams in flight towards us, and clients such as h2load count those as failed (pm2 reload).
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    if (!session.destroyed && !session.closed) session.close();
    setTimeout(check, SESSION_CLOSE_GRACE_MS).unref();
  };
  const check = (): void => {
    if (session.destroyed) return;
    // Streams still in flight keep the session until they end or the deadline passes.
    const open = guardOf(session.socket)?.openStreams ?? 0;
    if (open === 0 || performance.now() >= deadline) session.destroy();
    else setTimeout(check, Math.min(SESSION_CLOSE_GRACE_MS, Math.max(1, deadline - performance.now()))).unref();
  };
  try {
    session.goaway(http2.constants.NGHTTP2_NO_ERROR, MAX_STREAM_ID);
    if (!session.ping(() => finish())) finish();
  } catch {
    finish();
    return;
  }
  // A client that never answers the PING gets the real GOAWAY anyway.
  setTimeout(finish, GOAWAY_PING_WAIT_MS).unref();
}
