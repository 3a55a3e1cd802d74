// nginx's ngx_http_core_access_phase: how the verdicts of the access checks make one answer.
import { expect } from 'chai';
import { runChecks } from '../../../src/access/satisfy.js';
import type { AccessCheck, Verdict } from '../../../src/access/verdict.js';
import type { RequestContext } from '../../../src/request/context.js';

const ctx = {} as RequestContext;
const pass: Verdict = { kind: 'pass' };
const declined: Verdict = { kind: 'declined' };
const forbidden: Verdict = { kind: 'refuse', status: 403 };
const challenge = (realm: string): Verdict => ({ kind: 'refuse', status: 401, headers: { 'www-authenticate': `Basic realm="${realm}"` } });
const fail: Verdict = { kind: 'fail', status: 500 };

/** Checks that answer `vs` in order and record which of them ran. */
function checks(...vs: Verdict[]): { list: AccessCheck[]; ran: number[] } {
  const ran: number[] = [];
  return { ran, list: vs.map((v, i) => async () => (ran.push(i), v)) };
}

describe('access/satisfy', () => {
  it('all: every check must pass or decline; the first refusal answers and the rest do not run', async () => {
    expect(await runChecks(checks(pass, declined, pass).list, false, ctx)).to.equal(undefined);
    const c = checks(pass, forbidden, challenge('r'));
    expect(await runChecks(c.list, false, ctx)).to.deep.equal(forbidden);
    expect(c.ran).to.deep.equal([0, 1]);
    expect(await runChecks(checks(challenge('r'), forbidden).list, false, ctx)).to.deep.equal(challenge('r'));
  });

  it('any: the first pass lets the request in without running the rest', async () => {
    const c = checks(forbidden, pass, fail);
    expect(await runChecks(c.list, true, ctx)).to.equal(undefined);
    expect(c.ran).to.deep.equal([0, 1]);
  });

  it('any: when none passes, 401 wins over 403 whatever the order, with its challenge', async () => {
    expect(await runChecks(checks(forbidden, challenge('r')).list, true, ctx)).to.deep.equal(challenge('r'));
    expect(await runChecks(checks(challenge('r'), forbidden).list, true, ctx)).to.deep.equal(challenge('r'));
    expect(await runChecks(checks(forbidden, declined).list, true, ctx)).to.deep.equal(forbidden);
  });

  it('any: only declines let the request in (nginx: no access code was set)', async () => {
    expect(await runChecks(checks(declined, declined).list, true, ctx)).to.equal(undefined);
  });

  it('a failure ends the request under either, even after a refusal under any', async () => {
    expect(await runChecks(checks(forbidden, fail, pass).list, true, ctx)).to.deep.equal(fail);
    expect(await runChecks(checks(fail, pass).list, false, ctx)).to.deep.equal(fail);
  });
});
