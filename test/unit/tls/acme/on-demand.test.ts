import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OnDemandGate } from '../../../../src/tls/acme/on-demand.js';
import { recordingLogger } from './helpers.js';

describe('on-demand TLS gate', () => {
  let server: http.Server;
  let ask: string;
  const asked: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const domain = new URL(req.url ?? '/', 'http://x').searchParams.get('domain') ?? '';
      asked.push(domain);
      if (domain === 'slow.example.com') return; // never answers
      res.writeHead(domain.startsWith('ok') ? 204 : 403).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    ask = `http://127.0.0.1:${(server.address() as AddressInfo).port}/check?token=1`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('allows on 2xx, denies otherwise and remembers a denial; never asks about IPs or malformed names', async () => {
    let now = 0;
    const gate = new OnDemandGate(ask, recordingLogger(), { maxConcurrent: 2, perMinute: 3, askTimeoutMs: 300, denyTtlMs: 1000 }, () => now);
    expect(await gate.allowed('ok.example.com')).to.equal(true);
    expect(await gate.allowed('no.example.com')).to.equal(false);
    expect(await gate.allowed('no.example.com')).to.equal(false);
    expect(asked.filter((d) => d === 'no.example.com')).to.have.length(1);
    now = 2000;
    expect(await gate.allowed('no.example.com')).to.equal(false);
    expect(asked.filter((d) => d === 'no.example.com')).to.have.length(2);
    expect(await gate.allowed('slow.example.com')).to.equal(false); // timeout: deny by default
    for (const bad of ['127.0.0.1', 'a..b', '-x.com', 'localhost', 'x'.repeat(300)]) expect(await gate.allowed(bad), bad).to.equal(false);
    expect(asked).to.not.include('127.0.0.1');
  });

  it('bounds concurrent orders and orders per minute', () => {
    let now = 0;
    const gate = new OnDemandGate(ask, recordingLogger(), { maxConcurrent: 2, perMinute: 3, askTimeoutMs: 300, denyTtlMs: 1000 }, () => now);
    expect([gate.take(), gate.take(), gate.take()]).to.deep.equal([true, true, false]);
    gate.release();
    expect(gate.take()).to.equal(true); // 3rd start this minute
    gate.release();
    gate.release();
    expect(gate.take()).to.equal(false); // 4th within the minute
    now = 61_000;
    expect(gate.take()).to.equal(true);
  });
});
