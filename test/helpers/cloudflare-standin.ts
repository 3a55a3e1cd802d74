// A LOCAL STAND-IN for Cloudflare's API v4, for tests only: the real API cannot be reached from here.
// It implements just what gatehouse's Cloudflare provider calls (GET /zones?name=, POST/GET
// /zones/{id}/dns_records, DELETE /zones/{id}/dns_records/{id}), checks the Bearer token, and answers in
// the API's envelope { success, errors: [{ code, message }], messages, result } with the codes the real one
// uses (10000 authentication error, 7003 unknown object, 81058 identical record). After each change the
// TXT values it holds at a name are handed to `mirror`, which puts them into the DNS server Pebble's
// validation and gatehouse's propagation check ask, so both see exactly what the stand-in holds.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandinRecord {
  id: string;
  type: 'TXT';
  name: string;
  content: string;
  ttl: number;
}

export interface CloudflareStandin {
  /** `http://127.0.0.1:PORT/client/v4`, for acme.dns.endpoint. */
  endpoint: string;
  zoneId: string;
  /** Records the stand-in holds now. */
  records(): StandinRecord[];
  /** Every request as `METHOD PATH` (query included), in order. */
  requests: string[];
  /** Authorization headers seen that were not the expected token (to prove which token was sent). */
  readonly rejectedTokens: number;
  close(): Promise<void>;
}

export interface StandinOptions {
  token: string;
  zone: string;
  /** Makes the DNS answer exactly `values` (possibly none) for TXT `name` (no trailing dot). */
  mirror(name: string, values: string[]): Promise<void>;
}

const BODY_LIMIT = 64 * 1024;

export async function startCloudflareStandin(o: StandinOptions): Promise<CloudflareStandin> {
  const zoneId = randomBytes(16).toString('hex');
  const records = new Map<string, StandinRecord>();
  const requests: string[] = [];
  const state = { rejectedTokens: 0 };

  // One mirror at a time, each reading the records when it runs: two DELETEs answered concurrently would
  // otherwise race, and the older view ([B] after deleting A) could land after the newer one ([]).
  let mirrored: Promise<void> = Promise.resolve();
  const mirror = (name: string): Promise<void> => {
    const next = mirrored.then(() => o.mirror(name, [...records.values()].filter((r) => r.name === name).map((r) => r.content)));
    mirrored = next.catch(() => undefined);
    return next;
  };

  const send = (res: http.ServerResponse, status: number, result: unknown, errors: Array<{ code: number; message: string }> = []): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ success: errors.length === 0, errors, messages: [], result: errors.length === 0 ? result : null }));
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= BODY_LIMIT) chunks.push(c);
    });
    req.on('end', () => {
      void handle(req, res, url, Buffer.concat(chunks).toString('utf8')).catch((err: Error) => send(res, 500, null, [{ code: 1000, message: err.message }]));
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: string): Promise<void> {
    if (req.headers.authorization !== `Bearer ${o.token}`) {
      state.rejectedTokens++;
      // As the real API: a header that is not `Bearer` + a 40-character token is a bad request (6003, with
      // 6111 in its chain); a well-formed token that is unknown or lacks the permission is 10000.
      if (!/^Bearer [A-Za-z0-9_-]{40}$/.test(req.headers.authorization ?? '')) {
        return send(res, 400, null, [{ code: 6003, message: 'Invalid request headers' }]);
      }
      return send(res, 403, null, [{ code: 10000, message: 'Authentication error' }]);
    }
    const path = url.pathname.replace(/^\/client\/v4/, '');
    if (req.method === 'GET' && path === '/zones') {
      const name = url.searchParams.get('name');
      return send(res, 200, name === null || name === o.zone ? [{ id: zoneId, name: o.zone, status: 'active' }] : []);
    }
    const m = /^\/zones\/([^/]+)\/dns_records(?:\/([^/]+))?$/.exec(path);
    if (!m || m[1] !== zoneId) return send(res, 404, null, [{ code: 7003, message: `Could not route to ${path}, perhaps your object identifier is invalid?` }]);
    const recordId = m[2];
    if (req.method === 'POST' && !recordId) {
      let r: { type?: string; name?: string; content?: string; ttl?: number };
      try {
        r = JSON.parse(body) as typeof r;
      } catch {
        return send(res, 400, null, [{ code: 9207, message: 'Request body is invalid.' }]);
      }
      if (r.type !== 'TXT' || typeof r.name !== 'string' || typeof r.content !== 'string') {
        return send(res, 400, null, [{ code: 9000, message: 'DNS name is invalid.' }]);
      }
      const name = r.name.toLowerCase();
      if (name !== o.zone && !name.endsWith(`.${o.zone}`)) return send(res, 400, null, [{ code: 9000, message: 'DNS name is invalid.' }]);
      if ([...records.values()].some((x) => x.name === name && x.content === r.content)) {
        return send(res, 400, null, [{ code: 81058, message: 'An identical record already exists.' }]);
      }
      const record: StandinRecord = { id: randomBytes(16).toString('hex'), type: 'TXT', name, content: r.content, ttl: r.ttl ?? 1 };
      records.set(record.id, record);
      await mirror(name);
      return send(res, 200, record);
    }
    if (req.method === 'GET' && !recordId) {
      const q = url.searchParams;
      const list = [...records.values()].filter(
        (r) => (!q.get('type') || q.get('type') === r.type) && (!q.get('name') || q.get('name') === r.name) && (!q.get('content') || q.get('content') === r.content),
      );
      return send(res, 200, list);
    }
    if (req.method === 'DELETE' && recordId) {
      const r = records.get(recordId);
      if (!r) return send(res, 404, null, [{ code: 81044, message: 'Record does not exist.' }]);
      records.delete(recordId);
      await mirror(r.name);
      return send(res, 200, { id: recordId });
    }
    return send(res, 405, null, [{ code: 10405, message: 'Method not allowed for this endpoint' }]);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}/client/v4`,
    zoneId,
    records: () => [...records.values()],
    requests,
    get rejectedTokens() {
      return state.rejectedTokens;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
