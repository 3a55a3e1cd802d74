// issue 19: TLS policy, seen from a real TLS client (openssl s_client): the default protocol, cipher
// and group set is today's (Mozilla "intermediate"), top-level `tls:` changes it for every site, and a
// site's own keys change it for that SNI name only — protocols included, because gatehouse chooses the
// site's context from the ClientHello before OpenSSL starts the handshake (listener/listeners.ts).
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';

interface Handshake {
  ok: boolean;
  protocol?: string;
  cipher?: string;
  /** OpenSSL's "Server Temp Key" group, e.g. X25519 or prime256v1. */
  group?: string;
  /** The CA names of the server's certificate request, when it asked for a client certificate. */
  caNames?: string;
}

/** One handshake by openssl s_client; stdin is closed, so it ends right after. */
function handshake(port: number, servername: string | undefined, args: string[]): Promise<Handshake> {
  const sni = servername ? ['-servername', servername] : ['-noservername'];
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...sni, ...args], { timeout: 10_000 }, (err, stdout) => {
      if (err && err.killed) return reject(new Error(`s_client timed out: ${stdout}`));
      // "New, TLSv1.3, Cipher is ...": printed with the handshake (the SSL-Session block may come after a TLS 1.3 ticket, or not at all).
      const [, protocol, cipher] = /^New, (\S+), Cipher is (\S+)/m.exec(stdout) ?? [];
      const key = /^Server Temp Key: (.+)$/m.exec(stdout)?.[1];
      const group = key ? (/^ECDH, ([^,]+),/.exec(key)?.[1] ?? key.split(',')[0]) : undefined;
      const ok = cipher !== undefined && cipher !== '(NONE)';
      const caNames = /^Acceptable client certificate CA names\n((?:.+\n)*?)(?:Requested|Client Certificate Types|Server Temp Key|---)/m.exec(stdout)?.[1]?.trim();
      resolve({ ok, ...(ok ? { protocol, cipher, group } : {}), ...(caNames ? { caNames } : {}) });
    });
    child.stdin?.end();
  });
}

// Today's TLS 1.2 list (src/tls/tls-options.ts); the internal CA's leaves are ECDSA, so the ECDSA half is what a handshake can pick.
const DEFAULT_ECDSA_TLS12 = ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305'];
const NOT_IN_DEFAULT = ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES128-CCM', 'ECDHE-ECDSA-ARIA128-GCM-SHA256'];

