// The internal CA as clients see it (security review F13), against the built gatehouse: a root that
// lives a year and carries critical name constraints, curl (OpenSSL, which enforces them) trusting
// it, and a site added later for a name outside them: `gatehouse check` warns, and after SIGHUP the
// site is served from an announced successor root while the others keep theirs.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { curl } from '../helpers/curl.js';
import { CLI, startGatehouse, type Gatehouse } from '../helpers/gatehouse.js';

const run = promisify(execFile);
const DAY = 86400_000;

describe('internal CA (integration)', function () {
  this.timeout(60_000);
  let gh: Gatehouse;
  const sites = [
    { hosts: ['s.test'], routes: [{ location: '/', return: '200 s' }] },
    { hosts: ['app.corp', '203.0.113.7'], tls: 'internal', routes: [{ location: '/', return: '200 corp' }] },
  ];
  const config = () => ({ listen: { https: `127.0.0.1:${gh.httpsPort}` }, storage: path.join(gh.dir, 'certs'), log: { access: 'off' }, sites });
  const get = (name: string, ca: string) =>
    curl(['--cacert', ca, '--resolve', `${name}:${gh.httpsPort}:127.0.0.1`, `https://${name}:${gh.httpsPort}/`]);

  before(async () => {
    gh = await startGatehouse(() => ({ log: { access: 'off' }, sites }));
  });
  after(async () => {
    await gh?.stop();
  });

  it('makes a root that lives a year and permits only local names and the configured ones (openssl x509 -text)', async () => {
    const { stdout } = await run('openssl', ['x509', '-noout', '-text', '-in', gh.caFile]);
    expect(stdout).to.match(/X509v3 Name Constraints: critical\n\s+Permitted:\n/);
    for (const entry of ['DNS:localhost', 'DNS:test', 'DNS:home.arpa', 'DNS:app.corp', 'IP:10.0.0.0/255.0.0.0', 'IP:203.0.113.7/255.255.255.255']) {
      expect(stdout).to.include(entry);
    }
    const root = new X509Certificate(fs.readFileSync(gh.caFile));
    expect(Date.parse(root.validTo) - Date.parse(root.validFrom)).to.be.at.most(365 * DAY + 3600_000);
  });

  it('is trusted by curl for a local name and for a configured name outside the local suffixes', async () => {
    expect((await get('s.test', gh.caFile)).body.toString()).to.equal('s');
    const corp = await get('app.corp', gh.caFile);
    expect([corp.status, corp.body.toString()], corp.stderr).to.deep.equal([200, 'corp']);
  });

  it('a site added later outside the constraints: check warns, and after SIGHUP it is served from an announced successor root', async () => {
    const next = path.join(gh.dir, 'certs', 'internal-ca', 'next.crt');
    sites.push({ hosts: ['later.corp'], tls: 'internal', routes: [{ location: '/', return: '200 later' }] });
    gh.writeConfig(config());
    const check = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI, 'check', '-c', gh.configFile], { timeout: 20_000 }, (err, _out, stderr) => resolve({ code: err ? 1 : 0, stderr }));
    });
    expect(check.code, check.stderr).to.equal(0);
    expect(check.stderr).to.match(/warning: internal CA: the stored root does not permit later\.corp .*clients must trust that root/);
    expect(fs.existsSync(next), 'check changes nothing').to.equal(false);

    process.kill(gh.peer.pid, 'SIGHUP');
    await gh.peer.waitForOutput(/internal CA: made a new root that takes over on .*does not permit later\.corp/);
    // The root is announced before the new site's leaf is issued and the new table swapped in.
    await gh.peer.waitForOutput(/made a new root[\s\S]*configuration reloaded/);
    const rootPem = fs.readFileSync(gh.caFile);
    const later = await get('later.corp', next);
    expect([later.status, later.body.toString()], later.stderr).to.deep.equal([200, 'later']);
    const untrusted = await get('later.corp', gh.caFile);
    expect(untrusted.exitCode, 'the current root cannot vouch for later.corp').to.equal(60);
    expect((await get('s.test', gh.caFile)).status, 'the other sites keep their root').to.equal(200);
    expect(fs.readFileSync(gh.caFile).equals(rootPem)).to.equal(true);
  });
});
