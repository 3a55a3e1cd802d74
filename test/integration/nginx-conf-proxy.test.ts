// Proxy-only site files (test/fixtures/nginx-sites/) under nginx 1.22 and gatehouse: an SPA with
// its API, WebSocket upgrades through the usual map, and a weighted upstream with a dead server
// and a backup.
import { expect } from 'chai';
import { expectSameAll, useConfPair, type ConfPair, type Side } from '../helpers/nginx-conf-differential.js';

describe('nginx conf differential: SPA + API (nginx 1.22, integration)', function () {
  this.timeout(60_000);
  const host = { host: 'spa.example.test' };

  const pair = useConfPair({
    site: 'spa-api.conf',
    files: {
      'spa/dist/index.html': '<!doctype html><div id="app"></div>\n',
      'spa/dist/assets/app.3f9a.css': 'body{}\n',
      'spa/dist/assets/logo.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>\n',
      'spa/dist/favicon.ico': 'ico',
    },
  });

  it('client-side routes fall back to index.html; assets cached for a year', async () => {
    await expectSameAll(pair(), [
      { path: '/', headers: host },
      { path: '/index.html', headers: host },
      { path: '/dashboard', headers: host },
      { path: '/users/42/edit?tab=2', headers: host },
      { path: '/assets/app.3f9a.css', headers: host },
      { path: '/assets/logo.svg', headers: host },
      { path: '/assets/missing.js', headers: host },
      { path: '/', method: 'HEAD', headers: host },
    ]);
  });

  it('favicon.ico gets the type of the included mime.types (image/x-icon)', async () => {
    await expectSameAll(pair(), [{ path: '/favicon.ico', headers: host }]);
  });

  it('/api/ goes to the backend with its prefix replaced by /v1/ and the forwarded headers', async () => {
    await expectSameAll(pair(), [
      { path: '/api/users', headers: host },
      { path: '/api/users?page=2&sort=-name', headers: host },
      { path: '/api/', headers: host },
      { path: '/api/session', method: 'POST', body: '{"user":"a"}', headers: { ...host, 'content-type': 'application/json', cookie: 'sid=1' } },
      { path: '/api/items/7', method: 'DELETE', headers: host },
      { path: '/api/items/7', method: 'PATCH', body: '{}', headers: { ...host, 'x-forwarded-for': '203.0.113.5' } },
      { path: '/api', headers: host },
      { path: '/api/status/503', headers: host },
    ]);
  });
});

describe('nginx conf differential: WebSocket upgrade map (nginx 1.22, integration)', function () {
  this.timeout(60_000);
  const host = { host: 'chat.example.test' };

  const pair = useConfPair({ site: 'websocket.conf', ws: true });

  it('plain HTTP next to the WebSocket locations', async () => {
    await expectSameAll(pair(), [
      { path: '/', headers: host },
      { path: '/rooms/1/messages?since=5', headers: host },
      { path: '/send', method: 'POST', body: 'hi', headers: host },
    ]);
  });

  it('an Upgrade request on a location without upgrade headers is answered as plain HTTP', async () => {
    await expectSameAll(pair(), [{ path: '/x', headers: { ...host, upgrade: 'websocket', connection: 'upgrade' } }]);
  });

  for (const p of ['/ws/chat', '/socket']) {
    it(`a WebSocket on ${p}: 101, the backend sees the upgrade headers, messages echo`, async () => {
      const results = {} as Record<Side, Awaited<ReturnType<ConfPair['websocket']>>>;
      for (const side of ['nginx', 'gatehouse'] as const) results[side] = await pair().websocket(side, { path: p, host: 'chat.example.test' });
      expect(results.nginx.status).to.equal(101);
      expect(results.nginx.echo).to.equal('echo:ping-from-client');
      const seen = (r: (typeof results)['nginx']) => ({
        status: r.status,
        upgrade: r.headers.upgrade,
        // A token list, case-insensitive (RFC 9110 §7.6.1): nginx writes "upgrade", the ws backend "Upgrade".
        connection: r.headers.connection?.toLowerCase(),
        echo: r.echo,
        url: r.backend?.url,
        host: r.backend?.headers.host,
        backendUpgrade: r.backend?.headers.upgrade,
        backendConnection: r.backend?.headers.connection,
        key: typeof r.backend?.headers['sec-websocket-key'],
        version: r.backend?.headers['sec-websocket-version'],
      });
      expect(seen(results.gatehouse), 'gatehouse (actual) vs nginx (expected)').to.deep.equal(seen(results.nginx));
    });
  }

  it('a plain GET on the WebSocket location (no Upgrade): what the backend says, on both', async () => {
    await expectSameAll(pair(), [{ path: '/ws/chat', headers: host }]);
  });
});

describe('nginx conf differential: weighted upstream with a dead server and a backup (nginx 1.22, integration)', function () {
  this.timeout(60_000);
  const host = { host: 'lb.example.test' };

  const pair = useConfPair({ site: 'balanced.conf', backends: 3 });

  /** How many of `n` requests each backend got, one side at a time. */
  async function spread(side: Side, p: string, n: number): Promise<number[]> {
    const before = pair().backends.map((b) => b.seen.length);
    for (let i = 0; i < n; i++) {
      const a = await pair().one(side, { path: `${p}${i}`, headers: host });
      expect(a.status, `${side} ${p}${i}`).to.equal(200);
    }
    return pair().backends.map((b, i) => b.seen.length - before[i]!);
  }

  it('every request is answered although one server is dead; the backend-side request matches', async () => {
    await expectSameAll(pair(), Array.from({ length: 8 }, (_, i) => ({ path: `/page/${i}`, headers: host })));
  });

  it('weights 2:1 between the live servers, the backup idle while they live', async () => {
    const nginx = await spread('nginx', '/w/', 30);
    const gatehouse = await spread('gatehouse', '/w/', 30);
    expect(nginx[2], 'nginx: backup idle').to.equal(0);
    expect(gatehouse, 'gatehouse (actual) vs nginx (expected): requests per backend').to.deep.equal(nginx);
  });

  it('only the backup is left when the primary is dead', async () => {
    await expectSameAll(pair(), [
      { path: '/standby/a', headers: host },
      { path: '/standby/b?x=1', method: 'POST', body: 'data', headers: host },
    ]);
  });
});
