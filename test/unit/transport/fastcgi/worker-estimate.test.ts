// The FastCGI worker estimate (src/transport/fastcgi/worker-estimate.ts): when a new connection
// counts as waiting in php-fpm's backlog, what that does to the estimate, and how probes raise it.
import { expect } from 'chai';
import { PROBE_INTERVAL_MS, WorkerEstimate, type FreshConnection } from '../../../../src/transport/fastcgi/worker-estimate.js';

const fresh = (sentAt: number, probe = false): FreshConnection => ({ sentAt, probe, seenStuck: false });

describe('FastCGI worker estimate', () => {
  it('takes a new connection for stuck when it waited far longer than a later request took', () => {
    const w = new WorkerEstimate(32);
    const waiting = [fresh(0), fresh(1), fresh(2)];
    // A kept connection ran a request from t=20 to t=24 while these had no answer since t=0..2.
    expect(w.stuck(waiting, 20, 24, 5)).to.deep.equal({ newly: 3, pending: 3 });
    // 5 connections open, 3 of them in the backlog: 2 workers.
    expect(w.value).to.equal(2);
  });

  it('does not count connections sent with or after the finished request (a burst served in parallel)', () => {
    const w = new WorkerEstimate(32);
    expect(w.stuck([fresh(10), fresh(10.5)], 10, 30, 3)).to.deep.equal({ newly: 0, pending: 0 });
    expect(w.value).to.equal(32);
  });

  it('needs the wait to be several times the request and at least a few milliseconds', () => {
    const w = new WorkerEstimate(32);
    // Waited 12 ms against a request of 4 ms: under 4x.
    expect(w.stuck([fresh(0)], 8, 12, 2).newly).to.equal(0);
    // Waited 3 ms against a request of 0.5 ms: over 4x, but under the floor.
    expect(w.stuck([fresh(0)], 2.5, 3, 2).newly).to.equal(0);
    expect(w.value).to.equal(32);
  });

  it('lowers the estimate only on a first sighting with nothing seen before still pending', () => {
    const w = new WorkerEstimate(32);
    const a = fresh(0);
    const b = fresh(1);
    expect(w.stuck([a], 20, 24, 4)).to.deep.equal({ newly: 1, pending: 1 });
    expect(w.value).to.equal(3);
    // a may have been accepted since, not yet answered: b's sighting alone must not count it again.
    expect(w.stuck([a, b], 40, 44, 3)).to.deep.equal({ newly: 1, pending: 2 });
    expect(w.value).to.equal(3);
  });

  it('grows by one when a probe is answered, not when it was seen stuck or failed', () => {
    const w = new WorkerEstimate(2);
    expect(w.probeDue(0)).to.equal(true);
    w.probeStarted(0);
    expect(w.probeDue(PROBE_INTERVAL_MS * 2)).to.equal(false); // one probe at a time
    w.ended(fresh(0, true), true);
    expect(w.value).to.equal(3);
    expect(w.probeDue(PROBE_INTERVAL_MS - 1)).to.equal(false); // at most one per interval
    expect(w.probeDue(PROBE_INTERVAL_MS)).to.equal(true);

    w.probeStarted(PROBE_INTERVAL_MS);
    const stuck = fresh(PROBE_INTERVAL_MS, true);
    w.stuck([stuck], PROBE_INTERVAL_MS + 20, PROBE_INTERVAL_MS + 24, 4);
    w.ended(stuck, true);
    expect(w.value).to.equal(3);

    w.probeStarted(PROBE_INTERVAL_MS * 2);
    w.ended(fresh(PROBE_INTERVAL_MS * 2, true), false);
    expect(w.value).to.equal(3);
  });

  it('may probe again once a probe is abandoned before it sent anything', () => {
    const w = new WorkerEstimate(2);
    w.probeStarted(0);
    expect(w.probeDue(PROBE_INTERVAL_MS)).to.equal(false);
    w.probeAbandoned();
    expect(w.probeDue(PROBE_INTERVAL_MS)).to.equal(true);
    expect(w.value).to.equal(2);
  });

  it('never goes below one', () => {
    const w = new WorkerEstimate(0);
    expect(w.value).to.equal(1);
    expect(w.stuck([fresh(0), fresh(0)], 90, 100, 2).newly).to.equal(2);
    expect(w.value).to.equal(1);
  });
});
