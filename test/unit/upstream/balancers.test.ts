// One suite run against every balancing policy (README "Configuration reference" `balance`): what all of them must do, then
// what each one promises on its own.
import { expect } from 'chai';
import { UpstreamPool, type UpstreamServer } from '../../../src/upstream/pool.js';
import type { Balancer } from '../../../src/upstream/balancer.js';
import { RandomTwoBalancer } from '../../../src/upstream/balancers/random-two.js';
import { POLICIES, clientAddress, distribution, makePool, upstreamConfig } from './pool-fixture.js';

const pools: UpstreamPool[] = [];
const track = (p: UpstreamPool): UpstreamPool => {
  pools.push(p);
  return p;
};
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function markDown(server: UpstreamServer): void {
  server.downUntil = Date.now() + 60_000;
}

for (const policy of POLICIES) {
  describe(`balancer ${policy}`, () => {
    it('never picks a server that is down, passive or active', () => {
      const pool = track(makePool(policy, [1, 1, 1]));
      markDown(pool.servers[0]!);
      pool.servers[1]!.probeDown = true;
      const counts = distribution(pool, 300);
      expect([...counts.keys()]).to.deep.equal([pool.servers[2]!.url]);
    });

    it('spreads requests by weight (5:3:2 within 10 % over 20000 picks)', () => {
      const pool = track(makePool(policy, [5, 3, 2]));
      const counts = distribution(pool, 20_000);
      [5, 3, 2].forEach((w, i) => {
        const share = (counts.get(pool.servers[i]!.url) ?? 0) / 20_000;
        expect(share, pool.servers[i]!.url).to.be.closeTo(w / 10, (w / 10) * 0.1);
      });
    });

    it('leaves out servers already tried for this request', () => {
      const pool = track(makePool(policy, [1, 1, 1]));
      const tried = new Set([pool.servers[0]!, pool.servers[1]!]);
      for (let i = 0; i < 50; i++) expect(pool.pick({ clientKey: clientAddress(i) }, tried)).to.equal(pool.servers[2]);
    });

    it('uses backup servers only when every primary is down', () => {
      const pool = track(makePool(policy, [1, 1], { backups: 1 }));
      const backup = pool.servers[2]!;
      expect(distribution(pool, 200).has(backup.url)).to.equal(false);
      markDown(pool.servers[0]!);
      expect(distribution(pool, 200).has(backup.url)).to.equal(false);
      markDown(pool.servers[1]!);
      expect([...distribution(pool, 50).keys()]).to.deep.equal([backup.url]);
    });

    it('has no server (the proxy answers 503) when all are down', () => {
      const pool = track(makePool(policy, [1, 1], { backups: 1 }));
      pool.servers.forEach(markDown);
      expect(pool.pick({ clientKey: '10.0.0.1' })).to.equal(undefined);
    });
  });
}

describe('balancer round-robin', () => {
  it('interleaves by weight as nginx does (5,1,1 → a a b a c a a)', () => {
    const pool = track(makePool('round-robin', [5, 1, 1]));
    const names = Array.from({ length: 7 }, () => pool.pick({ clientKey: '' })!.url.slice(-1));
    expect(names.join('')).to.equal('1121311');
  });
});

describe('balancer least-conn', () => {
  it('sends to the server with the fewest requests in flight per weight', () => {
    const pool = track(makePool('least-conn', [1, 1, 2]));
    const [a, b, c] = pool.servers as [UpstreamServer, UpstreamServer, UpstreamServer];
    a.inFlight = 3;
    b.inFlight = 1;
    c.inFlight = 3; // 1.5 per weight
    expect(pool.pick({ clientKey: '' })).to.equal(b);
    b.inFlight = 2; // 2 per weight: c is now the least loaded
    expect(pool.pick({ clientKey: '' })).to.equal(c);
  });

  it('breaks ties by round-robin, not always the first server', () => {
    const pool = track(makePool('least-conn', [1, 1, 1]));
    const picks = new Set(Array.from({ length: 3 }, () => pool.pick({ clientKey: '' })));
    expect(picks.size).to.equal(3);
  });
});

describe('balancer random-two', () => {
  it('of the two drawn, takes the one with fewer in flight', () => {
    const pool = track(makePool('random-two', [1, 1]));
    pool.servers[0]!.inFlight = 5;
    expect(new Set(distribution(pool, 100).keys())).to.deep.equal(new Set([pool.servers[1]!.url]));
  });

  it('draws two distinct servers (a deterministic random source)', () => {
    const pool = track(makePool('random-two', [1, 1, 1]));
    const seq = [0.1, 0.1]; // both draws land on the first remaining server: 1, then 2
    const balancer: Balancer = new RandomTwoBalancer(() => seq.shift() ?? 0);
    pool.servers[0]!.inFlight = 1;
    expect(balancer.pick(pool.servers, { clientKey: '' })).to.equal(pool.servers[1]);
  });
});

describe('balancer ip-hash', () => {
  it('sends the same client to the same server every time', () => {
    const pool = track(makePool('ip-hash', [1, 1, 1, 1]));
    for (let i = 0; i < 200; i++) {
      const first = pool.pick({ clientKey: clientAddress(i) });
      for (let k = 0; k < 3; k++) expect(pool.pick({ clientKey: clientAddress(i) })).to.equal(first);
    }
  });

  it('moves about 1/n of the clients when a server is added, and only to the new one', () => {
    const urls = ['http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3', 'http://127.0.0.1:4'];
    const before = track(new UpstreamPool(upstreamConfig(urls.map((url) => ({ url })), { balance: 'ip-hash' })));
    const after = track(new UpstreamPool(upstreamConfig([...urls, 'http://127.0.0.1:5'].map((url) => ({ url })), { balance: 'ip-hash' })));
    const clients = 10_000;
    let moved = 0;
    for (let i = 0; i < clients; i++) {
      const a = before.pick({ clientKey: clientAddress(i) })!.url;
      const b = after.pick({ clientKey: clientAddress(i) })!.url;
      if (a !== b) {
        moved += 1;
        expect(b).to.equal('http://127.0.0.1:5');
      }
    }
    // Ideal: 1/5 of the clients. A modulo hash (nginx ip_hash) would move about 4/5.
    expect(moved / clients).to.be.closeTo(0.2, 0.03);
  });

  it('moves only the clients of a server that goes down', () => {
    const pool = track(makePool('ip-hash', [1, 1, 1, 1]));
    const home = Array.from({ length: 2000 }, (_, i) => pool.pick({ clientKey: clientAddress(i) }));
    markDown(pool.servers[0]!);
    for (let i = 0; i < 2000; i++) {
      const now = pool.pick({ clientKey: clientAddress(i) });
      if (home[i] !== pool.servers[0]) expect(now).to.equal(home[i]);
      else expect(now).to.not.equal(pool.servers[0]);
    }
  });
});
