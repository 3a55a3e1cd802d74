// issue 17: the nginx variables of the access log and of nginx's core, upstream and SSL modules,
// each over a request built by hand: what it is, when it is read (after the response for $status
// and $body_bytes_sent), and that the config checker accepts it.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileTemplate } from '../../../src/http/variables.js';
import type { RequestContext } from '../../../src/request/context.js';
import { RequestVars } from '../../../src/request/vars.js';
import { VERSION } from '../../../src/version.js';
import { lines, valid } from '../config/helpers.js';

interface FakeEx {
  status: number;
  bytesSent: number;
  closed: boolean;
  sentHeaders?: Record<string, string | string[] | number>;
  headBytes?: number;
  framingBytes?: number;
}

function request(opts: { headers?: Record<string, string>; secure?: boolean; root?: string; upstream?: Partial<RequestContext>; conn?: object } = {}) {
  const ex: FakeEx & Record<string, unknown> = {
    method: 'GET',
    protocol: 'HTTP/1.1',
    rawTarget: '/a?b=1',
    headers: opts.headers ?? {},
    startedAt: performance.now() - 1500,
    status: 0,
    bytesSent: 0,
    closed: false,
    conn: opts.conn ?? {
      secure: opts.secure ?? false,
      remoteAddress: '192.0.2.1',
      remotePort: 40000,
      localAddress: '127.0.0.1',
      localPort: 443,
      tlsVersion: opts.secure ? 'TLSv1.3' : undefined,
      servername: opts.secure ? 'a.test' : undefined,
      cipher: opts.secure ? 'TLS_AES_128_GCM_SHA256' : undefined,
      sessionReused: false,
      alpnProtocol: opts.secure ? 'h2' : undefined,
    },
  };
  const ctx = {
    host: 'a.test',
    path: '/a',
    args: 'b=1',
    site: { config: { hosts: ['a.test'] } },
    route: opts.root ? { config: { root: opts.root } } : undefined,
    ex,
    ...opts.upstream,
  } as unknown as RequestContext;
  const vars = new RequestVars(ctx);
  const t = (source: string): string => compileTemplate(source)(vars);
  return { ex, ctx, vars, t };
}

