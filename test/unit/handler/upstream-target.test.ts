// The cache key of a proxy route is what the route sends (review F4), and the target it computed
// for the key is the one the proxy sends: built once, rebuilt only when the request has changed.
import { expect } from 'chai';
import { type RequestContext } from '../../../src/request/context.js';
import { RequestVars } from '../../../src/request/vars.js';
import type { ProxyRuntime } from '../../../src/handler/proxy.js';
import { upstreamRequestHeaders, type RequestHeaderPolicy } from '../../../src/handler/proxy-headers.js';
import { cacheKeyFor, targetFor } from '../../../src/handler/upstream-target.js';
import { compileHeaderOps } from '../../../src/http/header-ops.js';
import { compileTrust } from '../../../src/http/trust.js';

function request(rawTarget: string, authority: string | undefined, path: string): RequestContext {
  const q = rawTarget.indexOf('?');
  const ctx = {
    host: 'a.test',
    path,
    args: q === -1 ? '' : rawTarget.slice(q + 1),
    internal: undefined,
    upstreamTarget: undefined,
    site: { config: { hosts: ['a.test'] } },
    env: { trust: compileTrust([]) },
    ex: {
      method: 'GET',
      rawTarget,
      authority,
      headers: { host: authority, 'x-room': 'r1' },
      conn: { secure: true, remoteAddress: '192.0.2.1', remotePort: 50000, localAddress: '127.0.0.1', localPort: 8443 },
    },
  } as unknown as RequestContext;
  ctx.vars = new RequestVars(ctx);
  return ctx;
}

/** A runtime whose path function is the raw target (no URI part), counting its calls. */
function runtime(policy: Partial<RequestHeaderPolicy> = {}): ProxyRuntime & { calls: number } {
  const rt = {
    calls: 0,
    path(ctx: RequestContext): string {
      rt.calls += 1;
      return ctx.ex.rawTarget;
    },
    requestHeaders: { style: 'native', proxyHost: '127.0.0.1:9000', ops: undefined, ...policy },
  };
  return rt as unknown as ProxyRuntime & { calls: number };
}

describe('handler/upstream-target', () => {
  it('keys on the scheme, the upstream, the Host as sent (port part kept) and the target as sent', () => {
    const rt = runtime();
    expect(cacheKeyFor(request('/c/a%2Fb?x=1', 'a.test:8443', '/c/a/b'), rt, 'upstream:app')).to.equal('https\nupstream:app\na.test:8443\n/c/a%2Fb?x=1');
    expect(cacheKeyFor(request('/c/a/b?x=1', 'a.test', '/c/a/b'), rt, 'upstream:app')).to.equal('https\nupstream:app\na.test\n/c/a/b?x=1');
    // A "/" in a Host cannot make two requests one key.
    expect(cacheKeyFor(request('/y', 'a.test/x', '/y'), rt, 'upstream:app')).not.to.equal(cacheKeyFor(request('/x/y', 'a.test', '/x/y'), rt, 'upstream:app'));
    // One Host and target sent to two upstreams are two keys (nginx's $proxy_host).
    expect(cacheKeyFor(request('/x', 'a.test', '/x'), rt, 'upstream:a')).not.to.equal(cacheKeyFor(request('/x', 'a.test', '/x'), rt, 'upstream:b'));
  });

  it('keys on the Host the headers carry: $proxy_host in nginx style, a headers.request value, none', () => {
    const cases: Array<[Partial<RequestHeaderPolicy>, string]> = [
      [{ style: 'nginx' }, '127.0.0.1:9000'],
      [{ ops: compileHeaderOps({ set: { Host: 'fixed.internal' }, remove: [] }) }, 'fixed.internal'],
      [{ ops: compileHeaderOps({ set: { Host: '$http_x_room.rooms' }, remove: [] }) }, 'r1.rooms'],
      [{ ops: compileHeaderOps({ set: {}, remove: ['Host'] }) }, ''],
    ];
    for (const [policy, host] of cases) {
      const ctx = request('/p', 'a.test:8443', '/p');
      const rt = runtime(policy);
      expect(cacheKeyFor(ctx, rt, 'upstream:app'), JSON.stringify(policy)).to.equal(`https\nupstream:app\n${host}\n/p`);
      expect(upstreamRequestHeaders(ctx, rt.requestHeaders).host, JSON.stringify(policy)).to.equal(host || undefined);
    }
  });

  it('builds the target once for key and request, and again when path, args or route change', () => {
    const rt = runtime();
    const ctx = request('/c/x', 'a.test', '/c/x');
    cacheKeyFor(ctx, rt, 'upstream:app');
    expect(targetFor(ctx, rt)).to.equal('/c/x');
    expect(rt.calls).to.equal(1);
    // A cache fill runs the route on a context derived from the client's (cache/upstream-call.ts).
    const derived = Object.create(ctx, { ex: { value: ctx.ex } }) as RequestContext;
    expect(targetFor(derived, rt)).to.equal('/c/x');
    expect(rt.calls).to.equal(1);
    const other = runtime();
    targetFor(ctx, other);
    expect(other.calls).to.equal(1);
    // A tryFiles hit that rewrote the path.
    derived.path = '/c/x/index.html';
    derived.internal = true;
    targetFor(derived, rt);
    expect(rt.calls).to.equal(2);
    // Uncached routes never had a target computed for them.
    const plain = request('/d', 'a.test', '/d');
    expect(targetFor(plain, rt)).to.equal('/d');
    expect(rt.calls).to.equal(3);
  });
});
