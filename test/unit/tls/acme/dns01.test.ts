// issue 19: DNS-01 in the order flow. The TXT value against RFC 8555 §8.4 computed independently of
// acme-client; the order of steps (every record written and seen before any challenge is answered) and
// the cleanup on every path, with a recording stand-in of acme-client's Client (the real CA exchange is
// in test/integration/acme-dns01.test.ts).
import { expect } from 'chai';
import acme from 'acme-client';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { ChallengeStore } from '../../../../src/tls/acme/challenges.js';
import type { DnsSolver } from '../../../../src/tls/acme/dns/index.js';
import { challengeName } from '../../../../src/tls/acme/dns/provider.js';
import { AcmeOrderError } from '../../../../src/tls/acme/errors.js';
import { OnDemandGate } from '../../../../src/tls/acme/on-demand.js';
import { runOrder } from '../../../../src/tls/acme/order.js';
import { ecKeyPem, recordingLogger } from './helpers.js';

/** RFC 7638 thumbprint of an EC P-256 key: SHA-256 over {"crv","kty","x","y"} in that order. */
function thumbprint(publicKeyPem: string): string {
  const jwk = createPublicKey(publicKeyPem).export({ format: 'jwk' }) as { crv: string; kty: string; x: string; y: string };
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url');
}

interface FakeAuthz {
  url: string;
  status: string;
  identifier: { type: string; value: string };
  wildcard?: boolean;
  challenges: Array<{ type: string; url: string; token: string; status: string }>;
}

function authz(name: string, wildcard = false, status = 'pending'): FakeAuthz {
  const token = `tok-${wildcard ? 'w' : 'b'}-${name}`;
  return {
    url: `https://ca.test/authz/${token}`,
    status,
    identifier: { type: 'dns', value: name },
    ...(wildcard ? { wildcard: true } : {}),
    challenges: [
      { type: 'http-01', url: `https://ca.test/chall/h/${token}`, token, status: 'pending' },
      { type: 'dns-01', url: `https://ca.test/chall/d/${token}`, token, status: 'pending' },
    ],
  };
}

/** Records every step of the order as text, in order. */
function fakeClient(events: string[], authzs: FakeAuthz[], opts: { failComplete?: string } = {}) {
  return {
    createOrder: async () => ({ url: 'https://ca.test/order/1', authorizations: authzs.map((a) => a.url) }),
    getAuthorizations: async (order: { authorizations: string[] }) => authzs.filter((a) => order.authorizations.includes(a.url)),
    getChallengeKeyAuthorization: async (c: { token: string; type: string }) => `${c.type}:${c.token}`,
    completeChallenge: async (c: { token: string }) => {
      events.push(`complete ${c.token}`);
      if (opts.failComplete === c.token) throw new Error('the CA refused');
    },
    waitForValidStatus: async () => undefined,
    finalizeOrder: async () => {
      events.push('finalize');
      return { certificate: 'https://ca.test/cert' };
    },
    getCertificate: async () => 'PEM',
  } as unknown as acme.Client;
}

function recordingSolver(events: string[], fail: { present?: string; wait?: string } = {}): DnsSolver {
  return {
    provider: {
      present: async (fqdn, value) => {
        events.push(`present ${fqdn} ${value}`);
        if (fail.present === value) throw new Error('403 from the API');
      },
      cleanup: async (fqdn, value) => {
        events.push(`cleanup ${fqdn} ${value}`);
      },
    },
    propagation: {
      target: async (fqdn) => fqdn,
      wait: async (fqdn, value) => {
        await new Promise((r) => setTimeout(r, 5));
        events.push(`wait ${fqdn} ${value}`);
        if (fail.wait === value) throw new Error('not seen within 2m');
      },
    },
  };
}

const noStore = {} as ChallengeStore;

/** One DNS-01 order for example.test through `solver`, its warnings to `warn`. */
function orderExampleTest(events: string[], solver: DnsSolver, warn: NonNullable<Parameters<typeof runOrder>[0]['warn']>) {
  return runOrder({ client: fakeClient(events, [authz('example.test')]), names: ['example.test'], type: 'dns-01', keyPem: ecKeyPem(), challenges: noStore, dns: solver, warn });
}

