// A request context for the rewrite engine: a real RequestVars over a recording exchange, so a
// test sees what was answered (status, headers, body) and what the request became (path, args).
import type { RequestContext } from '../../../src/request/context.js';
import { RequestVars } from '../../../src/request/vars.js';
import { normalizeRequestTarget } from '../../../src/http/normalize.js';

export interface Answered {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

export type TestContext = RequestContext & { answered: Answered | undefined; aborted: boolean; redirects: Array<[string, string]>; errors: string[] };

export function request(rawTarget: string, headers: Record<string, string> = {}, root?: string): TestContext {
  const target = normalizeRequestTarget(rawTarget);
  if (!target) throw new Error(`bad target ${rawTarget}`);
  const ctx = {
    answered: undefined,
    aborted: false,
    redirects: [],
    errors: [],
    host: 'a.test',
    path: target.path,
    args: target.args,
    internal: undefined,
    route: root === undefined ? undefined : { config: { root } },
    site: { config: { hosts: ['a.test'] } },
    env: {
      logger: { error: (msg: string) => ctx.errors.push(msg) },
      internalRedirect(c: RequestContext, path: string, args: string) {
        ctx.redirects.push([path, args]);
      },
    },
    ex: {
      method: 'GET',
      rawTarget,
      protocol: 'HTTP/1.1',
      headers: { host: 'a.test', ...headers },
      headersSent: false,
      closed: false,
      conn: { secure: false, remoteAddress: '192.0.2.1', remotePort: 50000, localAddress: '127.0.0.1', localPort: 8080 },
      respond(status: number, h: Record<string, unknown>, body?: string) {
        ctx.answered = { status, headers: h, body: body ?? '' };
      },
      abort() {
        ctx.aborted = true;
      },
    },
  } as unknown as TestContext;
  ctx.vars = new RequestVars(ctx);
  return ctx;
}
