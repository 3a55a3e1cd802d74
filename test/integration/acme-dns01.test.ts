// DNS-01 and a wildcard certificate against real Pebble (issue 19). The TXT records go through gatehouse's
// Cloudflare provider to a LOCAL STAND-IN of Cloudflare's API (test/helpers/cloudflare-standin.ts: the real
// API cannot be reached here), which mirrors them into pebble-challtestsrv, the DNS server Pebble validates
// against.
//
// Until the real propagation check (src/tls/acme/dns/propagation.ts) is merged from the dnswire branch,
// the order runs in this process with gatehouse's own issuer, order flow, storage and Cloudflare provider,
// and a stand-in propagation check (test/helpers/challtest-propagation.ts); the real `gatehouse run`
// then serves what was stored. After the merge, the same scenario can be driven entirely by the binary with
// `acme.dns.nameservers: [challtestsrv]`.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import type { AcmeDnsConfig, Config } from '../../src/config/types.js';
import type { Logger } from '../../src/log/types.js';
import { openStorage } from '../../src/storage/index.js';
import type { Storage } from '../../src/storage/types.js';
import { AcmeCertStore } from '../../src/tls/acme/cert-store.js';
import { ChallengeStore } from '../../src/tls/acme/challenges.js';
import { dnsProviderFor } from '../../src/tls/acme/dns/index.js';
import { configureAcmeHttp } from '../../src/tls/acme/http.js';
import { AcmeIssuer } from '../../src/tls/acme/issuer.js';
import { ObtainError, Obtainer } from '../../src/tls/acme/obtain.js';
import { certNamesForSite } from '../../src/tls/names.js';
import { acmeBlock, ACME_TEST_ENV, certsJson, probe, servedByPebble } from '../helpers/acme.js';
import { ChalltestPropagation } from '../helpers/challtest-propagation.js';
import { startCloudflareStandin, type CloudflareStandin } from '../helpers/cloudflare-standin.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';
import { freePort } from '../helpers/ports.js';

// Cloudflare API tokens are 40 characters; the stand-in refuses other shapes with 6003 as the real API does.
const TOKEN = 'test-token-7f3a9c000000000000000000000aa';
const WRONG = 'wrong-token-b81e2d00000000000000000000bb';

const quiet: Logger & { lines: string[] } = {
  lines: [],
  error(m, meta) {
    this.lines.push(`error ${m} ${JSON.stringify(meta ?? {})}`);
  },
  warn(m, meta) {
    this.lines.push(`warn ${m} ${JSON.stringify(meta ?? {})}`);
  },
  info: () => undefined,
  debug: () => undefined,
};

/** TXT values challtestsrv serves for `name`, asked over DNS with dig. */
function digTxt(dnsPort: number, name: string): string[] {
  const out = execFileSync('dig', ['+short', '+time=2', '+tries=1', '-p', String(dnsPort), '@127.0.0.1', 'TXT', name]).toString();
  return out.split('\n').map((l) => l.trim().replace(/^"|"$/g, '')).filter(Boolean);
}

