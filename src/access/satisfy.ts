// The access phase of a route (nginx's ngx_http_core_access_phase): its checks in nginx's order
// (allow/deny, then basic auth, then auth_request: the access, auth_basic and auth_request
// modules' handlers run in that order), combined as `satisfy` says. all: the first refusal
// answers. any: the first pass lets the request in; if none passes, 401 wins over 403 (nginx keeps
// r->access_code at 401 once set). A failure (500, 503) ends the request under either.
import type { AccessSettings } from '../config/types.js';
import type { ResponseHeaders } from '../http/exchange.js';
import { sendStatus } from '../http/respond.js';
import type { Logger } from '../log/types.js';
import type { Middleware, RequestContext } from '../request/context.js';
import { allowDenyCheck } from './allow-deny.js';
import { basicAuthCheck } from './basic-auth.js';
import { forwardAuthCheck } from './forward-auth.js';
import { HtpasswdFile } from './htpasswd.js';
import type { AccessCheck, Verdict } from './verdict.js';

/** Shared per configuration, so that routes naming one file read it once. */
export type HtpasswdFiles = Map<string, HtpasswdFile>;

/** The route's checks, in nginx's order; empty when the route (with what it inherits) asks for none. */
export function accessChecks(settings: AccessSettings, logger: Logger, files: HtpasswdFiles = new Map()): AccessCheck[] {
  const all = settings.satisfy !== 'any';
  const checks: AccessCheck[] = [];
  if (settings.access && settings.access.length > 0) checks.push(allowDenyCheck(settings.access, logger, all));
  const auth = settings.auth;
  if (auth && auth !== 'off') {
    let file = files.get(auth.htpasswd);
    if (!file) {
      file = new HtpasswdFile(auth.htpasswd, logger);
      files.set(auth.htpasswd, file);
    }
    checks.push(basicAuthCheck({ realm: auth.realm, file, logger }));
  }
  const fa = settings.forwardAuth;
  if (fa && fa !== 'off') checks.push(forwardAuthCheck(fa, logger));
  return checks;
}

/** The answer of the phase: undefined lets the request go on. */
export async function runChecks(checks: readonly AccessCheck[], any: boolean, ctx: RequestContext): Promise<Verdict | undefined> {
  let refused: Extract<Verdict, { kind: 'refuse' }> | undefined;
  const challenges: ResponseHeaders[] = [];
  for (const check of checks) {
    const v = await check(ctx);
    if (v.kind === 'declined') continue;
    if (v.kind === 'pass') {
      if (any) return undefined;
      continue;
    }
    if (v.kind === 'fail' || !any) return v;
    if (v.headers) challenges.push(v.headers);
    if (refused?.status !== 401) refused = v;
  }
  if (!refused) return undefined;
  // Every 401 challenge collected (nginx keeps each WWW-Authenticate it was given).
  const www = challenges.flatMap((h) => {
    const v = h['www-authenticate'];
    return v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
  });
  return refused.status === 401 && www.length > 0 ? { kind: 'refuse', status: 401, headers: { 'www-authenticate': www.length === 1 ? www[0]! : www } } : { kind: 'refuse', status: refused.status };
}

function answer(ctx: RequestContext, v: Verdict): void {
  if (v.kind === 'refuse') sendStatus(ctx, v.status, v.headers);
  else if (v.kind === 'fail') sendStatus(ctx, v.status);
}

/** The route step; undefined when there is nothing to check, so such a route pays nothing. */
export function accessStep(settings: AccessSettings, logger: Logger, files?: HtpasswdFiles): Middleware | undefined {
  const checks = accessChecks(settings, logger, files);
  if (checks.length === 0) return undefined;
  const any = settings.satisfy === 'any';
  return (next) => async (ctx) => {
    const v = await runChecks(checks, any, ctx);
    if (ctx.ex.closed) return;
    if (v === undefined) return next(ctx);
    answer(ctx, v);
  };
}
