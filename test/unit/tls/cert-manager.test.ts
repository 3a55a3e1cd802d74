import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { silentLogger } from '../../../src/log/types.js';
import { FileStorage } from '../../../src/storage/file-storage.js';
import { certificateKeys, INTERNAL_ISSUER, internalCaKeys, internalCaNextKeys } from '../../../src/storage/keys.js';
import { createRootCa } from '../../../src/tls/ca-certs.js';
import type { LoadedCertEntry } from '../../../src/tls/cert-entry.js';
import { createCertEntry } from '../../../src/tls/cert-entry.js';
import { CertManager } from '../../../src/tls/cert-manager.js';
import { permits, readSubtrees } from '../../../src/tls/name-constraints.js';
import { TLS_CONTEXT_OPTIONS } from '../../../src/tls/tls-options.js';
import { config, makeSelfSigned, recordingLogger, serialOf, site, tempDir, waitFor } from './fixtures.js';

const serial = (e: unknown) => (e as LoadedCertEntry | undefined)?.serial;
const FAST_WATCH = { debounceMs: 50, pollMs: 100 };

describe('CertManager', function () {
  this.timeout(20_000);
  let dir: string;
  let manager: CertManager | undefined;
  const storages: FileStorage[] = [];
  const files = async (name: string, names: string[]) => {
    const cert = join(dir, `${name}.crt`);
    const key = join(dir, `${name}.key`);
    await makeSelfSigned(names, cert, key);
    return { kind: 'files' as const, cert, key, serial: await serialOf(cert) };
  };
  const storage = () => {
    const s = new FileStorage(join(dir, 'certs'));
    storages.push(s);
    return s;
  };

  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    manager?.close();
    manager = undefined;
    for (const s of storages.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('selection', () => {
    let exact: Awaited<ReturnType<typeof files>>;
    let wild: Awaited<ReturnType<typeof files>>;
    let dflt: Awaited<ReturnType<typeof files>>;
    beforeEach(async () => {
      exact = await files('exact', ['a.example.com']);
      wild = await files('wild', ['*.example.com']);
      dflt = await files('default', ['default.test']);
    });

    it('picks the exact name, then a one-label wildcard, then the default site', async () => {
      manager = await CertManager.create(
        config([
          site(['*.example.com'], wild),
          site(['a.example.com'], exact),
          site(['default.test'], dflt, { default: true }),
        ]),
        storage(),
        silentLogger,
      );
      expect(serial(manager.select('a.example.com')), 'exact beats an earlier wildcard').to.equal(exact.serial);
      expect(serial(manager.select('A.Example.COM.')), 'case and trailing dot').to.equal(exact.serial);
      expect(serial(manager.select('b.example.com')), 'one-label wildcard').to.equal(wild.serial);
      expect(serial(manager.select('x.b.example.com')), 'wildcard does not cover two labels').to.equal(dflt.serial);
      expect(serial(manager.select('example.com')), 'wildcard does not cover the bare domain').to.equal(dflt.serial);
      expect(serial(manager.select(undefined)), 'no SNI').to.equal(dflt.serial);
      expect(serial(manager.select('unknown.org'))).to.equal(dflt.serial);
      expect(manager.select('b.example.com')!.covers('b.example.com')).to.equal(true);
      expect(manager.select('b.example.com')!.covers('example.com')).to.equal(false);
    });

    it('without default: true, the default is the first site with TLS on', async () => {
      manager = await CertManager.create(
        config([site(['plain.test'], { kind: 'off' }), site(['a.example.com'], exact), site(['default.test'], dflt)]),
        storage(),
        silentLogger,
      );
      expect(serial(manager.select('nothing.test'))).to.equal(exact.serial);
    });

    it('an ACME site waits for its certificate through replaceEntry, and then is the default', async () => {
      manager = await CertManager.create(
        config([site(['default.test'], { kind: 'acme' }, { default: true }), site(['a.example.com'], exact)]),
        storage(),
        silentLogger,
      );
      expect(manager.acmeNames()).to.deep.equal([['default.test']]);
      expect(serial(manager.select('default.test')), 'falls back to some certificate meanwhile').to.equal(exact.serial);
      const issued = createCertEntry({ ...(await pemsOf(dflt)), source: 'acme' });
      manager.replaceEntry(['DEFAULT.test'], issued);
      expect(serial(manager.select('default.test'))).to.equal(dflt.serial);
      expect(serial(manager.select('unknown.org'))).to.equal(dflt.serial);
      expect(manager.entries().map((e) => e.source)).to.deep.equal(['acme', 'manual']);
    });
  });

  describe('per listener port (issue 18)', () => {
    it('chooses among the certificates of the port\'s sites, with the port\'s default', async () => {
      const one = await files('one', ['a.test']);
      const two = await files('two', ['a.test', 'b.test']);
      const other = await files('other', ['c.test']);
      manager = await CertManager.create(
        {
          ...config([
            site(['a.test'], one, { listen: [8443] }),
            site(['a.test', 'b.test'], two, { listen: [9443], default: true }),
            site(['c.test'], other, { listen: [8443, 9443], default: true, defaultPorts: [8443] }),
          ]),
          listen: { http: [], https: [{ port: 8443 }, { port: 9443 }] },
        },
        storage(),
        silentLogger,
      );
      expect(serial(manager.select('a.test', 8443))).to.equal(one.serial);
      expect(serial(manager.select('a.test', 9443))).to.equal(two.serial);
      expect(serial(manager.select('b.test', 8443)), 'b.test is not on 8443: its default').to.equal(other.serial);
      expect(serial(manager.select(undefined, 9443)), 'no SNI on 9443: its default').to.equal(two.serial);
      expect(serial(manager.select('c.test', 9443))).to.equal(other.serial);
    });
  });

  describe('manual certificate files', () => {
    it('reloads a pair after its files change, and keeps it when the new pair is bad', async () => {
      const logger = recordingLogger();
      const pair = await files('site', ['hot.test']);
      manager = await CertManager.create(config([site(['hot.test'], pair)]), storage(), logger, { watch: FAST_WATCH });
      expect(serial(manager.select('hot.test'))).to.equal(pair.serial);

      // Replaced the way cp or certbot would: new content under the same names.
      const next = await files('next', ['hot.test']);
      await writeFile(pair.key, await readText(next.key));
      await writeFile(pair.cert, await readText(next.cert));
      await waitFor(() => serial(manager!.select('hot.test')) === next.serial, 5000, 'the new certificate');

      // A certificate whose key is not the one beside it: logged, and the serving pair stays.
      const other = await files('other', ['hot.test']);
      // (The watcher may also catch the file half-written and log a parse error first; the pair stays then too.)
      await writeFile(pair.cert, await readText(other.cert));
      const mismatch = (l: { level: string; meta?: Record<string, unknown> }) => l.level === 'error' && /does not match/.test(String(l.meta?.error));
      await waitFor(() => logger.lines.some(mismatch), 5000, 'a "does not match" error log line');
      expect(serial(manager.select('hot.test'))).to.equal(next.serial);

      // Garbage is kept out the same way.
      logger.lines.length = 0;
      await writeFile(pair.cert, 'not a certificate');
      await waitFor(() => logger.lines.some((l) => l.level === 'error'), 5000, 'an error log line');
      expect(serial(manager.select('hot.test'))).to.equal(next.serial);
    });

    it('notices files replaced by rename (poll fallback covers what fs.watch misses)', async () => {
      const pair = await files('site', ['mv.test']);
      manager = await CertManager.create(config([site(['mv.test'], pair)]), storage(), silentLogger, { watch: FAST_WATCH });
      const next = await files('next', ['mv.test']);
      await rename(next.key, pair.key);
      await rename(next.cert, pair.cert);
      await waitFor(() => serial(manager!.select('mv.test')) === next.serial, 5000, 'the renamed-in certificate');
    });

    it('refuses to start with a pair whose key does not match', async () => {
      const a = await files('a', ['a.test']);
      const b = await files('b', ['a.test']);
      const err = await CertManager.create(config([site(['a.test'], { kind: 'files', cert: a.cert, key: b.key })]), storage(), silentLogger).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).to.match(/does not match/).and.to.include(a.cert);
    });
  });

  describe('internal certificates', () => {
    it('reuses the stored certificate across restarts and stores its key 0600', async () => {
      const cfg = config([site(['localhost', '127.0.0.1'], { kind: 'internal' })]);
      manager = await CertManager.create(cfg, storage(), silentLogger);
      const first = serial(manager.select('localhost'));
      expect(manager.select('localhost')!.covers('127.0.0.1')).to.equal(true);
      manager.close();
      manager = await CertManager.create(cfg, storage(), silentLogger);
      expect(serial(manager.select('localhost'))).to.equal(first);
      const keyFile = join(dir, 'certs', certificateKeys(INTERNAL_ISSUER, 'localhost').key);
      expect((await stat(keyFile)).mode & 0o777).to.equal(0o600);
    });

    it('makes a root that permits every tls: internal name of the config, not only the first site\'s', async () => {
      const s = storage();
      manager = await CertManager.create(config([site(['a.test'], { kind: 'internal' }), site(['app.corp', '203.0.113.9'], { kind: 'internal' })]), s, silentLogger);
      const root = (await s.load(internalCaKeys().cert)).toString();
      expect(await s.exists(internalCaNextKeys().cert), 'no successor needed').to.equal(false);
      for (const n of ['a.test', 'app.corp', '203.0.113.9']) expect(permits(readSubtrees(root), n), n).to.equal(true);
      expect(new X509Certificate((manager.select('app.corp') as LoadedCertEntry).certPem).verify(new X509Certificate(root).publicKey)).to.equal(true);
    });

    it('re-issues internal certificates from the new root once it took over (maintenance)', async () => {
      let now = Date.now();
      const s = storage();
      // An older gatehouse's root: kept, a successor announced, taking over 30 days later.
      const legacy = createRootCa(new Date(now - 3600_000), new Date(now + 3650 * 86400_000));
      await s.store(internalCaKeys().key, legacy.keyPem, { secret: true });
      await s.store(internalCaKeys().cert, legacy.certPem);
      const logger = recordingLogger();
      manager = await CertManager.create(config([site(['a.test'], { kind: 'internal' })]), s, logger, { maintenanceMs: 50, internalCa: { now: () => now } });
      const before = manager.select('a.test') as LoadedCertEntry;
      expect(new X509Certificate(before.certPem).verify(new X509Certificate(legacy.certPem).publicKey)).to.equal(true);
      const next = (await s.load(internalCaNextKeys().cert)).toString();
      now += 31 * 86400_000;
      await waitFor(() => serial(manager!.select('a.test')) !== before.serial, 5000, 'a re-issued certificate');
      expect(new X509Certificate((manager.select('a.test') as LoadedCertEntry).certPem).verify(new X509Certificate(next).publicKey)).to.equal(true);
      expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.message)).to.have.length(2);
    });
  });

  describe('reload', () => {
    it('keeps unchanged certificates, adds new sites and drops removed ones', async () => {
      const a = await files('a', ['a.test']);
      const s = storage();
      manager = await CertManager.create(config([site(['a.test'], a), site(['int.test'], { kind: 'internal' })]), s, silentLogger);
      const internalBefore = manager.select('int.test');
      const aBefore = manager.select('a.test');
      const b = await files('b', ['b.test']);
      await manager.reload(config([site(['a.test'], a), site(['int.test'], { kind: 'internal' }), site(['b.test'], b)]));
      expect(manager.select('int.test'), 'same internal entry object').to.equal(internalBefore);
      expect(manager.select('a.test')).to.equal(aBefore);
      expect(serial(manager.select('b.test'))).to.equal(b.serial);
      await manager.reload(config([site(['b.test'], b)]));
      expect(serial(manager.select('a.test')), 'a.test now gets the default').to.equal(b.serial);
      expect(manager.entries()).to.have.length(1);
    });

    it('rejects a config whose new files cannot load, and keeps serving the old set', async () => {
      const a = await files('a', ['a.test']);
      manager = await CertManager.create(config([site(['a.test'], a)]), storage(), silentLogger);
      const missing = { kind: 'files' as const, cert: join(dir, 'nope.crt'), key: join(dir, 'nope.key') };
      const err = await manager.reload(config([site(['b.test'], missing)])).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(Error);
      expect(serial(manager.select('a.test'))).to.equal(a.serial);
    });
  });

  describe('TLS settings', () => {
    it('speaks TLS 1.2 only with ECDHE+AEAD suites, and TLS 1.3', async () => {
      const a = await files('a', ['a.test']);
      manager = await CertManager.create(config([site(['a.test'], a)]), storage(), silentLogger);
      const m = manager;
      const server = tls.createServer({
        ...TLS_CONTEXT_OPTIONS,
        SNICallback: (name, cb) => cb(null, m.select(name)?.context),
      });
      server.on('secureConnection', (s) => s.end());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      const hello = (opts: tls.ConnectionOptions) =>
        new Promise<{ version: string | null; cipher: string }>((resolve, reject) => {
          const sock = tls.connect({ host: '127.0.0.1', port, servername: 'a.test', rejectUnauthorized: false, ...opts }, () => {
            resolve({ version: sock.getProtocol(), cipher: sock.getCipher().name });
            sock.destroy();
          });
          sock.on('error', reject);
        });
      try {
        expect((await hello({})).version).to.equal('TLSv1.3');
        const t12 = await hello({ maxVersion: 'TLSv1.2' });
        expect(t12.cipher).to.match(/^ECDHE-ECDSA-(AES128-GCM|AES256-GCM|CHACHA20)/);
        // The client can do these (SECLEVEL=0); the server must refuse them. (With an ECDSA certificate,
        // ECDHE-ECDSA is the only key exchange, so CBC is the weak suite there is to offer.)
        const weak = [
          { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' },
          { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA' },
        ] as const;
        for (const opts of weak) {
          const err = await hello(opts).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err, JSON.stringify(opts)).to.be.instanceOf(Error);
        }
      } finally {
        server.close();
      }
    });
  });
});

async function readText(path: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(path, 'utf8');
}

async function pemsOf(f: { cert: string; key: string }): Promise<{ certPem: string; keyPem: string }> {
  return { certPem: await readText(f.cert), keyPem: await readText(f.key) };
}
