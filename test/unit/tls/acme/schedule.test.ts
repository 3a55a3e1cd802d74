import { expect } from 'chai';
import { backoffDelay, dueTime, MAX_BACKOFF_MS, ruleTime } from '../../../../src/tls/acme/schedule.js';

const DAY = 86_400_000;
const MIN = 60_000;
const t0 = Date.UTC(2030, 0, 1);
const cert = (days: number) => ({ notBefore: new Date(t0), notAfter: new Date(t0 + days * DAY) });

describe('renewal schedule (README "Automatic HTTPS (ACME)")', () => {
  it('backs off 1m, 10m, 100m, then 6h', () => {
    expect([1, 2, 3, 4, 5, 50].map(backoffDelay)).to.deep.equal([MIN, 10 * MIN, 100 * MIN, 360 * MIN, 360 * MIN, 360 * MIN]);
    expect(MAX_BACKOFF_MS).to.equal(6 * 3600_000);
    expect(backoffDelay(0)).to.equal(0);
  });

  it('renews with a third of the lifetime left, half for lifetimes under 10 days', () => {
    expect(ruleTime(cert(90))).to.equal(t0 + 60 * DAY);
    expect(ruleTime(cert(6))).to.equal(t0 + 3 * DAY);
  });

  it('honours renewBefore, but never more than half the lifetime', () => {
    expect(ruleTime(cert(90), 10 * DAY)).to.equal(t0 + 80 * DAY);
    expect(ruleTime(cert(6), 30 * DAY)).to.equal(t0 + 3 * DAY);
  });

  it('follows an ARI time that is earlier, and caps a late one half-way between the rule and expiry', () => {
    expect(dueTime(cert(90), undefined, t0 + 20 * DAY)).to.equal(t0 + 20 * DAY);
    expect(dueTime(cert(90), undefined, t0 + 70 * DAY)).to.equal(t0 + 70 * DAY);
    expect(dueTime(cert(90), undefined, t0 + 89 * DAY)).to.equal(t0 + 75 * DAY);
  });
});
