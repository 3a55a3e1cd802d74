// forwardAuth against a real auth service on loopback: what the service is told (and what a client
// cannot make it believe), auth_request_set's variables, copyHeaders on the request that goes on
// (its raw header list too, which FastCGI params are built from), and nginx's statuses.
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { copyAuthHeaders, forwardAuthCheck, subrequestHeaders } from '../../../src/access/forward-auth.js';
import { compileTrust } from '../../../src/http/trust.js';
import type { Exchange } from '../../../src/http/exchange.js';
import { silentLogger } from '../../../src/log/types.js';
import type { RequestContext } from '../../../src/request/context.js';
import { RequestVars } from '../../../src/request/vars.js';

function request(headers: Record<string, string>, opts: { trusted?: boolean; rawHeaders?: string[] } = {}): RequestContext {
  const ctx = {
    host: 'a.test',
    path: '/app/x',
    args: 'q=1',
    site: { config: { hosts: ['a.test'], underscoresInHeaders: false } },
    env: { trust: compileTrust(opts.trusted ? ['192.0.2.0/24'] : []) },
    ex: {
      method: 'POST',
      rawTarget: '/app/x?q=1',
      authority: 'a.test',
      headers: { ...headers },
      req: opts.rawHeaders ? { rawHeaders: opts.rawHeaders } : undefined,
      conn: { secure: true, remoteAddress: '192.0.2.7', remotePort: 5000, localAddress: '127.0.0.1', localPort: 8443 },
      closed: false,
      onClose: () => undefined,
    },
  } as unknown as RequestContext;
  ctx.vars = new RequestVars(ctx);
  return ctx;
}

describe('access/forward-auth', () => {
  let server: http.Server;
  let url: string;
  const seen: IncomingHttpHeaders[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      const how = String(req.headers['x-auth'] ?? 'ok');
      if (how === 'ok') res.writeHead(200, { 'remote-user': 'alice', 'remote-groups': 'admins' }).end();
      else if (how === '401') res.writeHead(401, { 'www-authenticate': 'Bearer realm="svc"' }).end();
      else res.writeHead(Number(how)).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/verify`;
  });
  after(() => server.close());

  it('tells the service the original request; a client cannot set the forwarding headers or sneak in "_" spellings', () => {
    const h = subrequestHeaders(
      request({
        host: 'a.test',
        cookie: 'sid=1',
        authorization: 'Bearer x',
        'content-length': '5',
        connection: 'keep-alive, x-hop',
        'x-hop': '1',
        'x-original-uri': '/public',
        'x-forwarded-for': '10.0.0.1',
        'x-forwarded-host': 'evil.test',
        x_forwarded_for: '10.0.0.2',
      }),
    );
    expect(h).to.deep.equal({
      cookie: 'sid=1',
      authorization: 'Bearer x',
      'x-original-uri': '/app/x?q=1',
      'x-original-method': 'POST',
      'x-forwarded-method': 'POST',
      'x-forwarded-uri': '/app/x?q=1',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'a.test',
      'x-forwarded-for': '192.0.2.7',
      'x-forwarded-port': '8443',
      'x-real-ip': '192.0.2.7',
    });
  });

  it('behind a trusted proxy, appends to its X-Forwarded-For and keeps its view of scheme and host', () => {
    const h = subrequestHeaders(request({ 'x-forwarded-for': '198.51.100.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'www.a.test' }, { trusted: true }));
    expect(h['x-forwarded-for']).to.equal('198.51.100.9, 192.0.2.7');
    expect(h['x-real-ip']).to.equal('198.51.100.9');
    expect(h['x-forwarded-host']).to.equal('www.a.test');
  });

  it('copyHeaders replaces the client value under any spelling, in the headers and the raw list, and removes it when the service sent none', () => {
    const raw = ['Host', 'a.test', 'Remote-User', 'mallory', 'Remote_User', 'mallory2', 'X-Other', '1'];
    const ctx = request({ host: 'a.test', 'remote-user': 'mallory', remote_user: 'mallory2', 'x-other': '1' }, { rawHeaders: raw });
    copyAuthHeaders(ctx.ex as Exchange, ['Remote-User', 'Remote-Email'], { 'remote-user': 'alice' });
    expect(ctx.ex.headers).to.deep.equal({ host: 'a.test', 'x-other': '1', 'remote-user': 'alice' });
    expect(raw).to.deep.equal(['Host', 'a.test', 'X-Other', '1', 'Remote-User', 'alice']);
  });

  it('2xx passes, sets the auth_request_set variables and copies the headers; 401 brings the challenge; 403; others 500', async () => {
    const check = forwardAuthCheck(
      { url, copyHeaders: ['Remote-User'], set: { user: '$upstream_http_remote_user', who: '$upstream_http_remote_user@$host', none: '$upstream_http_x_absent' }, timeoutMs: 60_000 },
      silentLogger,
    );
    const ctx = request({ 'x-auth': 'ok', 'remote-user': 'mallory' });
    expect(await check(ctx)).to.deep.equal({ kind: 'pass' });
    expect(ctx.vars.getUser('user')).to.equal('alice');
    expect(ctx.vars.getUser('who')).to.equal('alice@a.test');
    expect(ctx.vars.getUser('none')).to.equal('');
    expect(ctx.ex.headers['remote-user']).to.equal('alice');
    expect(seen.at(-1)?.['remote-user']).to.equal('mallory'); // the service sees what the client sent
    expect(await check(request({ 'x-auth': '401' }))).to.deep.equal({ kind: 'refuse', status: 401, headers: { 'www-authenticate': 'Bearer realm="svc"' } });
    expect(await check(request({ 'x-auth': '403' }))).to.deep.equal({ kind: 'refuse', status: 403 });
    for (const how of ['500', '404', '302']) {
      expect(await check(request({ 'x-auth': how })), how).to.deep.equal({ kind: 'fail', status: 500 });
    }
    const down = forwardAuthCheck({ url: 'http://127.0.0.1:1/verify', copyHeaders: [], set: {}, timeoutMs: 60_000 }, silentLogger);
    expect(await down(request({}))).to.deep.equal({ kind: 'fail', status: 500 });
  });
});
