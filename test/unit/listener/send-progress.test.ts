// send_timeout's notion of progress (src/listener/connection-guard.ts): bytes that went out, not
// the size of the queue, which a writer refilling on 'drain' keeps level however fast the client reads.
import { expect } from 'chai';
import { SendProgress } from '../../../src/listener/connection-guard.js';

const SEND_MS = 60_000;

describe('SendProgress', () => {
  it('a steady reader behind a writer that keeps the queue level is never stalled', () => {
    let sent = 0;
    const progress = new SendProgress(() => 65_536, () => sent);
    for (let now = 0; now <= 10 * SEND_MS; now += 500) {
      expect(progress.stalled(now, SEND_MS), `at ${now} ms`).to.equal(false);
      sent += 65_536;
    }
  });

  it('a queue that never moves is stalled once sendMs has passed, not before', () => {
    const progress = new SendProgress(() => 65_536, () => 0);
    expect(progress.stalled(0, SEND_MS)).to.equal(false);
    expect(progress.stalled(SEND_MS - 500, SEND_MS)).to.equal(false);
    expect(progress.stalled(SEND_MS, SEND_MS)).to.equal(true);
  });

  it('the wait counts from the last byte that went out, and not while nothing waits', () => {
    let sent = 0;
    let pending = 0;
    const progress = new SendProgress(() => pending, () => sent);
    expect(progress.stalled(0, SEND_MS)).to.equal(false);
    expect(progress.stalled(2 * SEND_MS, SEND_MS), 'nothing waited').to.equal(false);
    pending = 10;
    expect(progress.stalled(2 * SEND_MS + 500, SEND_MS)).to.equal(false);
    sent = 5;
    expect(progress.stalled(3 * SEND_MS, SEND_MS), 'something went out').to.equal(false);
    expect(progress.stalled(4 * SEND_MS - 1, SEND_MS)).to.equal(false);
    expect(progress.stalled(4 * SEND_MS, SEND_MS)).to.equal(true);
  });
});
