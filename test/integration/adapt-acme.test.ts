// `gatehouse adapt --acme` on a machine run by nginx + certbot: Pebble issues a certificate into a
// certbot layout (live/NAME links into archive/NAME, renewal/NAME.conf), as certbot would have obtained
// it (acme-client, directly); the nginx config that serves it is adapted, and `gatehouse run` on the
// adapted YAML serves exactly that certificate and places no order for it.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import acme from 'acme-client';
import { ACME_TEST_ENV, certsJson, orderCount, probe, runCli, servedByPebble } from '../helpers/acme.js';
import { CLI, REPO, startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';
import { freePort } from '../helpers/ports.js';
import { issuerKeyFromDirectory } from '../../src/storage/keys.js';

const NAME = 'certbot.example.com';

/** What certbot leaves in its --config-dir for one lineage (version 1 of each file). */
function certbotLayout(configDir: string, name: string, fullchain: string, keyPem: string, server: string): void {
  const archive = path.join(configDir, 'archive', name);
  const live = path.join(configDir, 'live', name);
  fs.mkdirSync(archive, { recursive: true });
  fs.mkdirSync(live, { recursive: true });
  fs.mkdirSync(path.join(configDir, 'renewal'), { recursive: true });
  const pems = fullchain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
  fs.writeFileSync(path.join(archive, 'cert1.pem'), pems[0]!);
  fs.writeFileSync(path.join(archive, 'chain1.pem'), pems.slice(1).join(''));
  fs.writeFileSync(path.join(archive, 'fullchain1.pem'), fullchain);
  fs.writeFileSync(path.join(archive, 'privkey1.pem'), keyPem, { mode: 0o600 });
  for (const f of ['cert', 'chain', 'fullchain', 'privkey']) fs.symlinkSync(`../../archive/${name}/${f}1.pem`, path.join(live, `${f}.pem`));
  fs.writeFileSync(
    path.join(configDir, 'renewal', `${name}.conf`),
    [`# renew_before_expiry = 30 days`, `version = 2.1.0`, `archive_dir = ${archive}`, `cert = ${live}/cert.pem`, `privkey = ${live}/privkey.pem`,
      `chain = ${live}/chain.pem`, `fullchain = ${live}/fullchain.pem`, '', '# Options used in the renewal process', '[renewalparams]',
      'account = 0123456789abcdef', 'authenticator = nginx', 'installer = nginx', `server = ${server}`, 'key_type = ecdsa', ''].join('\n'),
  );
  // certbot's nginx snippet, written here in this test's own words (the directives the plugin uses).
  fs.writeFileSync(path.join(configDir, 'options-ssl-nginx.conf'), 'ssl_session_cache shared:le_nginx_SSL:10m;\nssl_session_timeout 1440m;\nssl_session_tickets off;\nssl_protocols TLSv1.2 TLSv1.3;\nssl_prefer_server_ciphers off;\n');
}

/** An nginx server block as `certbot --nginx` leaves it. */
function certbotServer(configDir: string, port: number, hosts: string): string {
  const live = path.join(configDir, 'live', NAME);
  return `server {
    server_name ${hosts};
    location / { return 200 "certbot site\\n"; }
    listen 127.0.0.1:${port} ssl; # managed by Certbot
    ssl_certificate ${live}/fullchain.pem; # managed by Certbot
    ssl_certificate_key ${live}/privkey.pem; # managed by Certbot
    include ${configDir}/options-ssl-nginx.conf; # managed by Certbot
}
`;
}

describe('adapt --acme: nginx + certbot to gatehouse without a new order (integration)', function () {
  this.timeout(60_000);
  let pebble: Pebble;
  let tlsPort: number;
  let issued: { fullchain: string; keyPem: string; leaf: X509Certificate };
  const running: Gatehouse[] = [];

  before(async () => {
    tlsPort = await freePort();
    // Every challenge valid: how certbot proved control is not what is tested, and gatehouse's own order
    // below (the control) needs no responder either.
    pebble = await startPebble({ httpPort: await freePort(), tlsPort, env: { PEBBLE_VA_ALWAYS_VALID: '1' } });
    acme.axios.defaults.httpsAgent = new https.Agent({ ca: fs.readFileSync(pebble.listenerCaFile) });
    const client = new acme.Client({ directoryUrl: pebble.directory, accountKey: await acme.crypto.createPrivateEcdsaKey(), backoffMin: 50, backoffMax: 500, backoffAttempts: 40 });
    const keyPem = (await acme.crypto.createPrivateEcdsaKey()).toString();
    const [, csr] = await acme.crypto.createCsr({ commonName: NAME, altNames: [NAME, `www.${NAME}`] }, keyPem);
    const fullchain = await client.auto({
      csr,
      email: 'certbot-user@example.test',
      termsOfServiceAgreed: true,
      skipChallengeVerification: true,
      challengePriority: ['http-01'],
      challengeCreateFn: async () => undefined,
      challengeRemoveFn: async () => undefined,
    });
    issued = { fullchain, keyPem, leaf: new X509Certificate(fullchain) };
  });
  after(async () => {
    await pebble?.stop();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((g) => g.stop()));
  });

  it('imports the lineage, then run serves exactly that certificate and orders only for the site certbot did not cover', async () => {
    const dir = tempDir('gh-adapt-acme-');
    const configDir = path.join(dir, 'letsencrypt');
    certbotLayout(configDir, NAME, issued.fullchain, issued.keyPem, pebble.directory);
    const conf = path.join(dir, 'site.conf');
    // The second server has no certificate: gatehouse orders one itself (the control that orders are counted).
    fs.writeFileSync(conf, `${certbotServer(configDir, tlsPort, `${NAME} www.${NAME}`)}server {
    listen 127.0.0.1:${tlsPort} ssl;
    server_name fresh.example.com;
    location / { return 200 "fresh\\n"; }
}
`);
    const out = path.join(dir, 'gatehouse.yaml');
    const ordersBefore = orderCount(pebble);
    expect(ordersBefore).to.equal(1); // certbot's

    const adapted = await runCli(['adapt', '--acme', '--acme-directory', pebble.directory, conf, '-o', out]);
    expect(adapted.code, adapted.stderr).to.equal(0);
    expect(adapted.stderr).to.include(`gatehouse: imported ${configDir}/live/${NAME} into folder ${dir}/certs: ${NAME}, www.${NAME} (serial ${issued.leaf.serialNumber}`);
    expect(adapted.stderr).to.not.include('certbot renews this certificate from'); // renewal/NAME.conf names this very CA
    const yaml = fs.readFileSync(out, 'utf8');
    // issue 19: certbot's options-ssl-nginx.conf sets ssl_prefer_server_ciphers off, which the site's tls object carries.
    expect(yaml).to.include(`directory: ${pebble.directory}`).and.match(/tls:\n\s+issuer: acme\n\s+preferServerCiphers: false\n/);
    expect(yaml).to.not.include('fullchain.pem');
    const stored = path.join(dir, 'certs/certificates', issuerKeyFromDirectory(pebble.directory), NAME);
    expect(fs.readFileSync(path.join(stored, `${NAME}.crt`), 'utf8')).to.equal(issued.fullchain);
    expect(fs.statSync(path.join(stored, `${NAME}.key`)).mode & 0o777).to.equal(0o600);

    // run trusts Pebble's HTTPS through Node's store (the adapted YAML names no acme.trust).
    const env = { ...ACME_TEST_ENV, NODE_EXTRA_CA_CERTS: pebble.listenerCaFile };
    const g = await startGatehouse(() => ({}), { configFile: out, dir, env });
    running.push(g);
    const fresh = await servedByPebble(tlsPort, 'fresh.example.com', 15_000, issued.leaf.serialNumber);
    expect(fresh.serial).to.not.equal(issued.leaf.serialNumber);
    for (const host of [NAME, `www.${NAME}`]) {
      const served = await probe(tlsPort, host);
      expect(new X509Certificate(served.pem).fingerprint256, host).to.equal(issued.leaf.fingerprint256);
    }
    // Both were managed from the start; only the name without a certificate was ordered.
    expect(orderCount(pebble)).to.equal(ordersBefore + 1);
    expect(g.peer.output()).to.not.match(new RegExp(`certificate obtained[^\\n]*${NAME.replace(/\./g, '\\.')}`));

    // The cron pass sees its own certificate, not due: nothing to order.
    const renew = await runCli(['renew', '-c', out], env);
    expect(renew.code, renew.stderr).to.equal(0);
    expect(orderCount(pebble)).to.equal(ordersBefore + 1);
    const row = (await certsJson(out)).find((r) => r.names.includes(NAME))!;
    expect(row).to.include({ source: 'acme', status: 'valid', serial: issued.leaf.serialNumber, lastError: null });
    // Renewal by the normal rule: a third of the lifetime before the end (Pebble's 5 years).
    const lifetime = Date.parse(issued.leaf.validTo) - Date.parse(issued.leaf.validFrom);
    expect(Math.abs(Date.parse(row.nextAttempt!) - (Date.parse(issued.leaf.validTo) - lifetime / 3))).to.be.below(60_000);
  });

  it('a key only root can read: exit 1 with what to do, no stack trace, no YAML written', async () => {
    const dir = tempDir('gh-adapt-acme-perm-');
    const configDir = path.join(dir, 'letsencrypt');
    certbotLayout(configDir, NAME, issued.fullchain, issued.keyPem, pebble.directory);
    for (const d of [configDir, path.join(configDir, 'live'), path.join(configDir, 'live', NAME), path.join(configDir, 'archive'), path.join(configDir, 'archive', NAME)]) fs.chmodSync(d, 0o755);
    const conf = path.join(dir, 'site.conf');
    fs.writeFileSync(conf, certbotServer(configDir, tlsPort, NAME));
    const out = path.join(dir, 'gatehouse.yaml');
    // As root the test runs the CLI as nobody (certbot's key stays root's 0600); otherwise the key is made unreadable.
    const asRoot = process.getuid?.() === 0;
    if (!asRoot) fs.chmodSync(path.join(configDir, 'archive', NAME, 'privkey1.pem'), 0o000);
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'adapt', '--acme', '--acme-directory', pebble.directory, conf, '-o', out], {
        cwd: REPO,
        env: { ...process.env, ...ACME_TEST_ENV },
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stderr).to.include(`${conf}:5:21: ${configDir}/live/${NAME}/privkey.pem: permission denied: certbot's private keys are readable by root only; run gatehouse adapt --acme as root, or copy the lineage somewhere this user can read`);
    expect(r.stderr).to.not.match(/^\s+at /m);
    expect(fs.existsSync(out)).to.equal(false);
  });
});