describe('ACME DNS-01 with a wildcard, Cloudflare provider (integration)', function () {
  this.timeout(90_000);
  let pebble: Pebble;
  let standin: CloudflareStandin;
  let dir: string;
  let configFile: string;
  let config: Config;
  let storage: Storage;
  let gatehouse: Gatehouse | undefined;
  let tlsPort: number;

  function obtainer(token: string): Obtainer {
    const dnsConfig = { ...config.acme!.dns!, apiToken: token } as AcmeDnsConfig;
    const issuer = new AcmeIssuer({
      config: config.acme!,
      storage,
      challenges: new ChallengeStore(storage),
      logger: quiet,
      persist: true,
      available: { http: false, tlsAlpn: false }, // dns-01 needs no listener
      pollMinMs: 50, // Pebble's order polling only, as ACME_TEST_ENV does for the binary
      dns: { provider: dnsProviderFor(dnsConfig), propagation: new ChalltestPropagation(pebble.dnsPort) },
    });
    return new Obtainer(issuer, new AcmeCertStore(storage, issuer.key), quiet);
  }

  before(async () => {
    tlsPort = await freePort();
    // Pebble's HTTP-01/TLS-ALPN-01 ports point at nothing: only DNS-01 can pass.
    pebble = await startPebble({ httpPort: await freePort(), tlsPort: await freePort() });
    standin = await startCloudflareStandin({ token: TOKEN, zone: 'example.test', challtestManagementPort: pebble.challtestManagementPort });
    dir = tempDir('gh-dns01-');
    configFile = path.join(dir, 'gatehouse.yaml');
    const yaml = [
      `listen: { https: "127.0.0.1:${tlsPort}" }`,
      `storage: ${path.join(dir, 'certs')}`,
      'acme:',
      ...Object.entries(acmeBlock(pebble)).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
      '  challenges: [dns-01]',
      `  dns: { provider: cloudflare, apiToken: "\${GH_TEST_CF_TOKEN}", endpoint: "${standin.endpoint}" }`,
      'sites:',
      '  - hosts: [fallback.test]',
      '    default: true',
      '    routes: [{ location: /, return: "200 fallback" }]',
      '  - hosts: ["*.example.test", example.test]',
      '    tls: acme',
      '    routes: [{ location: /, return: "200 wild" }]',
    ].join('\n');
    fs.writeFileSync(configFile, `${yaml}\n`);
    process.env.GH_TEST_CF_TOKEN = TOKEN;
    config = parseConfig(yaml, configFile).config;
    configureAcmeHttp(fs.readFileSync(pebble.listenerCaFile, 'utf8'));
    storage = openStorage(config.storage);
  });
  after(async () => {
    delete process.env.GH_TEST_CF_TOKEN;
    await gatehouse?.stop();
    await storage?.close();
    await standin?.close();
    await pebble?.stop();
  });

  it('the config names the Cloudflare stand-in and dns-01, and the site wants both names in one certificate', () => {
    expect(parse(fs.readFileSync(configFile, 'utf8')).acme.dns.apiToken).to.equal('${GH_TEST_CF_TOKEN}');
    expect(config.acme?.challenges).to.deep.equal(['dns-01']);
    expect(certNamesForSite(config.sites[1]!)).to.deep.equal(['*.example.test', 'example.test']);
  });

  let first: X509Certificate;

  it('obtains one certificate for *.example.test and example.test through DNS-01, and removes the TXT records', async () => {
    const result = await obtainer(TOKEN).obtain(['*.example.test', 'example.test']);
    expect(result.kind).to.equal('issued');
    if (result.kind !== 'issued') return;
    expect(result.pair.meta.challenge).to.equal('dns-01');
    first = new X509Certificate(result.pair.certPem);
    expect(first.subjectAltName?.split(', ').sort()).to.deep.equal(['DNS:*.example.test', 'DNS:example.test']);
    // Both values were written at the one name (wildcard and base) before either challenge was answered.
    const posts = standin.requests.filter((r) => r.startsWith('POST '));
    expect(posts).to.have.length(2);
    // Cleanup: nothing left in the stand-in, nothing served by the DNS Pebble asks.
    expect(standin.records()).to.deep.equal([]);
    expect(digTxt(pebble.dnsPort, '_acme-challenge.example.test')).to.deep.equal([]);
    expect(standin.rejectedTokens).to.equal(0);
  });

  it('`gatehouse run` serves it for example.test and a.example.test (one label), not for a.b.example.test', async () => {
    gatehouse = await startGatehouse(() => ({}), { configFile, dir, env: { ...ACME_TEST_ENV, GH_TEST_CF_TOKEN: TOKEN } });
    const base = await servedByPebble(tlsPort, 'example.test');
    expect(base.serial).to.equal(first.serialNumber);
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

  it('renews through DNS-01 (forced, as `renew --force` does) and the running proxy serves the new certificate', async () => {
    const before = standin.requests.length;
    const result = await obtainer(TOKEN).obtain(['*.example.test', 'example.test'], { force: true, replacing: first.fingerprint256 });
    expect(result.kind).to.equal('issued');
    const served = await servedByPebble(tlsPort, 'a.example.test', 15_000, first.serialNumber);
    expect(served.subjectAltName).to.include('DNS:*.example.test');
    expect(standin.requests.slice(before).filter((r) => r.startsWith('POST '))).to.have.length(2);
    expect(standin.records()).to.deep.equal([]);
  });

  it('a wrong API token fails the order with the API\'s own error, never the token, recorded for `certs`; serving is unchanged', async () => {
    const serving = await probe(tlsPort, 'a.example.test');
    let error: unknown;
    try {
      await obtainer(WRONG).obtain(['*.example.test', 'example.test'], { force: true });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ObtainError);
    const e = error as ObtainError;
    expect(e.lastError.challenge).to.equal('dns-01');
    expect(e.lastError.detail).to.match(/Cloudflare API GET \/zones answered 403: \[10000\] Authentication error/);
    expect(e.lastError.hint).to.include('credentials');
    expect(JSON.stringify(e.lastError)).to.not.include(WRONG);
    expect(quiet.lines.join('\n')).to.match(/ACME dns-01 challenge failed for \*\.example\.test, example\.test .*Authentication error/);
    expect(quiet.lines.join('\n')).to.not.include(WRONG);
    const rows = await certsJson(configFile);
    const row = rows.find((r) => r.names.includes('*.example.test'))!;
    expect(row.lastError?.challenge).to.equal('dns-01');
    expect(row.lastError?.detail).to.include('Authentication error');
    expect(JSON.stringify(rows)).to.not.include(WRONG);
    expect((await probe(tlsPort, 'a.example.test')).serial).to.equal(serving.serial);
    expect(standin.records()).to.deep.equal([]);
  });
});
