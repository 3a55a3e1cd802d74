import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { refreshAri, renewalInfoUrl } from '../../../../src/tls/acme/ari.js';

describe('ARI renewalInfo (RFC 9773 §4)', () => {
  let server: http.Server;
  let base: string;
  let answer: { status: number; body: unknown; retryAfter?: string };
  let requests: string[];

  before(async () => {
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.retryAfter ? { 'retry-after': answer.retryAfter } : {}) });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ari/`;
  });
  after(() => server.close());
  beforeEach(() => {
    requests = [];
  });

  const window = (start: number, end: number) => ({ suggestedWindow: { start: new Date(start).toISOString(), end: new Date(end).toISOString() } });

  it('GETs <renewalInfo>/<CertID>, picks a time inside the window and polls again after Retry-After', async () => {
    const now = Date.UTC(2030, 0, 1);
    answer = { status: 200, body: window(now + 1000_000, now + 2000_000), retryAfter: '3600' };
    const s = await refreshAri({ baseUrl: base, certId: 'abc.def', now, random: () => 0.25 });
    expect(requests).to.deep.equal(['/ari/abc.def']);
    expect(renewalInfoUrl('https://ca/ri', 'x.y')).to.equal('https://ca/ri/x.y');
    expect(Date.parse(s!.chosen)).to.equal(now + 1250_000);
    expect(Date.parse(s!.nextFetch)).to.equal(now + 3600_000);
    // Not before nextFetch: no request, the same state.
    const same = await refreshAri({ baseUrl: base, certId: 'abc.def', previous: s, now: now + 1000 });
    expect(same).to.equal(s);
    expect(requests).to.have.length(1);
    // The same window later keeps the chosen time; a moved window gets a new one.
    const kept = await refreshAri({ baseUrl: base, certId: 'abc.def', previous: s, now: now + 3600_000, random: () => 0.9 });
    expect(kept!.chosen).to.equal(s!.chosen);
    answer = { status: 200, body: window(now - 10, now + 10) };
    const moved = await refreshAri({ baseUrl: base, certId: 'abc.def', previous: kept, now: now + 7200_000, random: () => 0.5 });
    expect(Date.parse(moved!.chosen)).to.equal(now);
    expect(Date.parse(moved!.nextFetch)).to.equal(now + 7200_000 + 6 * 3600_000); // no Retry-After: 6 h
  });

  it('keeps the previous window when the CA answers badly, and tries again in an hour', async () => {
    const now = Date.UTC(2030, 0, 1);
    answer = { status: 200, body: window(now, now + 1000) };
    const s = await refreshAri({ baseUrl: base, certId: 'a.b', now });
    answer = { status: 404, body: {} };
    const after = await refreshAri({ baseUrl: base, certId: 'a.b', previous: { ...s!, nextFetch: new Date(now).toISOString() }, now: now + 1 });
    expect(after!.chosen).to.equal(s!.chosen);
    expect(Date.parse(after!.nextFetch)).to.equal(now + 1 + 3600_000);
    answer = { status: 200, body: { suggestedWindow: { start: 'soon' } } };
    expect(await refreshAri({ baseUrl: base, certId: 'c.d', now })).to.equal(undefined);
  });
});
