import { expect } from 'chai';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RateLimiter } from '../../../src/middleware/rate-limit.js';
import { SharedLimits, encode } from '../../../src/middleware/rate-limit-share.js';
import type { Logger } from '../../../src/log/types.js';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;
const limit = { ratePerSec: 1 / 60, burst: 3 };

async function until(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('rate limits shared by the processes of a cluster (UDP on loopback)', () => {
  let dir: string;
  const open: SharedLimits[] = [];
  const start = async (self: string): Promise<SharedLimits> => {
    const s = await SharedLimits.start(dir, quiet, { self });
    open.push(s!);
    return s!;
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gh-limits-'));
    fs.chmodSync(dir, 0o700);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('is off for a lone process (no runtime folder)', async () => {
    expect(await SharedLimits.start(undefined, quiet)).to.equal(undefined);
  });

  it('a client over its burst on one process is refused by the other; other clients and limits are not', async () => {
    const a = await start('a');
    const b = await start('b');
    await until('the peers to find each other', () => a.peerCount === 1 && b.peerCount === 1);
    const [onA, onB, otherOnB] = [new RateLimiter(limit), new RateLimiter(limit), new RateLimiter(limit)];
    a.attach('site1', onA);
    b.attach('site1', onB);
    b.attach('site2', otherOnB);
    for (let i = 0; i < 4; i++) expect(onA.take('192.0.2.1').ok, `request ${i + 1} on a`).to.equal(true);
    await until('b to hear of them', () => {
      // Probing takes from b's bucket too; a fresh key per probe would not show the shared state.
      return onB.size > 0;
    });
    expect(onB.take('192.0.2.1').ok).to.equal(false);
    expect(onB.take('192.0.2.2').ok).to.equal(true);
    expect(otherOnB.take('192.0.2.1').ok).to.equal(true);
    // And back: what b accepted reaches a.
    for (let i = 0; i < 3; i++) expect(onB.take('192.0.2.2').ok).to.equal(true);
    await until('a to hear of b', () => onA.size === 2);
    expect(onA.take('192.0.2.2').ok).to.equal(false);
  });

  it('ignores datagrams without the folder\'s secret', async () => {
    const a = await start('a');
    const limiter = new RateLimiter(limit);
    a.attach('site1', limiter);
    const port = Number(await readFile(path.join(dir, 'a.limits'), 'utf8'));
    const forged = encode('0'.repeat(32), new Map([['site1', new Map([['192.0.2.9', 100]])]]));
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sock.send(forged[0]!, port, '127.0.0.1', () => resolve()));
    sock.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(limiter.size).to.equal(0);
    expect(limiter.take('192.0.2.9').ok).to.equal(true);
  });

  it('splits a large flush into datagrams under 8 KiB', () => {
    const clients = new Map<string, number>();
    for (let i = 0; i < 2000; i++) clients.set(`2001:db8::${i.toString(16)}`, 1);
    const out = encode('s'.repeat(32), new Map([['id', clients]]));
    expect(out.length).to.be.greaterThan(1);
    for (const d of out) expect(d.length).to.be.at.most(8192);
    const lines = out.flatMap((d) => d.toString('latin1').split('\n').slice(1));
    expect(lines).to.have.length(2000);
  });
});
