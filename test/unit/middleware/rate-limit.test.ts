import { expect } from 'chai';
import { RateLimiter } from '../../../src/middleware/rate-limit.js';

class FakeClock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
}

describe('rate limiter (nginx limit_req, nodelay)', () => {
  it('accepts 1 + burst at once, then refuses with Retry-After', () => {
    const clock = new FakeClock();
    const rl = new RateLimiter({ ratePerSec: 10, burst: 20 }, 100, clock);
    for (let i = 0; i < 21; i++) expect(rl.take('a').ok, `request ${i + 1}`).to.equal(true);
    const v = rl.take('a');
    expect(v).to.deep.equal({ ok: false, retryAfterSec: 1 });
  });

  it('leaks at the rate: one more request per 1/rate', () => {
    const clock = new FakeClock();
    const rl = new RateLimiter({ ratePerSec: 2, burst: 0 }, 100, clock);
    expect(rl.take('a').ok).to.equal(true);
    clock.t += 499;
    expect(rl.take('a').ok).to.equal(false);
    clock.t += 1;
    expect(rl.take('a').ok).to.equal(true);
    clock.t += 500;
    expect(rl.take('a').ok).to.equal(true);
  });

  it('a refused request does not fill the bucket further', () => {
    const clock = new FakeClock();
    const rl = new RateLimiter({ ratePerSec: 1, burst: 0 }, 100, clock);
    rl.take('a');
    for (let i = 0; i < 5; i++) expect(rl.take('a').ok).to.equal(false);
    clock.t += 1000;
    expect(rl.take('a').ok).to.equal(true);
  });

  it('Retry-After is the whole seconds until one request fits', () => {
    const clock = new FakeClock();
    const rl = new RateLimiter({ ratePerSec: 1 / 6, burst: 1 }, 100, clock); // 10r/m
    expect(rl.take('a').ok).to.equal(true);
    expect(rl.take('a').ok).to.equal(true);
    expect(rl.take('a')).to.deep.equal({ ok: false, retryAfterSec: 6 });
    clock.t += 2500;
    expect(rl.take('a')).to.deep.equal({ ok: false, retryAfterSec: 4 });
  });

  it('clients are independent', () => {
    const clock = new FakeClock();
    const rl = new RateLimiter({ ratePerSec: 1, burst: 0 }, 100, clock);
    expect(rl.take('a').ok).to.equal(true);
    expect(rl.take('a').ok).to.equal(false);
    expect(rl.take('b').ok).to.equal(true);
  });

  it('forgets a client once its bucket has leaked empty', () => {
    const clock = new FakeClock();
    const rl = new RateLimiter({ ratePerSec: 10, burst: 5 }, 100, clock);
    for (let i = 0; i < 6; i++) rl.take('a');
    expect(rl.size).to.equal(1);
    clock.t += 20_000;
    rl.take('b'); // a sweep runs at most every 10 s, on a take
    expect(rl.size).to.equal(1);
  });

  it('a flood of distinct addresses keeps at most maxClients entries', () => {
    const clock = new FakeClock();
    const rl = new RateLimiter({ ratePerSec: 1, burst: 10 }, 1000, clock);
    for (let i = 0; i < 50_000; i++) {
      expect(rl.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`).ok).to.equal(true);
    }
    expect(rl.size).to.equal(1000);
  });
});

describe('rate limiter: requests another process accepted (addRemote)', () => {
  it('fills the bucket as if they had come here; the first of them is free, as a first request is', () => {
    const clock = new FakeClock();
    const rl = new RateLimiter({ ratePerSec: 1, burst: 3 }, 100, clock);
    rl.addRemote('a', 2); // excess 1
    expect(rl.take('a').ok).to.equal(true); // excess 2
    expect(rl.take('a').ok).to.equal(true); // excess 3
    expect(rl.take('a').ok).to.equal(false);
    expect(rl.take('b').ok).to.equal(true); // another client is untouched
  });

  it('leaks what it was told from then on', () => {
    const clock = new FakeClock();
    const rl = new RateLimiter({ ratePerSec: 1, burst: 0 }, 100, clock);
    expect(rl.take('a').ok).to.equal(true);
    rl.addRemote('a', 1);
    clock.t += 1000;
    expect(rl.take('a').ok).to.equal(false);
    clock.t += 1000;
    expect(rl.take('a').ok).to.equal(true);
  });
});
