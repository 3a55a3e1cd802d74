// A load generator that treats a server going away the way browsers do, to measure drops during
// `pm2 reload`. h2load does not: after a GOAWAY it neither reconnects its client nor reports the
// requests it never got to send (its throughput collapses while it prints "0 failed").
//
// Retried (the server never processed them, so a retry is safe for any method):
//  - HTTP/2: a stream refused with REFUSED_STREAM, or above the last-stream-id of a GOAWAY, or never
//    sent because the session was already closing (RFC 9113 §8.7, §6.8);
//  - HTTP/1.1: a request on a reused keep-alive connection that was closed before any response byte
//    (RFC 9112 §9.3.1; Chrome and Firefox retry these, Node's http client does not).
// Everything else counts as a failure: an error after the request was accepted, or a status != 200.
import http2 from 'node:http2';
import https from 'node:https';

export interface LoadResult {
  ok: number;
  failed: number;
  retried: number;
  errors: string[];
}

export interface LoadOptions {
  port: number;
  servername: string;
  path?: string;
  protocol: 'h2' | 'http/1.1';
  /** Parallel request loops (HTTP/2: streams spread over `connections` sessions). */
  concurrency: number;
  connections?: number;
  /** Pause of each loop between requests: steady traffic without starving the server being tested. */
  pauseMs?: number;
}

const RETRIES = 5;

interface Retryable extends Error {
  retry?: boolean;
}

function retryable(message: string): Retryable {
  return Object.assign(new Error(message), { retry: true });
}

/** Runs until stop() is called, then resolves with the counts once in-flight requests finish. */
export function startLoad(o: LoadOptions): { stop(): Promise<LoadResult> } {
  const result: LoadResult = { ok: 0, failed: 0, retried: 0, errors: [] };
  let running = true;
  const one = o.protocol === 'h2' ? h2Requester(o) : h1Requester(o);
  const loop = async (): Promise<void> => {
    while (running) {
      for (let attempt = 0; ; attempt++) {
        try {
          const status = await one.request();
          if (status === 200) result.ok++;
          else {
            result.failed++;
            result.errors.push(`status ${status}`);
          }
          break;
        } catch (err) {
          const e = err as Retryable;
          if (e.retry && attempt < RETRIES) {
            result.retried++;
            continue;
          }
          result.failed++;
          result.errors.push(e.message);
          break;
        }
      }
      if (o.pauseMs) await new Promise((r) => setTimeout(r, o.pauseMs));
    }
  };
  const loops = Array.from({ length: o.concurrency }, loop);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      one.close();
      return result;
    },
  };
}

interface Requester {
  request(): Promise<number>;
  close(): void;
}

function h2Requester(o: LoadOptions): Requester {
  const sessions: (http2.ClientHttp2Session | undefined)[] = new Array(o.connections ?? 2).fill(undefined);
  let next = 0;
  const session = (): http2.ClientHttp2Session => {
    const i = next++ % sessions.length;
    const s = sessions[i];
    if (s && !s.closed && !s.destroyed) return s;
    const fresh = http2.connect(`https://${o.servername}:${o.port}`, { host: '127.0.0.1', servername: o.servername, rejectUnauthorized: false });
    fresh.on('error', () => undefined);
    let lastStreamID = Infinity;
    fresh.on('goaway', (_code, last) => {
      lastStreamID = last;
      // Like a browser: new requests go to a new connection, the open ones finish here.
      if (sessions[i] === fresh) sessions[i] = undefined;
    });
    (fresh as http2.ClientHttp2Session & { lastStreamID: () => number }).lastStreamID = () => lastStreamID;
    sessions[i] = fresh;
    return fresh;
  };
  return {
    request: () =>
      new Promise<number>((resolve, reject) => {
        const s = session();
        let req: http2.ClientHttp2Stream;
        try {
          req = s.request({ ':path': o.path ?? '/', ':authority': o.servername });
        } catch (err) {
          reject(retryable(`not sent: ${(err as Error).message}`));
          return;
        }
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', () => undefined);
        req.on('end', () => resolve(status));
        req.on('error', (err: Error & { code?: string }) => {
          const last = (s as http2.ClientHttp2Session & { lastStreamID?: () => number }).lastStreamID?.() ?? Infinity;
          const refused = req.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
          const unprocessed = req.id === undefined || req.id > last || err.code === 'ERR_HTTP2_GOAWAY_SESSION';
          if (status === 0 && (refused || unprocessed)) reject(retryable(`refused: ${err.message}`));
          else reject(new Error(`h2 stream ${req.id} (status ${status}): ${err.code ?? ''} ${err.message}`));
        });
        req.on('close', () => {
          if (status === 0 && req.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) reject(retryable('refused'));
          else if (req.rstCode && req.rstCode !== http2.constants.NGHTTP2_NO_ERROR) reject(new Error(`h2 stream reset with code ${req.rstCode}`));
        });
        req.end();
      }),
    close: () => sessions.forEach((s) => s?.close()),
  };
}

function h1Requester(o: LoadOptions): Requester {
  const agent = new https.Agent({ keepAlive: true, maxSockets: o.concurrency, rejectUnauthorized: false });
  return {
    request: () =>
      new Promise<number>((resolve, reject) => {
        let gotBytes = false;
        const req = https.request({ host: '127.0.0.1', port: o.port, servername: o.servername, path: o.path ?? '/', agent, headers: { host: o.servername } }, (res) => {
          gotBytes = true;
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', (err) => reject(new Error(`h1 response: ${err.message}`)));
        });
        req.on('error', (err: Error & { code?: string }) => {
          // reusedSocket: Node's own marker for a request sent on a kept-alive connection.
          if (req.reusedSocket && !gotBytes) reject(retryable(`closed before the response: ${err.code ?? err.message}`));
          else reject(new Error(`h1 request: ${err.code ?? ''} ${err.message}`));
        });
        req.end();
      }),
    close: () => agent.destroy(),
  };
}
