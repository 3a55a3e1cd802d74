// /status HTML: every value escaped, the CSP hash matches the one style block, bars follow the renewal schedule.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { renderStatusPage, STATUS_CSP } from '../../../src/admin/status-page.js';
import type { StatusData } from '../../../src/admin/status-data.js';

function data(over: Partial<StatusData> = {}): StatusData {
  return {
    generatedAt: '2026-01-01T12:00:00.000Z',
    processes: 1,
    uptimeSeconds: 10,
    draining: false,
    sites: [{ hosts: ['a.test'], default: true, tls: 'acme', routes: ['/'] }],
    certificates: [],
    certificatesError: null,
    upstreams: [],
    traffic: [],
    recentErrors: [],
    ...over,
  };
}

const cert = (daysLeft: number, lastError: StatusData['certificates'][number]['lastError'] = null): StatusData['certificates'][number] => ({
  names: ['a.test'],
  source: 'acme',
  issuer: 'Test CA',
  ca: null,
  serial: '01',
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2026-04-01T00:00:00.000Z',
  daysLeft,
  status: 'valid',
  lastError,
  nextAttempt: null,
});

describe('admin/status-page', () => {
  it('allows exactly its own inline style block through the CSP hash', () => {
    const html = renderStatusPage(data());
    const css = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(STATUS_CSP).to.include(`'sha256-${createHash('sha256').update(css).digest('base64')}'`);
    expect(STATUS_CSP).to.match(/^default-src 'none';/);
    expect(html).to.not.match(/<script|style="/);
  });

  it('escapes names, errors and paths', () => {
    const html = renderStatusPage(
      data({
        certificates: [cert(5, { at: '2026-01-01T00:00:00Z', challenge: 'http-01', detail: '<img src=x onerror=alert(1)>' })],
        recentErrors: [{ at: '2026-01-01T00:00:00Z', site: 'a.test', route: '/', status: 502, method: 'GET', path: '/"><script>' }],
      }),
    );
    expect(html).to.not.include('<img src=x');
    expect(html).to.include('&#60;img src=x onerror=alert(1)&#62;');
    expect(html).to.not.include('"><script>');
  });

  it('draws days left over the lifetime: amber once a third is left, red in the last sixth', () => {
    const html = renderStatusPage(data({ certificates: [cert(40)] }));
    // 90-day lifetime: high = 30 (renewal due), low = 15.
    expect(html).to.match(/<meter min="0" max="90" low="15" high="30" optimum="90" value="40"/);
  });
});
