// DNS-01 and a wildcard certificate against real Pebble (issue 19), driven entirely by the binary:
// `gatehouse run` obtains and serves, `gatehouse renew --force` renews. The TXT records go through
// gatehouse's Cloudflare provider (`acme.dns.provider: cloudflare`, the token from the spawned process's
// environment) to a LOCAL STAND-IN of Cloudflare's API (test/helpers/cloudflare-standin.ts: the real API
// cannot be reached here), which mirrors them by nsupdate into a real BIND authoritative for example.test.
// Pebble validates against that BIND (-dnsserver), and gatehouse's real propagation check
// (src/tls/acme/dns/propagation.ts) asks it (`resolver` and `nameservers`: BIND's port, since an NS record
// carries no port).
//
// Why BIND and not pebble-challtestsrv: challtestsrv never sets the AA bit (its dnsHandlerInner only calls
// SetReply), and the propagation check rightly counts only authoritative answers, so against challtestsrv
// it waits until its deadline with "answered without authority".
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { parseNative } from '../../src/config/native.js';
import { certNamesForSite } from '../../src/tls/names.js';
import { acmeBlock, ACME_TEST_ENV, probe, runCli, servedByPebble, type CertsRow } from '../helpers/acme.js';
import { startBind9, type Bind9 } from '../helpers/bind9.js';
import { startCloudflareStandin, type CloudflareStandin } from '../helpers/cloudflare-standin.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';
import { freePort } from '../helpers/ports.js';

// Cloudflare API tokens are 40 characters; the stand-in refuses other shapes with 6003 as the real API does.
const TOKEN = 'test-token-7f3a9c000000000000000000000aa';
const WRONG = 'wrong-token-b81e2d00000000000000000000bb';
const CHALLENGE = '_acme-challenge.example.test';

