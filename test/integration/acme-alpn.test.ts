// The TLS listener's acme-tls/1 handling on real sockets, without a CA: which certificate a client gets
// by the ALPN it offers, for TLS 1.3 (Node calls ALPNCallback, then SNICallback) and TLS 1.2 (the other
// way round), with an ECDSA or an RSA default certificate (OpenSSL keeps one certificate per key type, so
// the challenge certificate must take the default's slot).
import acme from 'acme-client';
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { SecureContext } from 'node:tls';
import { probe } from '../helpers/acme.js';
import { tempDir } from '../helpers/gatehouse.js';
import { listenTls, type Listener } from '../../src/listener/listeners.js';
import type { ProtocolServers } from '../../src/listener/protocol-servers.js';
import { silentLogger } from '../../src/log/types.js';
import { createCertEntry } from '../../src/tls/cert-entry.js';
import { ChallengeStore, type ChallengeKeyType } from '../../src/tls/acme/challenges.js';
import { MemoryStorage } from '../unit/tls/acme/helpers.js';

function defaultCert(type: 'ec' | 'rsa') {
  const dir = tempDir('gh-alpn-');
  const key = type === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  execFileSync('openssl', ['req', '-x509', ...key, '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '1', '-subj', '/CN=site.test', '-addext', 'subjectAltName=DNS:site.test'], { cwd: dir, stdio: 'ignore' });
  return createCertEntry({ certPem: fs.readFileSync(path.join(dir, 'c.pem')), keyPem: fs.readFileSync(path.join(dir, 'k.pem')), source: 'manual' });
}

describe('acme-tls/1 on the TLS listener (integration)', function () {
  this.timeout(30_000);

  for (const type of ['ec', 'rsa'] as ChallengeKeyType[]) {
    describe(`with an ${type === 'ec' ? 'ECDSA' : 'RSA'} default certificate`, () => {
      let listener: Listener;
      const entry = defaultCert(type);
      const challenges = new ChallengeStore(new MemoryStorage(), false, () => type);
      const accepted: string[] = [];

      before(async () => {
        await challenges.presentAlpn('site.test', 'tok.thumb');
        // A protocol server that only records what it was handed (end(), not destroy(): with TLS 1.2 the
        // client may not have our Finished yet).
        // It keeps no client timers either (guard()).
        const servers = {
          accept: (s: { end(): void; alpnProtocol?: string }) => (accepted.push(String(s.alpnProtocol)), s.end()),
          guard: () => undefined,
          // issue 19: no site asks for client certificates here.
          clientAuthFor: () => undefined,
        } as unknown as ProtocolServers;
        listener = await listenTls({ host: '127.0.0.1', port: 0 }, { select: () => entry }, servers, silentLogger, {
          enabled: true,
          challengeContext: (n: string): Promise<SecureContext | undefined> => challenges.alpnContext(n),
          challengeContextNow: (n: string) => challenges.alpnContextNow(n),
          onDemandEnabled: () => false,
          onDemand: async () => undefined,
        });
      });
      after(() => listener.stopAccepting());

      for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
        it(`${version}: a validator gets the challenge certificate, everyone else the site's`, async () => {
          const validator = await probe(listener.port, 'site.test', ['acme-tls/1'], 5000, version);
          expect(validator.alpn).to.equal('acme-tls/1');
          expect(acme.crypto.isAlpnCertificateAuthorizationValid(validator.pem, 'tok.thumb')).to.equal(true);
          for (const alpn of [['h2', 'http/1.1'], ['http/1.1'], []]) {
            const other = await probe(listener.port, 'site.test', alpn, 5000, version);
            expect(other.serial, alpn.join(',')).to.equal(entry.serial);
          }
          expect(accepted).to.not.include('acme-tls/1'); // validator connections end after the handshake
        });
      }
    });
  }
});
