// Passive health (nginx max_fails / fail_timeout) and the numbers UpstreamPool.stats() reports.
import { expect } from 'chai';
import { UpstreamServer } from '../../../src/upstream/server.js';
import type { Transport } from '../../../src/transport/types.js';
import { makePool } from './pool-fixture.js';

const noTransport = {} as Transport;
const health = { maxFails: 3, failTimeoutMs: 1_000 };

describe('passive health', () => {
  it('marks a server down for failTimeout after maxFails failures within failTimeout', () => {
    const s = new UpstreamServer('http://a', 1, false, noTransport, 'http');
    const t0 = 1_000_000;
    expect(s.recordFailure('refused', health, t0)).to.equal(false);
    expect(s.recordFailure('refused', health, t0 + 100)).to.equal(false);
    expect(s.isUp(t0 + 200)).to.equal(true);
    expect(s.recordFailure('refused', health, t0 + 200)).to.equal(true);
    expect(s.isUp(t0 + 201)).to.equal(false);
    expect(s.isUp(t0 + 1_199)).to.equal(false);
    expect(s.isUp(t0 + 1_200)).to.equal(true);
  });

  it('starts counting again when the failTimeout window has passed', () => {
    const s = new UpstreamServer('http://a', 1, false, noTransport, 'http');
    const t0 = 1_000_000;
    s.recordFailure('reset', health, t0);
    s.recordFailure('reset', health, t0 + 10);
    expect(s.recordFailure('reset', health, t0 + 1_500)).to.equal(false);
    expect(s.fails).to.equal(1);
    expect(s.isUp(t0 + 1_501)).to.equal(true);
  });

  it('a response in between resets the count', () => {
    const s = new UpstreamServer('http://a', 1, false, noTransport, 'http');
    const t0 = 1_000_000;
    s.recordFailure('reset', health, t0);
    s.recordFailure('reset', health, t0 + 1);
    s.recordResponse(5);
    expect(s.recordFailure('reset', health, t0 + 2)).to.equal(false);
    expect(s.isUp(t0 + 3)).to.equal(true);
  });

  it('maxFails 0 never marks a server down but keeps the last error', () => {
    const s = new UpstreamServer('http://a', 1, false, noTransport, 'http');
    for (let i = 0; i < 10; i++) s.recordFailure('refused', { maxFails: 0, failTimeoutMs: 1_000 });
    expect(s.isUp()).to.equal(true);
    expect(s.lastError).to.equal('refused');
  });

  it('a passing probe brings a server back at once, even inside a passive down window', () => {
    const s = new UpstreamServer('http://a', 1, false, noTransport, 'http');
    s.recordFailure('refused', { maxFails: 1, failTimeoutMs: 60_000 });
    s.probeFailed('health check: refused');
    expect(s.isUp()).to.equal(false);
    s.probePassed();
    expect(s.isUp()).to.equal(true);
  });
});

describe('UpstreamPool.stats()', () => {
  it('reports in-flight requests, smoothed head latency, the last error and up/down', async () => {
    const warnings: string[] = [];
    const logger = { error: () => undefined, warn: (m: string) => warnings.push(m), info: () => undefined, debug: () => undefined };
    const pool = makePool('round-robin', [1, 2], { logger });
    try {
      const [a, b] = pool.servers;
      a!.inFlight = 2;
      pool.reportResponse(b!, 100);
      pool.reportResponse(b!, 200);
      pool.reportFailure(a!, 'connect ECONNREFUSED 127.0.0.1:1');
      const [sa, sb] = pool.stats();
      expect(sa).to.include({ url: 'http://127.0.0.1:1', up: false, active: 2, lastError: 'connect ECONNREFUSED 127.0.0.1:1', latencyMs: undefined });
      expect(sb).to.include({ up: true, active: 0, weight: 2, backup: false, lastError: undefined });
      expect(sb!.latencyMs).to.be.closeTo(130, 0.001); // EWMA, alpha 0.3: 100 + 0.3 × (200 − 100)
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.match(/http:\/\/127\.0\.0\.1:1 marked down for 10000 ms after 1 failure/);
    } finally {
      await pool.close();
    }
  });
});
