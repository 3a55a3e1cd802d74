// issue 17: access. The access keys of sites and routes: values, inheritance, and every mistake
// reported at its FILE:LINE:COL with a did-you-mean where one helps.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { expectErrorAt, expectWarningAt, lines, valid } from './helpers.js';

const HEAD = ['listen: { http: 8080 }', 'sites:', '  - hosts: a.test', '    tls: off'];
const ROUTES = ['    routes:', '      - location: /', '        return: 200'];

describe('config/access', () => {
  let dir: string;
  let file: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-cfg-access-'));
    file = path.join(dir, 'htpasswd');
    fs.writeFileSync(file, execFileSync('htpasswd', ['-nbB', '-C', '4', 'alice', 'pw'], { encoding: 'latin1' }));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads the four keys on a site and a route; a route replaces what it writes and inherits the rest', () => {
    const config = valid(
      lines(
        ...HEAD,
        "    access: [ { allow: 10.0.0.0/8 }, { allow: '::1' }, { allow: 'unix:' }, { deny: all } ]",
        `    auth: { realm: 'Restricted area', htpasswd: ${file} }`,
        '    satisfy: any',
        '    routes:',
        '      - location: /',
        '        return: 200',
        '      - location: /open/',
        '        auth: off',
        '        access: [ { allow: 127.0.0.1 } ]',
        '        forwardAuth: { url: http://127.0.0.1:9091/verify, copyHeaders: [Remote-User], set: { $user: $upstream_http_remote_user }, timeout: 5s }',
        '        return: 200',
      ),
    );
    const site = config.sites[0]!;
    expect(site.access).to.deep.equal([
      { action: 'allow', source: '10.0.0.0/8' },
      { action: 'allow', source: '::1' },
      { action: 'allow', source: 'unix:' },
      { action: 'deny', source: 'all' },
    ]);
    expect(site.auth).to.deep.equal({ realm: 'Restricted area', htpasswd: file });
    const [root, open] = site.routes;
    const accessOf = (r: typeof root) => ({ access: r!.access, auth: r!.auth, satisfy: r!.satisfy, forwardAuth: r!.forwardAuth });
    expect(accessOf(root)).to.deep.equal({ access: site.access, auth: site.auth, satisfy: 'any', forwardAuth: undefined });
    expect(accessOf(open)).to.deep.equal({
      access: [{ action: 'allow', source: '127.0.0.1' }],
      auth: 'off',
      satisfy: 'any',
      forwardAuth: { url: 'http://127.0.0.1:9091/verify', copyHeaders: ['Remote-User'], set: { user: '$upstream_http_remote_user' }, timeoutMs: 5000 },
    });
  });

  it('forwardAuth waits 60 s by default (nginx proxy_read_timeout); realm defaults to "Restricted"', () => {
    const config = valid(lines(...HEAD, '    forwardAuth: { url: https://auth.test/check }', `    auth: { htpasswd: ${file} }`, ...ROUTES));
    expect(config.sites[0]!.forwardAuth).to.deep.equal({ url: 'https://auth.test/check', copyHeaders: [], set: {}, timeoutMs: 60_000 });
    expect(config.sites[0]!.auth).to.deep.equal({ realm: 'Restricted', htpasswd: file });
  });

  describe('errors', () => {
    const at = (line: string): string[] => [...HEAD, line, ...ROUTES];
    it('access rules', () => {
      expectErrorAt(at('    access: [ { alow: 10.0.0.0/8 } ]'), 'alow', 'unknown key "alow" (did you mean "allow"?)');
      expectErrorAt(at('    access: [ { allow: 10.0.0.0/8, deny: all } ]'), '{ allow', 'either { allow: ADDRESS } or { deny: ADDRESS }');
      expectErrorAt(at('    access: [ { allow: 10.0.0.300 } ]'), '10.0.0.300', '"10.0.0.300" is not an address, a CIDR, all or unix:');
      expectErrorAt(at('    access: [ { deny: al } ]'), 'al ', '(did you mean "all"?)');
      expectErrorAt(at('    access: [ { deny: 10.0.0.0/33 } ]'), '10.0', 'is not an address, a CIDR');
      expectErrorAt(at('    access: deny'), 'deny', 'access must be a list of { allow: ADDRESS } and { deny: ADDRESS }');
    });

    it('auth', () => {
      expectErrorAt(at(`    auth: { realm: x, htpaswd: ${file} }`), 'htpaswd', 'unknown key "htpaswd" (did you mean "htpasswd"?)');
      expectErrorAt(at('    auth: of'), 'of', '(did you mean "off"?)', 2);
      expectErrorAt(at(`    auth: { realm: 'a"b', htpasswd: ${file} }`), "'a", 'realm may not contain "');
    });

    it('an htpasswd line no request could pass is an error; a missing file a warning', () => {
      const bad = path.join(dir, 'bad');
      fs.writeFileSync(bad, `ok:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=\n${execFileSync('htpasswd', ['-nbd', 'old', 'pw'], { encoding: 'latin1' })}`);
      expectErrorAt(at(`    auth: { htpasswd: ${bad} }`), bad, `${bad}:2: user "old": DES crypt(3) hashes are not supported`);
      expectWarningAt(at(`    auth: { htpasswd: ${dir}/none }`), `${dir}/none`, 'does not exist (requests get 403 until it does');
    });

    it('satisfy and forwardAuth', () => {
      expectErrorAt(at('    satisfy: al'), 'al', 'satisfy must be all or any (did you mean "all"?)');
      expectErrorAt(at('    forwardAuth: { ur: http://x }'), 'ur:', 'unknown key "ur" (did you mean "url"?)');
      expectErrorAt(at('    forwardAuth: { url: ftp://x }'), 'ftp', 'must be an http:// or https:// URL');
      expectErrorAt(at('    forwardAuth: { url: http://x, copyHeaders: [Bad Name] }'), 'Bad', '"Bad Name" is not a valid header name');
      expectErrorAt(at('    forwardAuth: { url: http://x, set: { user: $host } }'), 'user', '"user" is not a variable name like $user');
      expectErrorAt(at('    forwardAuth: { url: http://x, set: { $u: $hots } }'), '$hots', 'unknown variable "$hots" (did you mean "$host"?)');
      expectErrorAt(at('    forwardAuth: { url: http://x, timeout: 0 }'), '0 }', 'forwardAuth timeout must be more than 0', 2);
    });
  });

  it('warns at a CIDR whose host bits nginx would drop', () => {
    expectWarningAt([...HEAD, '    access: [ { allow: 10.1.1.1/8 } ]', ...ROUTES], '10.1.1.1/8', 'low address bits of 10.1.1.1/8 are meaningless');
  });
});
