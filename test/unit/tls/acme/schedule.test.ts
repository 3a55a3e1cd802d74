import { expect } from 'chai';
import { attemptTime, backoffDelay, dueTime, MAX_BACKOFF_MS, maxJitter, retryDelay, retryFloor, ruleTime } from '../../../../src/tls/acme/schedule.js';

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

  it('caps the back-off at a quarter of the time left, so a 90-second certificate is retried several times before it expires', () => {
    const short = { notBefore: new Date(t0), notAfter: new Date(t0 + 90_000) };
    // Failing from half-life on, each retry at the capped delay:
    let now = t0 + 45_000;
    const attempts: number[] = [];
    for (let failures = 1; now < short.notAfter.getTime(); failures++) {
      attempts.push(Math.round((short.notAfter.getTime() - now) / 1000));
      now += retryDelay(failures, now, short);
    }
    expect(attempts).to.deep.equal([45, 34, 25, 19, 14, 9, 4]);
    // After notAfter, every 5 s (the floor for short lifetimes).
    expect(retryDelay(9, t0 + 100_000, short)).to.equal(5000);
    expect(retryFloor(short)).to.equal(5000);
  });

  it('changes nothing for 90-day certificates before their last day; then never retries faster than every 10 minutes', () => {
    const c = cert(90);
    for (let failures = 1; failures <= 6; failures++) expect(retryDelay(failures, t0 + 60 * DAY, c)).to.equal(backoffDelay(failures));
    expect(retryDelay(9, t0 + 89 * DAY, c)).to.equal(6 * 3600_000); // 24 h left: a quarter is 6 h
    expect(retryDelay(9, t0 + 90 * DAY - 3600_000, c)).to.equal(15 * MIN);
    expect(retryDelay(9, t0 + 91 * DAY, c)).to.equal(10 * MIN); // expired
    expect(retryDelay(1, t0 + 91 * DAY, c)).to.equal(MIN); // the step is smaller than the floor
    // Without a certificate (first order) the steps are unchanged; a CA's Retry-After always wins.
    expect(retryDelay(2, t0)).to.equal(10 * MIN);
    expect(retryDelay(1, t0 + 45_000, { notBefore: new Date(t0), notAfter: new Date(t0 + 90_000) }, 3600_000)).to.equal(3600_000);
  });

  it('jitters by 1% of the lifetime, at most 2 minutes', () => {
    expect(maxJitter({ notBefore: new Date(t0), notAfter: new Date(t0 + 90_000) })).to.equal(900);
    expect(maxJitter(cert(6))).to.equal(2 * MIN);
    expect(maxJitter(cert(90))).to.equal(2 * MIN);
  });

  it('retries a recorded failure at its next attempt even before the due time; otherwise waits for both', () => {
    expect(attemptTime(1000, true, 500)).to.equal(500);
    expect(attemptTime(1000, false, 500)).to.equal(1000);
    expect(attemptTime(1000, false, 2000)).to.equal(2000);
  });
});
