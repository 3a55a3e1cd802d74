// The internal CA root's name constraints (security review F13), checked by OpenSSL itself: what
// `openssl x509 -text` shows, and which leaves `openssl verify` chains to the root.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLeaf, createRootCa, type PemPair } from '../../../src/tls/ca-certs.js';
import { LOCAL_SUBTREES, permits, readSubtrees, subtreesFor } from '../../../src/tls/name-constraints.js';
import { tempDir } from './fixtures.js';

const run = promisify(execFile);
const DAY = 86400_000;

describe('internal CA name constraints', function () {
  this.timeout(20_000);

  it('permits the local suffixes and private addresses, by whole labels', () => {
    for (const n of ['localhost', 'a.localhost', 'app.test', '*.app.test', 'db.internal', 'printer.local', 'nas.lan', 'router.home.arpa', 'TEST.', '127.0.0.1', '127.8.9.1', '::1', '10.1.2.3', '172.31.255.255', '192.168.1.1', '169.254.1.1', 'fd00::5', 'fe80::1']) {
      expect(permits(LOCAL_SUBTREES, n), n).to.equal(true);
    }
    for (const n of ['example.com', 'atest', 'test.example.com', 'localhost.example.com', 'x.arpa', '8.8.8.8', '172.32.0.1', '::2', '2001:db8::1', '*.com']) {
      expect(permits(LOCAL_SUBTREES, n), n).to.equal(false);
    }
    expect(permits(undefined, 'example.com'), 'a root without constraints permits anything').to.equal(true);
  });

  it('adds the configured names the local subtrees do not cover', () => {
    const s = subtreesFor(['app.test', 'app.corp', '*.wild.corp', '203.0.113.5', '2001:db8::1', '10.0.0.1']);
    expect(s.dns).to.deep.equal([...LOCAL_SUBTREES.dns, 'app.corp', 'wild.corp']);
    expect(s.ip).to.deep.equal([...LOCAL_SUBTREES.ip, '203.0.113.5/32', '2001:db8::1/128']);
    expect(permits(s, 'x.wild.corp')).to.equal(true);
    expect(permits(s, 'other.corp')).to.equal(false);
  });

  describe('with OpenSSL', () => {
    let dir: string;
    let root: PemPair;
    before(async () => {
      dir = await tempDir('gatehouse-nc-');
      root = createRootCa(new Date(Date.now() - 3600_000), new Date(Date.now() + 365 * DAY), subtreesFor(['app.corp', '203.0.113.5']));
      await writeFile(join(dir, 'root.pem'), root.certPem);
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('writes a critical extension that openssl x509 -text shows, and reads it back', async () => {
      const { stdout } = await run('openssl', ['x509', '-noout', '-text', '-in', join(dir, 'root.pem')]);
      expect(stdout).to.match(/X509v3 Name Constraints: critical\n\s+Permitted:\n/);
      const permitted = /Permitted:\n((?:\s+(?:DNS|IP):.*\n)+)/.exec(stdout)![1]!.trim().split(/\s*\n\s*/);
      expect(permitted).to.deep.equal([
        'DNS:localhost',
        'DNS:test',
        'DNS:internal',
        'DNS:local',
        'DNS:lan',
        'DNS:home.arpa',
        'DNS:app.corp',
        'IP:127.0.0.0/255.0.0.0',
        'IP:10.0.0.0/255.0.0.0',
        'IP:172.16.0.0/255.240.0.0',
        'IP:192.168.0.0/255.255.0.0',
        'IP:169.254.0.0/255.255.0.0',
        'IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF',
        'IP:FC00:0:0:0:0:0:0:0/FE00:0:0:0:0:0:0:0',
        'IP:FE80:0:0:0:0:0:0:0/FFC0:0:0:0:0:0:0:0',
        'IP:203.0.113.5/255.255.255.255',
      ]);
      expect(readSubtrees(root.certPem)).to.deep.equal(subtreesFor(['app.corp', '203.0.113.5']));
      expect(readSubtrees(createRootCa(new Date(), new Date(Date.now() + DAY)).certPem)).to.equal(undefined);
    });

    const verify = async (names: string[]): Promise<string> => {
      const leaf = createLeaf(root, names, new Date(Date.now() - 3600_000), new Date(Date.now() + 30 * DAY));
      const file = join(dir, `leaf-${names.join('_').replace(/[^a-z0-9.]/gi, '-')}.pem`);
      await writeFile(file, leaf.certPem);
      const r = await run('openssl', ['verify', '-CAfile', join(dir, 'root.pem'), '-purpose', 'sslserver', file]).then(
        ({ stdout }) => stdout,
        (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
      );
      return r.trim();
    };

    it('chains leaves for permitted names, IP-only leaves included', async () => {
      for (const names of [['app.test', '127.0.0.1'], ['localhost', '::1'], ['*.app.test'], ['10.1.2.3'], ['app.corp', 'x.app.corp'], ['203.0.113.5'], ['fd12::1']]) {
        expect(await verify(names), names.join(',')).to.match(/: OK$/);
      }
    });

    it('does not chain a leaf with any name outside the constraints', async () => {
      for (const names of [['evil.example'], ['app.test', 'www.bank.example'], ['8.8.8.8'], ['app.test', '203.0.113.6'], ['other.corp'], ['2001:db8::1']]) {
        expect(await verify(names), names.join(',')).to.match(/permitted subtree violation/);
      }
    });
  });
});
