// issue 17: nginx's if conditions evaluated on a request (the file tests are in run.test.ts).
import { expect } from 'chai';
import { parseCondition } from '../../../src/config/rewrite.js';
import { compileCondition, evaluate, truthy, type Condition } from '../../../src/rewrite/condition.js';
import { request } from './helpers.js';

function holds(cond: string, headers: Record<string, string> = {}, target = '/p'): boolean {
  const c = compileCondition(parseCondition(cond)) as Exclude<Condition, { kind: 'file' }>;
  return evaluate(c, request(target, headers));
}

describe('rewrite/condition', () => {
  it('a value is false when empty or "0", true otherwise ("00", "false")', () => {
    expect([truthy(''), truthy('0'), truthy('00'), truthy('false'), truthy(' ')]).to.deep.equal([false, false, true, true, true]);
    expect(holds('$http_x')).to.equal(false);
    expect(holds('$http_x', { x: '0' })).to.equal(false);
    expect(holds('$http_x', { x: '1' })).to.equal(true);
  });

  it('= and != compare the text exactly (case matters), with variables on both sides', () => {
    expect(holds('$arg_a = yes', {}, '/p?a=yes')).to.equal(true);
    expect(holds('$arg_a = yes', {}, '/p?a=Yes')).to.equal(false);
    expect(holds('$arg_a != yes', {}, '/p?a=no')).to.equal(true);
    expect(holds('$arg_a = $http_x', { x: 'v' }, '/p?a=v')).to.equal(true);
    expect(holds('$arg_a = ""', {}, '/p')).to.equal(true);
  });

  it('~ is case-sensitive, ~* is not, ! negates both', () => {
    expect(holds('$http_user_agent ~ iPhone', { 'user-agent': 'x iPhone' })).to.equal(true);
    expect(holds('$http_user_agent ~ iphone', { 'user-agent': 'x iPhone' })).to.equal(false);
    expect(holds('$http_user_agent ~* iphone', { 'user-agent': 'x iPhone' })).to.equal(true);
    expect(holds('$http_user_agent !~ iphone', { 'user-agent': 'x iPhone' })).to.equal(true);
    expect(holds('$http_user_agent !~* iphone', { 'user-agent': 'x iPhone' })).to.equal(false);
  });

  it('a matching regex sets $1..$9, a failing one clears them', () => {
    const ctx = request('/p', { 'user-agent': 'Bot-7 v2' });
    const c = compileCondition(parseCondition("$http_user_agent ~ '^Bot-(\\d) v(\\d)'")) as Exclude<Condition, { kind: 'file' }>;
    expect(evaluate(c, ctx)).to.equal(true);
    expect(ctx.vars.captures).to.deep.equal(['7', '2']);
    const miss = compileCondition(parseCondition('$http_user_agent ~ ^nope(.)')) as Exclude<Condition, { kind: 'file' }>;
    expect(evaluate(miss, ctx)).to.equal(false);
    expect(ctx.vars.captures).to.deep.equal([]);
  });
});