describe('TLS policy on the listener and per site (integration, openssl s_client)', function () {
  this.timeout(90_000);

  describe('without a policy: today\'s defaults', () => {
    let gh: Gatehouse;
    before(async () => {
      gh = await startGatehouse(() => ({ log: { access: 'off' }, sites: [{ hosts: ['d.test'], tls: 'internal', routes: [{ location: '/', return: 200 }] }] }));
    });
    after(async () => {
      await gh?.stop();
    });

    it('serves TLS 1.2 and 1.3 and refuses 1.1', async () => {
      expect((await handshake(gh.httpsPort, 'd.test', ['-tls1_3'])).protocol).to.equal('TLSv1.3');
      expect((await handshake(gh.httpsPort, 'd.test', ['-tls1_2'])).protocol).to.equal('TLSv1.2');
      expect((await handshake(gh.httpsPort, 'd.test', ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'])).ok).to.equal(false);
    });

    it('accepts exactly the Mozilla intermediate TLS 1.2 suites', async () => {
      for (const c of DEFAULT_ECDSA_TLS12) expect((await handshake(gh.httpsPort, 'd.test', ['-tls1_2', '-cipher', c])).cipher, c).to.equal(c);
      for (const c of NOT_IN_DEFAULT) expect((await handshake(gh.httpsPort, 'd.test', ['-tls1_2', '-cipher', c])).ok, c).to.equal(false);
    });

    it('prefers its own order (AES-128-GCM first) over the client\'s', async () => {
      const h = await handshake(gh.httpsPort, 'd.test', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256']);
      expect(h.cipher).to.equal('ECDHE-ECDSA-AES128-GCM-SHA256');
    });

    it('offers the groups X25519, P-256 and P-384, not P-521', async () => {
      expect((await handshake(gh.httpsPort, 'd.test', ['-tls1_3', '-groups', 'X25519'])).group).to.equal('X25519');
      expect((await handshake(gh.httpsPort, 'd.test', ['-tls1_3', '-groups', 'P-256'])).group).to.equal('prime256v1');
      expect((await handshake(gh.httpsPort, 'd.test', ['-tls1_3', '-groups', 'P-384'])).group).to.equal('secp384r1');
      expect((await handshake(gh.httpsPort, 'd.test', ['-tls1_3', '-groups', 'P-521'])).ok).to.equal(false);
    });
  });

  describe('top-level tls: and a site\'s own keys', () => {
    let gh: Gatehouse;
    before(async () => {
      gh = await startGatehouse(() => ({
        log: { access: 'off' },
        tls: { protocols: ['TLSv1.3'], curves: ['P-384'] },
        sites: [
          { hosts: ['strict.test'], default: true, tls: 'internal', routes: [{ location: '/', return: 200 }] },
          {
            hosts: ['legacy.test'],
            tls: { issuer: 'internal', protocols: ['TLSv1.2'], ciphers: ['ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-ECDSA-AES256-GCM-SHA384'], curves: ['X25519'] },
            routes: [{ location: '/', return: 200 }],
          },
        ],
      }));
    });
    after(async () => {
      await gh?.stop();
    });

    it('applies the listener-wide protocols and groups to a site without its own', async () => {
      expect((await handshake(gh.httpsPort, 'strict.test', ['-tls1_2'])).ok).to.equal(false);
      const h = await handshake(gh.httpsPort, 'strict.test', ['-groups', 'X25519:P-384']);
      expect(h).to.include({ protocol: 'TLSv1.3', group: 'secp384r1' });
      expect((await handshake(gh.httpsPort, 'strict.test', ['-groups', 'X25519:P-256'])).ok).to.equal(false);
    });

    it('gives a client without SNI the default site\'s policy', async () => {
      expect((await handshake(gh.httpsPort, undefined, ['-tls1_2'])).ok).to.equal(false);
      expect((await handshake(gh.httpsPort, undefined, ['-tls1_3'])).protocol).to.equal('TLSv1.3');
    });

    it('applies a site\'s own protocols, ciphers (in its order) and groups to its SNI name', async () => {
      expect((await handshake(gh.httpsPort, 'legacy.test', ['-tls1_3'])).ok).to.equal(false);
      const h = await handshake(gh.httpsPort, 'legacy.test', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305', '-groups', 'P-256:X25519']);
      expect(h).to.include({ protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-CHACHA20-POLY1305', group: 'X25519' });
      expect((await handshake(gh.httpsPort, 'legacy.test', ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256'])).ok).to.equal(false);
      expect((await handshake(gh.httpsPort, 'legacy.test', ['-tls1_2', '-groups', 'P-384:P-256'])).ok).to.equal(false);
    });
  });

  describe('a site with a policy and client certificates (tls.clientAuth) together', () => {
    let gh: Gatehouse;
    before(async () => {
      const dir = tempDir('gh-policy-mtls-');
      const ca = path.join(dir, 'clients-ca.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'ca.key'), '-out', ca, '-days', '2', '-subj', '/CN=Policy Clients CA'], { stdio: 'pipe' });
      gh = await startGatehouse(() => ({
        log: { access: 'off' },
        sites: [
          { hosts: ['open.test'], default: true, tls: 'internal', routes: [{ location: '/', return: 200 }] },
          { hosts: ['both.test'], tls: { issuer: 'internal', protocols: ['TLSv1.3'], curves: ['P-384'], clientAuth: { ca } }, routes: [{ location: '/', return: 200 }] },
        ],
      }));
    });
    after(async () => {
      await gh?.stop();
    });

    it('the handshake for that SNI name has both: only its protocols and groups, and a request for a certificate from its CA', async () => {
      expect((await handshake(gh.httpsPort, 'both.test', ['-tls1_2'])).ok).to.equal(false);
      expect((await handshake(gh.httpsPort, 'both.test', ['-tls1_3', '-groups', 'X25519'])).ok).to.equal(false);
      const h = await handshake(gh.httpsPort, 'both.test', ['-tls1_3', '-groups', 'X25519:P-384']);
      expect(h).to.include({ protocol: 'TLSv1.3', group: 'secp384r1', caNames: 'CN = Policy Clients CA' });
      const open = await handshake(gh.httpsPort, 'open.test', ['-tls1_2']);
      expect(open).to.include({ protocol: 'TLSv1.2' });
      expect(open.caNames).to.equal(undefined);
    });
  });
});
