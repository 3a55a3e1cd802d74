// The per-minute ring behind /status: rotation, empty minutes, merging several processes.
import { expect } from 'chai';
import { RING_MINUTES, TrafficRing, fillMinutes, mergeErrors } from '../../../src/observe/traffic.js';

const T = Date.UTC(2026, 0, 1, 12, 0, 0);
const MIN = 60_000;

describe('admin/traffic', () => {
  it('counts requests, 4xx and 5xx per minute and fills quiet minutes with zeros', () => {
    const ring = new TrafficRing();
    ring.count(200, T + 1_000);
    ring.count(404, T + 2_000);
    ring.count(502, T + 3 * MIN + 5);
    const minutes = ring.minutes(T + 3 * MIN + 10);
    expect(minutes).to.have.length(RING_MINUTES);
    expect(minutes.at(-1)).to.deep.equal({ minute: T + 3 * MIN, requests: 1, clientErrors: 0, serverErrors: 1 });
    expect(minutes.at(-2)).to.deep.equal({ minute: T + 2 * MIN, requests: 0, clientErrors: 0, serverErrors: 0 });
    expect(minutes.at(-4)).to.deep.equal({ minute: T, requests: 2, clientErrors: 1, serverErrors: 0 });
  });

  it('forgets minutes older than the ring', () => {
    const ring = new TrafficRing();
    ring.count(200, T);
    const later = T + RING_MINUTES * MIN;
    ring.count(200, later);
    const minutes = ring.minutes(later);
    expect(minutes[0]!.minute).to.equal(T + MIN);
    expect(minutes.reduce((n, m) => n + m.requests, 0)).to.equal(1);
  });

  it('sums the minutes of several processes', () => {
    const a = new TrafficRing();
    const b = new TrafficRing();
    a.count(200, T);
    b.count(200, T + 10);
    b.count(500, T + MIN);
    const merged = fillMinutes([a.minutes(T + MIN), b.minutes(T + MIN)], T + MIN);
    expect(merged.slice(-2).map((m) => [m.requests, m.serverErrors])).to.deep.equal([[2, 0], [1, 1]]);
  });

  it('keeps the newest server errors first across processes, at most 20', () => {
    const e = (at: string) => ({ at, site: 's', route: '/', status: 502, method: 'GET', path: '/' });
    const many = Array.from({ length: 25 }, (_, i) => e(`2026-01-01T12:00:${String(i).padStart(2, '0')}Z`));
    const merged = mergeErrors([many.slice(0, 12), many.slice(12)]);
    expect(merged).to.have.length(20);
    expect(merged[0]!.at).to.equal('2026-01-01T12:00:24Z');
  });
});