describe('ACME DNS-01 with a wildcard, Cloudflare provider, driven by the binary (integration)', function () {
  this.timeout(90_000);
  let bind: Bind9;
  let pebble: Pebble;
  let standin: CloudflareStandin;
  let dir: string;
  let configFile: string;
  let yaml: string;
  let gatehouse: Gatehouse | undefined;
  let tlsPort: number;
  let first: X509Certificate;

  /** Cleanup runs after the certificate is stored; give it a moment rather than racing it. */
  async function noTxtLeft(): Promise<{ standin: unknown[]; bind: string[] }> {
    const until = Date.now() + 5000;
    for (;;) {
      const left = { standin: standin.records(), bind: bind.txt(CHALLENGE) };
      if ((left.standin.length === 0 && left.bind.length === 0) || Date.now() > until) return left;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Challenges answered so far (RFC 8555 §7.5.1): Pebble queues one validation task per answer. */
  function challengeAnswers(): number {
    return pebble.output().split('\n').filter((l) => l.includes('Pulled a task from the Tasks queue')).length;
  }

  /** `gatehouse certs --json`; the config needs the token variable set to load at all. */
  async function certsJson(): Promise<CertsRow[]> {
    const r = await runCli(['certs', '-c', configFile, '--json'], { CF_API_TOKEN: TOKEN });
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as CertsRow[];
  }

  before(async () => {
    // The key is the stand-in's own (its mirror), not gatehouse's: gatehouse only talks to the API.
    bind = await startBind9({ zones: [{ name: 'example.test' }], keys: [{ name: 'standin', algorithm: 'hmac-sha256' }] });
    tlsPort = await freePort();
    // Pebble's HTTP-01/TLS-ALPN-01 ports point at nothing: only DNS-01 can pass.
    pebble = await startPebble({ httpPort: await freePort(), tlsPort: await freePort(), dnsServer: `127.0.0.1:${bind.port}` });
    standin = await startCloudflareStandin({ token: TOKEN, zone: 'example.test', mirror: (name, values) => bind.setTxt(name, values, 'standin') });
    dir = tempDir('gh-dns01-');
    configFile = path.join(dir, 'gatehouse.yaml');
    yaml = [
      `listen: { https: "127.0.0.1:${tlsPort}" }`,
      `storage: ${path.join(dir, 'certs')}`,
      'acme:',
      ...Object.entries(acmeBlock(pebble)).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
      '  challenges: [dns-01]',
      '  dns:',
      '    provider: cloudflare',
      '    apiToken: "${CF_API_TOKEN}"',
      `    endpoint: "${standin.endpoint}"`,
      `    resolver: "127.0.0.1:${bind.port}"`,
      `    nameservers: ["127.0.0.1:${bind.port}"]`,
      'sites:',
      '  - hosts: [fallback.test]',
      '    default: true',
      '    routes: [{ location: /, return: "200 fallback" }]',
      '  - hosts: ["*.example.test", example.test]',
      '    tls: acme',
      '    routes: [{ location: /, return: "200 wild" }]',
      '',
    ].join('\n');
    fs.writeFileSync(configFile, yaml);
  });
  after(async () => {
    await gatehouse?.stop();
    await standin?.close();
    await pebble?.stop();
    await bind?.stop();
  });

  it('the config names the Cloudflare stand-in and dns-01, and the site wants both names in one certificate', async () => {
    expect(parse(yaml).acme.dns.apiToken).to.equal('${CF_API_TOKEN}');
    const config = parseNative(yaml, configFile, { CF_API_TOKEN: TOKEN }).config;
    expect(config.acme?.challenges).to.deep.equal(['dns-01']);
    expect(certNamesForSite(config.sites[1]!)).to.deep.equal(['*.example.test', 'example.test']);
    const r = await runCli(['check', '-c', configFile], { CF_API_TOKEN: TOKEN });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout + r.stderr).to.not.include(TOKEN);
  });

  it('`gatehouse run` obtains one certificate for *.example.test and example.test through DNS-01, and removes the TXT records', async () => {
    gatehouse = await startGatehouse(() => ({}), { configFile, dir, env: { ...ACME_TEST_ENV, CF_API_TOKEN: TOKEN } });
    const base = await servedByPebble(tlsPort, 'example.test', 60_000);
    first = new X509Certificate(base.pem);
    expect(first.subjectAltName?.split(', ').sort()).to.deep.equal(['DNS:*.example.test', 'DNS:example.test']);
    // Both values were written at the one name (wildcard and base) before either challenge was answered.
    expect(standin.requests.filter((r) => r.startsWith('POST '))).to.have.length(2);
    expect(challengeAnswers(), 'one challenge answered per name').to.equal(2);
    // Cleanup: nothing left in the stand-in, nothing served by the DNS Pebble asks.
    expect(await noTxtLeft()).to.deep.equal({ standin: [], bind: [] });
    expect(standin.rejectedTokens).to.equal(0);
    const rows = await certsJson();
    expect(rows.find((r) => r.names.includes('*.example.test'))?.serial).to.equal(first.serialNumber);
    expect(gatehouse.peer.output()).to.not.include(TOKEN);
  });

  it('serves it for example.test and a.example.test (one label), not for a.b.example.test', async () => {
    const one = await probe(tlsPort, 'a.example.test');
    expect(one.serial).to.equal(first.serialNumber);
    const two = await probe(tlsPort, 'a.b.example.test');
    expect(two.serial).to.not.equal(first.serialNumber);
    expect(two.subjectAltName).to.not.include('example.test');
    // And curl, verifying against Pebble's root, with SNI a.example.test.
    const root = path.join(dir, 'pebble-root.pem');
    fs.writeFileSync(root, `${await pebble.rootPem()}`);
    const body = execFileSync('curl', ['-s', '--cacert', root, '--resolve', `a.example.test:${tlsPort}:127.0.0.1`, `https://a.example.test:${tlsPort}/`]).toString();
    expect(body).to.equal('wild');
  });

  it('`gatehouse renew --force` renews through DNS-01 and the running proxy serves the new certificate', async () => {
    const before = standin.requests.length;
    const r = await runCli(['renew', '--force', '-c', configFile], { CF_API_TOKEN: TOKEN });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout + r.stderr).to.not.include(TOKEN);
    const served = await servedByPebble(tlsPort, 'a.example.test', 30_000, first.serialNumber);
    expect(served.subjectAltName).to.include('DNS:*.example.test');
    expect(standin.requests.slice(before).filter((q) => q.startsWith('POST '))).to.have.length(2);
    expect(await noTxtLeft()).to.deep.equal({ standin: [], bind: [] });
  });

  it('a wrong API token fails the order with the API\'s own error, never the token, in the log and in `certs --json`; serving is unchanged', async () => {
    const serving = await probe(tlsPort, 'a.example.test');
    const r = await runCli(['renew', '--force', '-c', configFile], { CF_API_TOKEN: WRONG });
    expect(r.code).to.not.equal(0);
    const log = r.stdout + r.stderr;
    expect(log).to.match(/ACME dns-01 challenge failed for \*\.example\.test, example\.test: .*Authentication error/);
    expect(log).to.match(/likely fix: .*credentials/);
    expect(log).to.match(/Cloudflare API GET \/zones answered 403: \[10000\] Authentication error/);
    expect(log).to.not.include(WRONG);
    expect(standin.rejectedTokens).to.be.greaterThan(0);
    const rows = await certsJson();
    const row = rows.find((x) => x.names.includes('*.example.test'))!;
    expect(row.lastError?.challenge).to.equal('dns-01');
    expect(row.lastError?.detail).to.match(/Cloudflare API GET \/zones answered 403: \[10000\] Authentication error/);
    expect(JSON.stringify(rows)).to.not.include(WRONG);
    expect((await probe(tlsPort, 'a.example.test')).serial).to.equal(serving.serial);
    expect(standin.records()).to.deep.equal([]);
    expect(bind.txt(CHALLENGE)).to.deep.equal([]);
  });

  it('the binary\'s propagation check asks `nameservers`: challtestsrv there (no AA bit) fails the order before the CA is told; serving is unchanged', async () => {
    // propagationTimeout is the user's key, shortened here only because this test is about which server is
    // asked and what counts as an answer, not about the deadline's length.
    const other = path.join(dir, 'challtestsrv-nameservers.yaml');
    fs.writeFileSync(other, yaml
      .replace(`nameservers: ["127.0.0.1:${bind.port}"]`, `nameservers: ["127.0.0.1:${pebble.dnsPort}"]\n    propagationTimeout: 3s\n    propagationInterval: 500ms`));
    const serving = await probe(tlsPort, 'a.example.test');
    const posts = standin.requests.filter((q) => q.startsWith('POST ')).length;
    const answered = challengeAnswers();
    const r = await runCli(['renew', '--force', '-c', other], { CF_API_TOKEN: TOKEN });
    expect(r.code).to.not.equal(0);
    expect(r.stdout + r.stderr).to.match(new RegExp(`did not reach every authoritative server within 3000 ms: 127\\.0\\.0\\.1:${pebble.dnsPort}: answered without authority`));
    expect(r.stdout + r.stderr).to.not.include(TOKEN);
    // No challenge was answered (RFC 8555 §7.5.1: the CA is told only once the record is visible).
    expect(challengeAnswers()).to.equal(answered);
    // The provider did write (so only the wait failed), and cleaned up after itself.
    expect(standin.requests.filter((q) => q.startsWith('POST ')).length).to.equal(posts + 2);
    expect(await noTxtLeft()).to.deep.equal({ standin: [], bind: [] });
    expect((await probe(tlsPort, 'a.example.test')).serial).to.equal(serving.serial);
  });
});
