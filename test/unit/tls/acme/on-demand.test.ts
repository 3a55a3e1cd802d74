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

  describe('concurrent ask requests', () => {
    /** An ask endpoint that holds every answer until released, and counts what it was asked. */
    let held: http.Server;
    let heldAsk: string;
    const waiting: http.ServerResponse[] = [];
    let received = 0;
    const release = (status: number): void => {
      for (const res of waiting.splice(0)) res.writeHead(status).end();
    };
    const settled = async <T>(p: Promise<T>): Promise<boolean> =>
      Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 50))]);

    before(async () => {
      held = http.createServer((_req, res) => {
        received++;
        waiting.push(res);
      });
      await new Promise<void>((r) => held.listen(0, '127.0.0.1', r));
      heldAsk = `http://127.0.0.1:${(held.address() as AddressInfo).port}/ask`;
    });
    beforeEach(() => {
      release(503);
      received = 0;
    });
    after(() => {
      release(503);
      held.closeAllConnections();
      held.close();
    });

    const untilReceived = async (n: number): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (received < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(received).to.equal(n);
    };

    it('asks about 8 names at once by default; the others are refused at once, with one log line for the burst', async () => {
      const logger = recordingLogger();
      const gate = new OnDemandGate(heldAsk, logger);
      const names = Array.from({ length: 20 }, (_, i) => `burst${i}.example.com`);
      const answers = names.map((n) => gate.allowed(n));
      await untilReceived(8);
      // The 12 names over the cap are answered no without waiting for the endpoint.
      const over = answers.slice(8);
      expect(await Promise.all(over.map(settled))).to.deep.equal(over.map(() => true));
      expect(await Promise.all(over)).to.deep.equal(over.map(() => false));
      expect(await Promise.all(answers.slice(0, 8).map(settled)), 'the first 8 wait for ask').to.deep.equal(Array(8).fill(false));
      // A name already being asked about joins that question instead of being refused.
      const again = gate.allowed('burst0.example.com');
      await new Promise((r) => setTimeout(r, 100));
      expect(received, 'nothing beyond the cap reached the endpoint').to.equal(8);
      expect(logger.lines.filter((l) => l.level === 'warn')).to.have.length(1);
      expect(logger.lines[0]!.message).to.match(/8 ask requests/);

      release(204);
      expect(await Promise.all(answers.slice(0, 8))).to.deep.equal(Array(8).fill(true));
      expect(await again).to.equal(true);
      // The end of the burst says how many names were refused.
      expect(logger.lines.filter((l) => l.level === 'warn')).to.have.length(1);
      const end = logger.lines.find((l) => l.level === 'info' && /refused/.test(l.message));
      expect(end?.meta?.refused).to.equal(12);

      // A refusal for load is not a "no" from ask: the name is asked at its next handshake.
      const later = gate.allowed('burst19.example.com');
      await untilReceived(9);
      release(204);
      expect(await later).to.equal(true);
    });

    it('never refuses the renewal check of an issued name for load', async () => {
      const gate = new OnDemandGate(heldAsk, recordingLogger(), { maxAsks: 2 });
      const first = [gate.allowed('r1.example.com'), gate.allowed('r2.example.com')];
      await untilReceived(2);
      expect(await gate.allowed('r3.example.com')).to.equal(false);
      const renewal = gate.allowed('r4.example.com', 'renewal');
      await untilReceived(3);
      release(204);
      expect(await Promise.all([...first, renewal])).to.deep.equal([true, true, true]);
    });
  });
});
