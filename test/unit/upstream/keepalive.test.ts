// `keepalive: N` caps idle connections per server (nginx keepalive), never concurrency.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { KeepAlivePool } from '../../../src/transport/http1/keepalive.js';

function get(pool: KeepAlivePool, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const handler: Dispatcher.DispatchHandler = {
      onResponseStart: (_c, s) => {
        status = s;
      },
      onResponseData: () => undefined,
      onResponseEnd: () => resolve(status),
      onResponseError: (_c, err) => reject(err),
    };
    pool.dispatch({ method: 'GET', path }, handler);
  });
}

describe('KeepAlivePool', () => {
  let server: http.Server;
  let origin: string;
  let open = 0;
  let connections = 0;
  const waiting: Array<() => void> = [];
  let hold = 0;
  before(async () => {
    server = http.createServer((_req, res) => {
      const answer = (): void => void res.end('ok');
      if (hold > 0) {
        waiting.push(answer);
        if (waiting.length === hold) waiting.splice(0).forEach((f) => f());
      } else answer();
    });
    server.on('connection', (sock) => {
      open += 1;
      connections += 1;
      sock.on('close', () => (open -= 1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const waitFor = async (cond: () => boolean): Promise<void> => {
    for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  };

  it('opens a connection per concurrent request and keeps only `keepalive` of them idle', async () => {
    const pool = new KeepAlivePool(origin, {}, {}, 2);
    try {
      connections = 0;
      hold = 6; // the server answers once all six are in: six connections at once, no queue
      const statuses = await Promise.all(Array.from({ length: 6 }, (_, i) => get(pool, `/${i}`)));
      hold = 0;
      expect(statuses).to.deep.equal([200, 200, 200, 200, 200, 200]);
      expect(connections).to.equal(6);
      await waitFor(() => open === 2);
      expect(open).to.equal(2);
      expect(pool.idleCount).to.equal(2);
      // The kept connections are reused: no new one for sequential requests.
      for (let i = 0; i < 5; i++) await get(pool, '/again');
      expect(connections).to.equal(6);
    } finally {
      await pool.close();
    }
    await waitFor(() => open === 0);
    expect(open).to.equal(0);
  });

  it('keepalive 0 closes every connection after its response', async () => {
    const pool = new KeepAlivePool(origin, {}, {}, 0);
    try {
      connections = 0;
      for (let i = 0; i < 3; i++) await get(pool, '/x');
      expect(connections).to.equal(3);
      await waitFor(() => open === 0);
      expect(open).to.equal(0);
    } finally {
      await pool.close();
    }
  });

  it('a burst of responses above the cap does not close the connections the next burst reuses', async () => {
    // Node hands over a burst of responses in one turn, before the next requests arrive; closing the
    // excess at once made every burst open new connections (a connect per request under load).
    const pool = new KeepAlivePool(origin, {}, {}, 2);
    try {
      connections = 0;
      for (let burst = 0; burst < 3; burst++) {
        hold = 20;
        const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => get(pool, `/b${burst}-${i}`)));
        expect(statuses.every((s) => s === 200)).to.equal(true);
      }
      hold = 0;
      expect(connections, 'connections opened over three bursts of 20').to.equal(20);
      // Once idle for a while, the excess above the cap is closed.
      await waitFor(() => open === 2);
      expect(open).to.equal(2);
      expect(pool.idleCount).to.equal(2);
    } finally {
      await pool.close();
    }
  });
});
