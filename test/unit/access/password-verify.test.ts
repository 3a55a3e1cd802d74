// Every hash scheme against vectors made at run time by the tools people make htpasswd files with:
// Debian's htpasswd (apache2-utils: -B bcrypt, -m $apr1$, -s {SHA}, -2/-5 SHA-crypt) and
// `openssl passwd` (-1, -apr1, -5, -6, with and without rounds=).
import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { hashScheme, parseHtpasswd, type HashScheme } from '../../../src/config/htpasswd-lines.js';
import { verifyPassword } from '../../../src/access/password-verify.js';

function htpasswd(flags: string[], user: string, password: string): string {
  const line = execFileSync('htpasswd', ['-nb', ...flags, user, password], { encoding: 'latin1' }).trim();
  return line.slice(line.indexOf(':') + 1);
}

function openssl(flags: string[], password: string): string {
  return execFileSync('openssl', ['passwd', ...flags, '-stdin'], { input: Buffer.from(password, 'utf8'), encoding: 'latin1' }).trim();
}

function schemeOf(hash: string): HashScheme {
  const s = hashScheme(hash);
  if (typeof s !== 'string') throw new Error(`${hash}: ${s.problem}`);
  return s;
}

async function verifies(hash: string, password: string | Buffer): Promise<boolean> {
  return verifyPassword(schemeOf(hash), hash, Buffer.isBuffer(password) ? password : Buffer.from(password, 'utf8'));
}

const PASSWORDS = ['secret', 'pässwörd', 'a much longer pass phrase with spaces: and colons', 'x'];

describe('access/password-verify', function () {
  this.timeout(60_000);

  const makers: Array<[string, (pw: string) => string, HashScheme]> = [
    ['htpasswd -B (bcrypt $2y$)', (pw) => htpasswd(['-B'], 'u', pw), 'bcrypt'],
    ['htpasswd -B -C 4', (pw) => htpasswd(['-B', '-C', '4'], 'u', pw), 'bcrypt'],
    ['htpasswd -m ($apr1$)', (pw) => htpasswd(['-m'], 'u', pw), 'apr1'],
    ['htpasswd -s ({SHA})', (pw) => htpasswd(['-s'], 'u', pw), 'sha1'],
    ['htpasswd -2 ($5$)', (pw) => htpasswd(['-2'], 'u', pw), 'sha256-crypt'],
    ['htpasswd -5 ($6$)', (pw) => htpasswd(['-5'], 'u', pw), 'sha512-crypt'],
    ['openssl passwd -apr1', (pw) => openssl(['-apr1'], pw), 'apr1'],
    ['openssl passwd -1', (pw) => openssl(['-1'], pw), 'md5-crypt'],
    ['openssl passwd -5', (pw) => openssl(['-5'], pw), 'sha256-crypt'],
    ['openssl passwd -6', (pw) => openssl(['-6'], pw), 'sha512-crypt'],
    ['openssl passwd -5 rounds=1000', (pw) => openssl(['-5', '-salt', 'rounds=1000$saltsalt'], pw), 'sha256-crypt'],
    ['openssl passwd -6 rounds=12345', (pw) => openssl(['-6', '-salt', 'rounds=12345$abc'], pw), 'sha512-crypt'],
  ];

  for (const [name, make, scheme] of makers) {
    it(`${name}: the right password passes, a wrong one fails`, async () => {
      for (const pw of PASSWORDS) {
        const hash = make(pw);
        expect(schemeOf(hash), hash).to.equal(scheme);
        expect(await verifies(hash, pw), `${hash} with ${pw}`).to.equal(true);
        expect(await verifies(hash, `${pw}!`), `${hash} with ${pw}!`).to.equal(false);
        expect(await verifies(hash, ''), `${hash} empty`).to.equal(false);
      }
    });
  }

  it('$2a$ and $2b$ bcrypt lines (other tools) verify like $2y$: the prefixes differ only past 255-byte passwords', async () => {
    const y = htpasswd(['-B', '-C', '4'], 'u', 'secret');
    for (const prefix of ['$2a$', '$2b$']) {
      const hash = prefix + y.slice(4);
      expect(await verifies(hash, 'secret'), hash).to.equal(true);
      expect(await verifies(hash, 'Secret'), hash).to.equal(false);
    }
  });

  it('{SSHA} and {PLAIN} (nginx ngx_crypt schemes)', async () => {
    const ssha = `{SSHA}${Buffer.concat([
      execFileSync('openssl', ['dgst', '-sha1', '-binary'], { input: Buffer.concat([Buffer.from('secret'), Buffer.from('salty')]) }),
      Buffer.from('salty'),
    ]).toString('base64')}`;
    expect(await verifies(ssha, 'secret')).to.equal(true);
    expect(await verifies(ssha, 'secreT')).to.equal(false);
    expect(await verifies('{PLAIN}secret', 'secret')).to.equal(true);
    expect(await verifies('{PLAIN}secret', 'secret ')).to.equal(false);
  });

  it('a password that is not UTF-8 fails the schemes that hash UTF-8 text, instead of matching U+FFFD', async () => {
    const hash = htpasswd(['-B', '-C', '4'], 'u', '\uFFFD');
    expect(await verifies(hash, '\uFFFD')).to.equal(true);
    expect(await verifies(hash, Buffer.from([0xff]))).to.equal(false);
  });

  it('latin1 bytes reach $apr1$ and {SHA} as the bytes the client sent', async () => {
    const bytes = Buffer.from([0x70, 0xe4, 0x73, 0x73]); // "päss" in latin1
    const apr1 = execFileSync('openssl', ['passwd', '-apr1', '-stdin'], { input: bytes, encoding: 'latin1' }).trim();
    expect(await verifies(apr1, bytes)).to.equal(true);
    expect(await verifies(apr1, Buffer.from('päss', 'utf8'))).to.equal(false);
  });

  it('refuses DES crypt(3), over-costly hashes and unknown schemes with a reason', () => {
    const des = execFileSync('htpasswd', ['-nbd', 'u', 'secret'], { encoding: 'latin1' }).trim().split(':')[1]!;
    expect(hashScheme(des)).to.have.property('problem').that.matches(/DES crypt\(3\).*htpasswd -B/);
    expect(hashScheme('$2y$18$' + 'a'.repeat(53))).to.have.property('problem').that.matches(/cost 18/);
    expect(hashScheme(openssl(['-5', '-salt', 'rounds=2000000$ab'], 'x'))).to.have.property('problem').that.matches(/rounds=2000000/);
    expect(hashScheme('secret')).to.have.property('problem').that.matches(/unrecognised/);
    expect(hashScheme('$apr1$abc$short')).to.have.property('problem').that.matches(/malformed/);
  });

  it('reads lines as nginx does: comments, CR, user:hash:comment, first line of a user wins', () => {
    const sha = htpasswd(['-s'], 'u', 'pw');
    const text = ['# comment', '', `alice:${sha}:Alice Liddell`, `bob:${sha}\r`, `alice:{PLAIN}other`, 'nocolon', `:${sha}`, `carol:${sha}`].join('\n');
    const { entries, problems } = parseHtpasswd(text);
    expect([...entries.keys()]).to.deep.equal(['alice', 'bob', 'carol']);
    expect(entries.get('alice')).to.include({ hash: sha, line: 3 });
    expect(entries.get('bob')).to.include({ hash: sha, line: 4 });
    expect(problems.map((p) => p.line)).to.deep.equal([5, 6, 7]);
    expect(problems.every((p) => p.severity === 'warning')).to.equal(true);
  });
});
