// issue 19: the Cloudflare provider's requests and its handling of hostile or broken answers, against a
// scripted local HTTP server standing in for the API (the real one cannot be reached here; the end-to-end
// run with Pebble is test/integration/acme-dns01.test.ts).
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudflareApiError, CloudflareDnsProvider } from '../../../../src/tls/acme/dns/cloudflare.js';

const TOKEN = 'unit-token-5d1c0e';

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  body: string;
}

type Script = (req: Seen, res: http.ServerResponse) => void;

async function api(script: Script): Promise<{ endpoint: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, auth: req.headers.authorization, body };
      seen.push(s);
      script(s, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4`,
    seen,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const json = (res: http.ServerResponse, status: number, value: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
};
const ok = (res: http.ServerResponse, result: unknown): void => json(res, 200, { success: true, errors: [], messages: [], result });

function provider(endpoint: string, extra: Partial<ConstructorParameters<typeof CloudflareDnsProvider>[0]> = {}): CloudflareDnsProvider {
  return new CloudflareDnsProvider({ apiToken: TOKEN, endpoint, ttl: 60, timeoutMs: 2000, ...extra });
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('Cloudflare DNS provider (API v4)', () => {
  it('finds the zone by walking up from the record name, then POSTs the TXT with the Bearer token', async () => {
    const s = await api((req, res) => {
      if (req.url.startsWith('/client/v4/zones?')) {
        const name = new URL(req.url, 'http://x').searchParams.get('name');
        return ok(res, name === 'example.com' ? [{ id: 'zone1', name: 'example.com' }] : []);
      }
      ok(res, { id: 'rec1' });
    });
    try {
      await provider(s.endpoint).present('_acme-challenge.a.example.com', 'VALUE');
      expect(s.seen.map((r) => `${r.method} ${r.url}`)).to.deep.equal([
        'GET /client/v4/zones?name=_acme-challenge.a.example.com',
        'GET /client/v4/zones?name=a.example.com',
        'GET /client/v4/zones?name=example.com',
        'POST /client/v4/zones/zone1/dns_records',
      ]);
      expect(s.seen.every((r) => r.auth === `Bearer ${TOKEN}`)).to.equal(true);
      expect(JSON.parse(s.seen[3]!.body)).to.deep.equal({ type: 'TXT', name: '_acme-challenge.a.example.com', content: 'VALUE', ttl: 60 });
    } finally {
      await s.close();
    }
  });

  it('with zoneId it asks for no zone; an identical record (81058) counts as written', async () => {
    const s = await api((_req, res) => json(res, 400, { success: false, errors: [{ code: 81058, message: 'An identical record already exists.' }] }));
    try {
      await provider(s.endpoint, { zoneId: 'z9' }).present('_acme-challenge.example.com', 'V');
      expect(s.seen.map((r) => `${r.method} ${r.url}`)).to.deep.equal(['POST /client/v4/zones/z9/dns_records']);
    } finally {
      await s.close();
    }
  });

  it('cleanup deletes exactly the records holding the value (quoted or not), and a record already gone is fine', async () => {
    const s = await api((req, res) => {
      if (req.method === 'GET') {
        return ok(res, [
          { id: 'r1', name: '_acme-challenge.example.com', content: 'V' },
          { id: 'r2', name: '_acme-challenge.example.com', content: 'OTHER' },
          { id: 'r3', name: '_acme-challenge.example.com', content: '"V"' },
        ]);
      }
      if (req.url.endsWith('/r3')) return json(res, 404, { success: false, errors: [{ code: 81044, message: 'Record does not exist.' }] });
      ok(res, { id: 'r1' });
    });
    try {
      await provider(s.endpoint, { zoneId: 'z9' }).cleanup('_acme-challenge.example.com', 'V');
      expect(s.seen.map((r) => `${r.method} ${r.url}`)).to.deep.equal([
        'GET /client/v4/zones/z9/dns_records?type=TXT&name=_acme-challenge.example.com&per_page=100',
        'DELETE /client/v4/zones/z9/dns_records/r1',
        'DELETE /client/v4/zones/z9/dns_records/r3',
      ]);
    } finally {
      await s.close();
    }
  });

  it('reports the API\'s errors, at most three, bounded, without control characters and never the token', async () => {
    const long = 'x'.repeat(5000);
    const s = await api((_req, res) =>
      json(res, 403, {
        success: false,
        errors: [
          { code: 10000, message: 'Authentication error' },
          { code: 9109, message: `bad token ${TOKEN}\r\nX-Injected: 1` },
          { code: 1, message: long },
          { code: 2, message: 'fourth' },
          { code: 3, message: 'fifth' },
        ],
      }),
    );
    try {
      const err = await failure(provider(s.endpoint, { zoneId: 'z' }).present('_acme-challenge.example.com', 'V'));
      expect(err).to.be.instanceOf(CloudflareApiError);
      expect(err.message).to.match(/^Cloudflare API POST \/zones\/z\/dns_records answered 403: \[10000\] Authentication error; \[9109\] bad token \[token\] X-Injected: 1; \[1\] x+ \(\+2 more\)$/);
      expect(err.message).to.not.include(TOKEN);
      expect(err.message.length).to.be.below(600);
    } finally {
      await s.close();
    }
  });

  it('gives up on an API that does not answer within the timeout', async () => {
    const s = await api(() => undefined); // never answers
    try {
      const started = Date.now();
      const err = await failure(provider(s.endpoint, { zoneId: 'z', timeoutMs: 300 }).present('_acme-challenge.example.com', 'V'));
      expect(err.message).to.equal('Cloudflare API POST /zones/z/dns_records: no answer within 300 ms');
      expect(Date.now() - started).to.be.below(2000);
    } finally {
      await s.close();
    }
  });

  it('refuses an answer over 1 MiB, and one that is not JSON', async () => {
    const big = await api((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.alloc(2 * 1024 * 1024, 0x20));
    });
    const html = await api((_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>'));
    try {
      expect((await failure(provider(big.endpoint, { zoneId: 'z' }).present('_acme-challenge.e.com', 'V'))).message).to.include('larger than 1048576 bytes');
      expect((await failure(provider(html.endpoint, { zoneId: 'z' }).present('_acme-challenge.e.com', 'V'))).message).to.equal(
        'Cloudflare API POST /zones/z/dns_records answered 502 without a JSON body',
      );
    } finally {
      await big.close();
      await html.close();
    }
  });

  it('no zone of the token holds the name: says what to set', async () => {
    const s = await api((_req, res) => ok(res, []));
    try {
      const err = await failure(provider(s.endpoint).present('_acme-challenge.example.com', 'V'));
      expect(err.message).to.include('no zone of this API token holds _acme-challenge.example.com; set acme.dns.zoneId');
      expect(s.seen).to.have.length(2); // _acme-challenge.example.com, example.com; never the bare TLD
    } finally {
      await s.close();
    }
  });
});
