// The lines of an htpasswd file (auth_basic_user_file), read the way nginx's
// ngx_http_auth_basic_handler reads them, and which password hash each one holds. Shared by the
// loader's check (config/access.ts) and the runtime (access/htpasswd.ts). The text is handled as
// latin1, one char per byte, since nginx compares the user name byte by byte.

/** The hash schemes gatehouse verifies (nginx's ngx_crypt plus what Debian's crypt(3) adds). */
export type HashScheme = 'bcrypt' | 'apr1' | 'md5-crypt' | 'sha256-crypt' | 'sha512-crypt' | 'sha1' | 'ssha' | 'plain';

export interface HtpasswdEntry {
  /** latin1 string of the user name's bytes. */
  user: string;
  hash: string;
  /** undefined for a hash that cannot be verified (`problem` says why): its user always fails. */
  scheme: HashScheme | undefined;
  problem?: string;
  /** 1-based line number in the file. */
  line: number;
}

export interface HtpasswdProblem {
  line: number;
  message: string;
  severity: 'error' | 'warning';
}

export interface ParsedHtpasswd {
  /** First line per user wins, as in nginx (it stops at the first line whose name matches). */
  entries: Map<string, HtpasswdEntry>;
  problems: HtpasswdProblem[];
}

const B64CRYPT = '[./0-9A-Za-z]';
const BCRYPT = new RegExp(`^\\$2[aby]\\$(\\d\\d)\\$${B64CRYPT}{53}$`);
const MD5CRYPT = new RegExp(`^\\$(apr1|1)\\$[^$]{0,8}\\$${B64CRYPT}{22}$`);
const SHACRYPT = new RegExp(`^\\$([56])\\$(?:rounds=(\\d+)\\$)?[^$]{0,16}\\$(${B64CRYPT}+)$`);
const DES = new RegExp(`^${B64CRYPT}{13}$`);

/**
 * SHA-crypt allows 999,999,999 rounds; each request with a new password would pay them all
 * (glibc's default is 5,000, `htpasswd` and `openssl passwd` write 5,000).
 */
export const MAX_SHA_ROUNDS = 1_000_000;
/** bcrypt cost 2^N; `htpasswd -C` stops at 17, and every unknown password pays it. */
export const MAX_BCRYPT_COST = 17;

/** The scheme of a stored hash, or why it cannot be used. */
export function hashScheme(hash: string): HashScheme | { problem: string } {
  if (hash.startsWith('$2')) {
    const m = BCRYPT.exec(hash);
    if (!m) return { problem: 'malformed bcrypt hash' };
    const cost = Number(m[1]);
    if (cost < 4 || cost > MAX_BCRYPT_COST) return { problem: `bcrypt cost ${cost} is outside 4-${MAX_BCRYPT_COST}` };
    return 'bcrypt';
  }
  if (hash.startsWith('$apr1$') || hash.startsWith('$1$')) {
    const m = MD5CRYPT.exec(hash);
    if (!m) return { problem: `malformed $${hash.startsWith('$1$') ? '1' : 'apr1'}$ MD5 hash` };
    return m[1] === 'apr1' ? 'apr1' : 'md5-crypt';
  }
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) {
    const m = SHACRYPT.exec(hash);
    const length = m?.[1] === '5' ? 43 : 86;
    if (!m || m[3]!.length !== length) return { problem: `malformed $${hash[1]}$ SHA-crypt hash` };
    if (m[2] !== undefined && Number(m[2]) > MAX_SHA_ROUNDS) {
      return { problem: `SHA-crypt rounds=${m[2]} is over ${MAX_SHA_ROUNDS} (each login attempt would pay them)` };
    }
    return m[1] === '5' ? 'sha256-crypt' : 'sha512-crypt';
  }
  if (hash.startsWith('{SHA}')) return /^[A-Za-z0-9+/]{27}=$/.test(hash.slice(5)) ? 'sha1' : { problem: 'malformed {SHA} hash' };
  if (hash.startsWith('{SSHA}')) {
    const raw = hash.slice(6);
    return /^[A-Za-z0-9+/]+={0,2}$/.test(raw) && Buffer.from(raw, 'base64').length > 20 ? 'ssha' : { problem: 'malformed {SSHA} hash' };
  }
  if (hash.startsWith('{PLAIN}')) return 'plain';
  if (DES.test(hash)) {
    return { problem: 'DES crypt(3) hashes are not supported (they keep only 8 characters of a password); re-create the line with htpasswd -B' };
  }
  return { problem: 'unrecognised password hash (supported: bcrypt $2y$/$2a$/$2b$, $apr1$, $1$, $5$, $6$, {SHA}, {SSHA}, {PLAIN})' };
}

/**
 * nginx's reading: a line starting with `#` or CR is skipped, the name runs to the first `:`, the
 * password to the next `:`, CR or LF (so `user:hash:comment` works). A line without `:` never matches.
 */
export function parseHtpasswd(text: string): ParsedHtpasswd {
  const entries = new Map<string, HtpasswdEntry>();
  const problems: HtpasswdProblem[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw === '' || raw.startsWith('#') || raw.startsWith('\r')) return;
    const colon = raw.indexOf(':');
    if (colon < 0) {
      problems.push({ line, message: 'line has no ":" between user and password; it never matches', severity: 'warning' });
      return;
    }
    const user = raw.slice(0, colon);
    const rest = raw.slice(colon + 1);
    const end = rest.search(/[\r:]/);
    const hash = end < 0 ? rest : rest.slice(0, end);
    if (user === '') {
      problems.push({ line, message: 'empty user name; it never matches', severity: 'warning' });
      return;
    }
    if (entries.has(user)) {
      problems.push({ line, message: `user "${user}" is already on line ${entries.get(user)!.line}; this line is never used`, severity: 'warning' });
      return;
    }
    const scheme = hashScheme(hash);
    if (typeof scheme !== 'string') {
      problems.push({ line, message: `user "${user}": ${scheme.problem}`, severity: 'error' });
      entries.set(user, { user, hash, scheme: undefined, problem: scheme.problem, line });
      return;
    }
    if (scheme === 'plain') problems.push({ line, message: `user "${user}": password stored in plain text ({PLAIN})`, severity: 'warning' });
    entries.set(user, { user, hash, scheme, line });
  });
  return { entries, problems };
}