describe('DNS-01 (RFC 8555 §8.4)', () => {
  it('the TXT value is base64url(SHA-256(token "." thumbprint)), as acme-client computes it for dns-01', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const client = new acme.Client({ directoryUrl: 'https://ca.test/dir', accountKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    const token = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA';
    const keyAuthorization = `${token}.${thumbprint(publicKey.export({ type: 'spki', format: 'pem' }).toString())}`;
    const expected = createHash('sha256').update(keyAuthorization).digest('base64url');
    const got = await client.getChallengeKeyAuthorization({ type: 'dns-01', token, url: 'https://ca.test/c', status: 'pending' });
    expect(got).to.equal(expected);
    expect(got).to.match(/^[A-Za-z0-9_-]{43}$/); // 32 bytes, unpadded
  });

  it('a wildcard\'s record sits at its base name', () => {
    expect(challengeName('*.Example.COM')).to.equal('_acme-challenge.example.com');
    expect(challengeName('example.com.')).to.equal('_acme-challenge.example.com');
  });

  it('writes both values at the shared name and waits for both before answering either challenge; removes both after', async () => {
    const events: string[] = [];
    const authzs = [authz('example.test', true), authz('example.test')];
    const pem = await runOrder({ client: fakeClient(events, authzs), names: ['*.example.test', 'example.test'], type: 'dns-01', keyPem: ecKeyPem(), challenges: noStore, dns: recordingSolver(events) });
    expect(pem).to.equal('PEM');
    const w = 'dns-01:tok-w-example.test';
    const b = 'dns-01:tok-b-example.test';
    const n = '_acme-challenge.example.test';
    expect(events.slice(0, 2)).to.deep.equal([`present ${n} ${w}`, `present ${n} ${b}`]);
    expect(events.slice(2, 4).sort()).to.deep.equal([`wait ${n} ${b}`, `wait ${n} ${w}`]);
    expect(events.slice(4, 6).sort()).to.deep.equal(['complete tok-b-example.test', 'complete tok-w-example.test']);
    expect(events.slice(6, 8).sort()).to.deep.equal([`cleanup ${n} ${b}`, `cleanup ${n} ${w}`]);
    expect(events[8]).to.equal('finalize');
  });

  it('skips authorizations the CA already holds valid (no record written for them)', async () => {
    const events: string[] = [];
    const authzs = [authz('a.test', false, 'valid'), authz('b.test')];
    await runOrder({ client: fakeClient(events, authzs), names: ['a.test', 'b.test'], type: 'dns-01', keyPem: ecKeyPem(), challenges: noStore, dns: recordingSolver(events) });
    expect(events.filter((e) => e.startsWith('present'))).to.deep.equal(['present _acme-challenge.b.test dns-01:tok-b-b.test']);
  });

  for (const where of ['present', 'wait', 'complete'] as const) {
    it(`a failure while ${where === 'complete' ? 'answering the challenge' : where === 'present' ? 'writing a record' : 'waiting for propagation'} is a dns-01 order error, and every record written is removed`, async () => {
      const events: string[] = [];
      const authzs = [authz('example.test', true), authz('example.test')];
      const second = 'dns-01:tok-b-example.test';
      const solver = recordingSolver(events, where === 'present' ? { present: second } : where === 'wait' ? { wait: second } : {});
      let error: unknown;
      try {
        await runOrder({
          client: fakeClient(events, authzs, where === 'complete' ? { failComplete: 'tok-b-example.test' } : {}),
          names: ['*.example.test', 'example.test'],
          type: 'dns-01',
          keyPem: ecKeyPem(),
          challenges: noStore,
          dns: solver,
        });
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(where === 'complete' ? Error : AcmeOrderError);
      if (where !== 'complete') {
        expect((error as AcmeOrderError).challenge).to.equal('dns-01');
        expect((error as AcmeOrderError).detail).to.include('example.test');
      }
      // Both cleanups ran (the failed write's too: it may have happened before the error came back).
      expect(events.filter((e) => e.startsWith('cleanup')).sort()).to.deep.equal([
        `cleanup _acme-challenge.example.test ${second}`,
        'cleanup _acme-challenge.example.test dns-01:tok-w-example.test',
      ]);
      expect(events).to.not.include('finalize');
      if (where !== 'complete') expect(events.filter((e) => e.startsWith('complete'))).to.deep.equal([]);
    });
  }

  it('a CA that offers no dns-01 for a wildcard says so, with the fix', async () => {
    const events: string[] = [];
    const a = authz('example.test', true);
    a.challenges = a.challenges.filter((c) => c.type === 'dns-01'); // as CAs do for a wildcard
    let error: AcmeOrderError | undefined;
    try {
      await runOrder({ client: fakeClient(events, [a]), names: ['*.example.test'], type: 'http-01', keyPem: ecKeyPem(), challenges: noStore });
    } catch (err) {
      error = err as AcmeOrderError;
    }
    expect(error?.detail).to.include('the CA offers no http-01 challenge for *.example.test');
    expect(error?.hint).to.include('add dns-01 to acme.challenges and set acme.dns');
  });

  it('a record that cannot be removed is a warning naming it; the order still succeeds', async () => {
    const events: string[] = [];
    const solver = recordingSolver(events);
    solver.provider.cleanup = async () => {
      throw new Error('API down');
    };
    const warnings: Array<{ message: string; meta: Record<string, unknown> }> = [];
    const pem = await orderExampleTest(events, solver, (message, meta) => warnings.push({ message, meta }));
    expect(pem).to.equal('PEM');
    expect(warnings).to.deep.equal([
      { message: 'DNS-01: could not remove a challenge TXT record; remove it by hand', meta: { record: '_acme-challenge.example.test', error: 'API down' } },
    ]);
  });

  it('after a failed write, a failed removal is not reported as a record to remove by hand', async () => {
    const events: string[] = [];
    const solver = recordingSolver(events);
    solver.provider.present = async () => {
      throw new Error('403 Authentication error');
    };
    solver.provider.cleanup = async () => {
      throw new Error('403 Authentication error');
    };
    const warnings: string[] = [];
    let failed: unknown;
    await orderExampleTest(events, solver, (message) => warnings.push(message)).catch((err: unknown) => (failed = err));
    expect((failed as Error)?.message).to.include('403 Authentication error');
    expect(warnings).to.deep.equal(['DNS-01: the TXT record could not be written, and the removal in case the write went through failed too']);
  });

  it('on-demand TLS never orders a wildcard: a "*." SNI name is refused without asking', async () => {
    const logger = recordingLogger();
    // Nothing listens on port 9 here: asking would log a failure.
    const gate = new OnDemandGate('http://127.0.0.1:9/ask', logger);
    expect(await gate.allowed('*.example.test')).to.equal(false);
    expect(logger.lines).to.deep.equal([]);
  });
});
