// FastCGI servers under `upstreams:`: two real php-fpm pools (one on TCP, one on a unix socket)
// balanced round-robin by a route that names the upstream, and a dead server skipped for a live one.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { startPhpFpm } from '../helpers/cgi-peers.js';
import { curl } from '../helpers/curl.js';
import { startGatehouse, tempDir, type Gatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import type { Peer } from '../helpers/process.js';

describe('FastCGI upstreams (two php-fpm pools, integration)', function () {
  this.timeout(60_000);
  let dir: string;
  let fpm: Peer;
  let gh: Gatehouse;

  before(async () => {
    dir = tempDir('gh-cgi-up-');
    const www = path.join(dir, 'www');
    fs.mkdirSync(www);
    fs.chmodSync(www, 0o755);
    // fpm_get_status() names the pool that ran the script.
    fs.writeFileSync(path.join(www, 'pool.php'), '<?php echo fpm_get_status()["pool"], " ", $_SERVER["SCRIPT_NAME"], "|", $_SERVER["PATH_INFO"];\n');
    const port = await freePort();
    const dead = await freePort();
    const sock = path.join(dir, 'b.sock');
    fpm = await startPhpFpm(dir, [
      { name: 'poola', listen: `127.0.0.1:${port}`, maxChildren: 1 },
      { name: 'poolb', listen: sock, maxChildren: 1 },
    ]);
    gh = await startGatehouse(() => ({
      log: { access: 'off' },
      upstreams: {
        php: { servers: [`fastcgi://127.0.0.1:${port}`, `fastcgi+unix:${sock}`] },
        half: { servers: [`fastcgi://127.0.0.1:${dead}`, `fastcgi://127.0.0.1:${port}`], maxFails: 1, failTimeout: '30s' },
      },
      sites: [
        { hosts: ['a.test'], routes: [{ location: '~ \\.php(/|$)', proxy: 'php', root: www }] },
        { hosts: ['h.test'], routes: [{ location: '~ \\.php(/|$)', proxy: 'fastcgi://half', root: www }] },
      ],
    }));
  });

  after(async () => {
    await gh?.stop();
    await fpm?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = async (host: string, p: string): Promise<string> => {
    const r = await curl(gh.curlArgs(host, p));
    expect(r.status, r.body.toString()).to.equal(200);
    return r.body.toString();
  };

  it('balances a named upstream round-robin over a TCP and a unix-socket pool, with the FastCGI params', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await get('a.test', `/pool.php/x/${i}`));
    expect(seen.map((s) => s.split(' ')[0])).to.have.members(['poola', 'poolb', 'poola', 'poolb', 'poola', 'poolb']);
    expect(new Set(seen.slice(0, 2).map((s) => s.split(' ')[0])).size).to.equal(2);
    expect(seen[5]).to.match(/ \/pool\.php\|\/x\/5$/);
  });

  it('skips a server that refuses connections and serves every request from the live one', async () => {
    const pools: string[] = [];
    for (let i = 0; i < 4; i++) pools.push((await get('h.test', '/pool.php')).split(' ')[0] ?? '');
    expect(pools).to.deep.equal(['poola', 'poola', 'poola', 'poola']);
  });
});