describe('variables of the access log (issue 17)', () => {
  it('$request, $status (000 before the head, 499 when the client left), $body_bytes_sent and $bytes_sent read when asked', () => {
    const { ex, t } = request();
    expect(t('$request')).to.equal('GET /a?b=1 HTTP/1.1');
    expect(t('$status $body_bytes_sent')).to.equal('000 0');
    ex.status = 204;
    ex.bytesSent = 10;
    ex.headBytes = 100;
    ex.framingBytes = 9;
    expect(t('$status $body_bytes_sent $bytes_sent')).to.equal('204 19 119');
    // A handler about to answer (return) makes $status its code, as nginx's headers_out.status.
    const answering = request();
    answering.vars.pendingStatus = 301;
    expect(answering.t('$status')).to.equal('301');
    const left = request();
    left.ex.closed = true;
    expect(left.t('$status')).to.equal('499');
  });

  it('$request_id: 32 hex digits, the same however often it is read, another for the next request', () => {
    const a = request();
    const id = a.t('$request_id');
    expect(id).to.match(/^[0-9a-f]{32}$/);
    expect(a.t('$request_id')).to.equal(id);
    expect(request().t('$request_id')).to.not.equal(id);
  });

  it('$request_id of a cache fill is the request\'s own (RequestVars with a parent)', () => {
    const a = request();
    const fill = new RequestVars(a.ctx, a.vars);
    expect(compileTemplate('$request_id $connection_requests')(fill)).to.equal(a.t('$request_id $connection_requests'));
  });

  it('$connection and $connection_requests count the requests of one connection', () => {
    const conn = { secure: false, remoteAddress: '192.0.2.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 80 };
    const first = request({ conn });
    const second = request({ conn });
    expect(first.t('$connection_requests')).to.equal('1');
    expect(second.t('$connection_requests')).to.equal('2');
    expect(first.t('$connection')).to.equal(second.t('$connection'));
    expect(request().t('$connection')).to.not.equal(first.t('$connection'));
  });

  it('$time_local, $time_iso8601, $msec, $request_time, $pid, $hostname', () => {
    const { t } = request();
    expect(t('$time_local')).to.match(/^\d\d\/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}$/);
    expect(t('$time_iso8601')).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    expect(Math.abs(Number(t('$msec')) - Date.now() / 1000)).to.be.below(2);
    expect(t('$msec')).to.match(/^\d+\.\d{3}$/);
    expect(Number(t('$request_time'))).to.be.within(1.4, 5);
    expect(t('$pid')).to.equal(String(process.pid));
    expect(t('$hostname')).to.equal(os.hostname());
  });

  it('$remote_user: the user of Basic credentials, also without auth on the route; nothing otherwise', () => {
    expect(request({ headers: { authorization: `Basic ${Buffer.from('alice:pw:x').toString('base64')}` } }).t('$remote_user')).to.equal('alice');
    expect(request({ headers: { authorization: 'Bearer abc' } }).t('$remote_user')).to.equal('');
    expect(request().t('$remote_user')).to.equal('');
  });

  it('$sent_http_NAME: the response header as sent (a list joined with ", "), nothing before the head', () => {
    const { ex, t } = request();
    expect(t('$sent_http_content_type')).to.equal('');
    ex.sentHeaders = { 'content-type': 'text/html', 'set-cookie': ['a=1', 'b=2'], 'content-length': 5, 'X-Mixed': 'm' };
    expect(t('$sent_http_content_type|$sent_http_set_cookie|$sent_http_content_length|$sent_http_x_mixed')).to.equal('text/html|a=1, b=2|5|m');
  });

  it('$upstream_addr, $upstream_status, $upstream_response_time, $upstream_header_time, $upstream_http_NAME', () => {
    const { t } = request({
      upstream: { upstreamAddr: '127.0.0.1:9000', upstreamStatus: 201, upstreamTime: 0.0123, upstreamResponseTime: 0.5, upstreamHeaders: { 'x-app': 'v1' } },
    });
    expect(t('$upstream_addr $upstream_status $upstream_header_time $upstream_response_time $upstream_http_x_app')).to.equal('127.0.0.1:9000 201 0.012 0.500 v1');
    expect(request().t('$upstream_addr$upstream_status$upstream_http_x_app')).to.equal('');
  });

  it('$upstream_status of an upstream that gave no response is the status sent (502, 504)', () => {
    const { ex, t } = request({ upstream: { upstreamAddr: '127.0.0.1:9' } });
    ex.status = 502;
    expect(t('$upstream_status')).to.equal('502');
  });

  it('$upstream_cache_status from the Cache-Status the cache set', () => {
    const { ex, t } = request();
    const cases: Array<[string, string]> = [
      ['gatehouse; hit; ttl=10', 'HIT'],
      ['gatehouse; fwd=uri-miss; stored', 'MISS'],
      ['gatehouse; fwd=stale; fwd-status=304', 'REVALIDATED'],
      ['gatehouse; fwd=stale; fwd-status=200', 'EXPIRED'],
      ['gatehouse; fwd=bypass', 'BYPASS'],
      ['other; hit', ''],
    ];
    for (const [status, word] of cases) {
      ex.sentHeaders = { 'cache-status': status };
      expect(t('$upstream_cache_status'), status).to.equal(word);
    }
  });

  it('$ssl_protocol, $ssl_cipher, $ssl_server_name, $ssl_session_reused, $ssl_alpn_protocol, $ssl_client_verify; nothing over plain HTTP', () => {
    const f = '$ssl_protocol|$ssl_cipher|$ssl_server_name|$ssl_session_reused|$ssl_alpn_protocol|$ssl_client_verify';
    expect(request({ secure: true }).t(f)).to.equal('TLSv1.3|TLS_AES_128_GCM_SHA256|a.test|.|h2|NONE');
    expect(request().t(f)).to.equal('|||||');
  });

  it('$realpath_root: the root with its symlinks resolved', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-real-'));
    fs.mkdirSync(path.join(dir, 'v2'));
    fs.symlinkSync(path.join(dir, 'v2'), path.join(dir, 'current'));
    expect(request({ root: path.join(dir, 'current') }).t('$realpath_root')).to.equal(fs.realpathSync(path.join(dir, 'v2')));
    expect(request({ root: path.join(dir, 'missing') }).t('$realpath_root')).to.equal('');
  });

  it('$request_length: the request line and fields as HTTP/1.1 carries them, and the body', () => {
    // "GET /a?b=1 HTTP/1.1\r\n" (21) + "host: a.test\r\n" (14) + "content-length: 3\r\n" (19) + "\r\n" (2) + 3
    expect(request({ headers: { host: 'a.test', 'content-length': '3' } }).t('$request_length')).to.equal('59');
  });

  it('$nginx_version is gatehouse\'s own version (and $gatehouse_version)', () => {
    expect(request().t('$nginx_version $gatehouse_version')).to.equal(`${VERSION} ${VERSION}`);
  });

  it('the config checker accepts every one of them in templates', () => {
    const all = '$request $status $body_bytes_sent $bytes_sent $request_time $request_length $request_id $remote_user $time_local $time_iso8601 $msec $pid $hostname $connection $connection_requests $realpath_root $sent_http_x $upstream_addr $upstream_status $upstream_response_time $upstream_header_time $upstream_connect_time $upstream_cache_status $upstream_http_x $ssl_protocol $ssl_cipher $ssl_server_name $ssl_session_reused $ssl_alpn_protocol $ssl_client_verify $nginx_version';
    valid(lines('listen: { http: 8080 }', 'sites:', '  - hosts: a.test', '    tls: off', '    routes:', `      - { location: /, return: '200 "${all}"' }`));
  });
});
